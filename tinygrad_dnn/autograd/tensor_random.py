"""``Tensor``'s sampling methods: ``bernoulli(_)`` and ``multinomial``, drawn by the backend's generator
(or an explicit ``generator=``), with PyTorch's argument checks."""
from __future__ import annotations

import builtins

Tensor = _wrap = None  # bound by tensor.py


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


class RandomMethods:
    """Sampling methods of ``Tensor`` (a mixin)."""

    __slots__ = ()

    # ------------------------------------------------------------ sampling
    def bernoulli(self, p=None, *, generator=None):
        """0/1 samples (self's dtype) with probability self (or ``p``); drawn by the backend's generator."""
        b = self.backend
        prob = self._data if p is None else (p._data if isinstance(p, Tensor) else p)
        if isinstance(prob, builtins.float) or isinstance(prob, builtins.int):
            if not 0 <= prob <= 1:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={prob}")
        elif builtins.bool(b.xp.any((prob < 0) | (prob > 1))):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        u = b.uniform(self._data.shape, b.xp.float64, generator=generator)
        return _wrap(b.xp.astype(u < prob, self._data.dtype), b)

    def bernoulli_(self, p=0.5, *, generator=None):
        out = self.bernoulli(p if isinstance(p, Tensor) else p, generator=generator) if isinstance(p, Tensor) \
            else _wrap(self.backend.xp.astype(self.backend.uniform(self._data.shape, self.backend.xp.float64,
                                                                   generator=generator) < p, self._data.dtype),
                       self.backend)
        return self.copy_(out)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """``num_samples`` category indices per row drawn with probabilities proportional to self (1-d or 2-d);
        without replacement each index at most once (Gumbel top-k). Uses the backend's generator."""
        if self.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        if not self.dtype.is_floating_point:
            raise RuntimeError("multinomial only supports floating-point dtypes for input")
        b = self.backend
        xp = b.xp
        p = xp.astype(self._data if self.ndim == 2 else self._data[None, :], xp.float64)
        n = p.shape[-1]
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        if not replacement and num_samples > n:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        if builtins.bool(xp.any(~xp.isfinite(p))) or builtins.bool(xp.any(p < 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        total = xp.sum(p, axis=-1, keepdims=True)
        if builtins.bool(xp.any(total <= 0)):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        rows = p.shape[0]
        if replacement:
            cdf = xp.cumulative_sum(p / total, axis=-1)
            u = b.uniform((rows, num_samples), xp.float64, generator=generator)
            idx = xp.sum(xp.astype(cdf[:, None, :] <= u[:, :, None], xp.int64), axis=-1)
            idx = xp.clip(idx, 0, n - 1)
        else:
            u = b.uniform((rows, n), xp.float64, generator=generator)
            keys = xp.where(p > 0, xp.log(1.0 - u) / p, -xp.inf)  # -Exp(1)/p: top-k is a draw without replacement
            idx = b.argsort(keys, 1, True)[:, :num_samples]
        idx = xp.astype(idx, xp.int64)
        return _wrap(idx if self.ndim == 2 else idx[0, :], b)
