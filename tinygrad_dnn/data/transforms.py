"""Preprocessing and augmentation on Tensors (any device).

Every transform is called as ``t(x)`` -> ``x`` or ``t(x, y)`` -> ``(x, y)``; the ones that only
touch the inputs pass ``y`` through, and :class:`Mixup` / :class:`CutMix` mix the labels too. So a
:class:`Compose` of them can be handed to ``DataLoader(..., batch_transform=...)``.

Fitted transforms (:class:`Standardize`, :class:`PCA`, :class:`Whitening`,
:class:`SubtractChannelMean`) learn their statistics with ``fit(x_train)`` and are then applied
unchanged to validation/test data (never fit on the test set). Their statistics are computed in
float64 on the host (SVD via NumPy: this package is the host-side boundary) and kept as Tensors
that follow the input's device and dtype.

Random augmentations draw from ``generator=`` / ``seed=`` when given (their own generator), else
from the global generator of ``tinygrad_dnn.manual_seed``. Augmentations act on whole batches:
images are (N, C, H, W) (a single (C, H, W) image is also accepted).
"""
from __future__ import annotations

import math

import numpy as np

from .. import autograd as _ag
from ._rng import as_generator, host_rng


def _as_tensor(x):
    return x if isinstance(x, _ag.Tensor) else _ag.tensor(np.asarray(x))


def _host(x):
    """float64 host copy of a Tensor (explicit device -> host transfer) or array."""
    if isinstance(x, _ag.Tensor):
        return np.asarray(x.detach().numpy(), dtype=np.float64)
    return np.asarray(x, dtype=np.float64)


class Transform:
    """Base class: subclasses implement ``apply(x)`` (inputs only) or override ``__call__``."""

    def __call__(self, x, y=None):
        out = self.apply(_as_tensor(x))
        return out if y is None else (out, y)

    def apply(self, x):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class _Fitted(Transform):
    _stats = ()

    def __init__(self):
        self._cache = {}
        self._host_stats = None

    @property
    def fitted(self):
        return self._host_stats is not None

    def fit(self, x):
        self._host_stats = {k: np.asarray(v, dtype=np.float64) for k, v in self._fit(_host(x)).items()}
        self._cache = {}
        return self

    def fit_transform(self, x, y=None):
        return self.fit(x)(x, y)

    def _stat(self, name, like):
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__}: call fit(x_train) before transforming data")
        key = (name, str(like.device), like.dtype.name)
        if key not in self._cache:
            self._cache[key] = _ag.tensor(self._host_stats[name], dtype=like.dtype, device=like.device)
        return self._cache[key]

    def _check_float(self, x):
        if not x.dtype.is_floating_point:
            raise TypeError(f"{type(self).__name__}: expected a floating-point tensor, got {x.dtype}; call .float() first")

    def state_dict(self):
        """The fitted statistics as NumPy arrays (for ``tinygrad_dnn.save``)."""
        return {} if self._host_stats is None else {k: v.copy() for k, v in self._host_stats.items()}

    def load_state_dict(self, state):
        self._host_stats = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
        self._cache = {}
        return self

    def __getattr__(self, name):
        stats = self.__dict__.get("_host_stats")
        if stats is not None and name.endswith("_") and name[:-1] in stats:
            return stats[name[:-1]]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ fitted preprocessing
class Standardize(_Fitted):
    """``(x - mean) / std`` with mean and std (population, ``correction=0``) fitted on the training set.

    Statistics are taken over ``dim`` (default 0, i.e. one per feature). Features with
    ``std < eps`` (e.g. always-blank pixels) are only centred (std treated as 1).
    Fitted values: ``mean_``, ``std_`` (NumPy).
    """

    def __init__(self, dim=0, eps=1e-8):
        super().__init__()
        self.dim = (dim,) if isinstance(dim, int) else tuple(dim)
        self.eps = eps

    def _fit(self, x):
        mean = x.mean(axis=self.dim, keepdims=True)
        std = x.std(axis=self.dim, keepdims=True)
        return {"mean": mean, "std": np.where(std < self.eps, 1.0, std)}

    def apply(self, x):
        self._check_float(x)
        return (x - self._stat("mean", x)) / self._stat("std", x)

    def inverse_transform(self, x):
        x = _as_tensor(x)
        return x * self._stat("std", x) + self._stat("mean", x)

    def __repr__(self):
        return f"Standardize(dim={self.dim}, eps={self.eps})"


class SubtractChannelMean(_Fitted):
    """Per-channel mean subtraction for images (N, C, H, W) or signals (N, C, L): one mean per channel,
    over the samples and all spatial positions of the training set (``channel_dim=1``)."""

    def __init__(self, channel_dim=1):
        super().__init__()
        self.channel_dim = channel_dim

    def _fit(self, x):
        if x.ndim < 2:
            raise ValueError(f"SubtractChannelMean: expected (N, C, ...) data, got shape {x.shape}")
        cd = self.channel_dim % x.ndim
        return {"mean": x.mean(axis=tuple(d for d in range(x.ndim) if d != cd), keepdims=True)[0]}

    def apply(self, x):
        self._check_float(x)
        return x - self._stat("mean", x)

    def inverse_transform(self, x):
        x = _as_tensor(x)
        return x + self._stat("mean", x)


class PCA(_Fitted):
    """Principal component analysis by SVD of the centred training data ``X - mean = U S VT``.

    ``transform(x) = (x - mean) @ VT[:k].T`` (the coordinates along the top ``k = n_components``
    principal directions). Fitted values: ``mean_`` (D,), ``components_`` (k, D) = VT[:k],
    ``singular_values_`` (k,), ``explained_variance_`` = S^2 / (N - 1) and ``explained_variance_ratio_``.
    """

    def __init__(self, n_components=None):
        super().__init__()
        self.n_components = n_components

    def _fit(self, x):
        if x.ndim != 2:
            raise ValueError(f"{type(self).__name__}: expected (N, D) data, got shape {x.shape}; flatten it first")
        n, d = x.shape
        mean = x.mean(0)
        _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        k = min(n, d) if self.n_components is None else int(self.n_components)
        if not 1 <= k <= min(n, d):
            raise ValueError(f"{type(self).__name__}: n_components={self.n_components} must be in [1, {min(n, d)}]")
        var = s ** 2 / max(n - 1, 1)
        return {"mean": mean, "components": vt[:k], "singular_values": s[:k], "explained_variance": var[:k],
                "explained_variance_ratio": var[:k] / var.sum(), "n_samples": np.asarray(float(n))}

    def apply(self, x):
        self._check_float(x)
        return (x - self._stat("mean", x)) @ self._stat("components", x).T

    def inverse_transform(self, z):
        z = _as_tensor(z)
        return z @ self._stat("components", z) + self._stat("mean", z)


class Whitening(PCA):
    """PCA whitening as in the lectures: ``x_white = (x - mean) @ VT.T / (S + eps)``.

    With ``scale='std'`` (default) ``S`` is the standard deviation along each principal direction,
    ``singular_value / sqrt(N)``, so the whitened training data has covariance ~ identity
    (``(1/N) Xw^T Xw = I`` up to ``eps``). ``scale='singular'`` divides by the raw singular values
    (the whitened training matrix is then ``U``: orthonormal columns, covariance ``I / N``).
    ``zca=True`` rotates back (``... @ VT``), giving ZCA whitening that stays close to the input.
    """

    def __init__(self, n_components=None, eps=1e-5, scale="std", zca=False):
        super().__init__(n_components)
        if scale not in ("std", "singular"):
            raise ValueError(f"Whitening: scale must be 'std' or 'singular', got {scale!r}")
        self.eps, self.scale, self.zca = eps, scale, zca

    def _fit(self, x):
        st = super()._fit(x)
        s = st["singular_values"]
        st["divisor"] = (s / math.sqrt(x.shape[0]) if self.scale == "std" else s) + self.eps
        return st

    def apply(self, x):
        z = super().apply(x) / self._stat("divisor", x)
        return z @ self._stat("components", x) if self.zca else z

    def inverse_transform(self, z):
        z = _as_tensor(z)
        if self.zca:
            z = z @ self._stat("components", z).T
        return super().inverse_transform(z * self._stat("divisor", z))


# ------------------------------------------------------------------ random augmentation
class _Random(Transform):
    def __init__(self, generator=None, seed=None):
        if generator is not None and seed is not None:
            raise ValueError(f"{type(self).__name__}: pass either generator= or seed=, not both")
        # an owned Generator (an int seed must not restart the stream on every call)
        self.generator = None if generator is None and seed is None else as_generator(generator, seed)

    @property
    def rng(self):
        return host_rng(self.generator)


def _images(x, name):
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ValueError(f"{name}: expected images (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    return x, False


class GaussianNoise(_Random):
    """Add ``N(0, std^2)`` noise to the inputs (a regularizer; use on training batches only)."""

    def __init__(self, std=0.1, generator=None, seed=None):
        super().__init__(generator, seed)
        self.std = float(std)

    def apply(self, x):
        if not x.dtype.is_floating_point:
            raise TypeError(f"GaussianNoise: expected a floating-point tensor, got {x.dtype}")
        noise = self.rng.normal(0.0, self.std, size=tuple(x.shape)).astype(x.dtype.name)
        return x + _ag.tensor(noise, device=x.device)

    def __repr__(self):
        return f"GaussianNoise(std={self.std})"


class RandomCrop(_Random):
    """Pad each image by ``padding`` zeros on every side, then crop a random ``size`` window (per sample)."""

    def __init__(self, size, padding=0, generator=None, seed=None):
        super().__init__(generator, seed)
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = int(padding)

    def apply(self, x):
        x, single = _images(x, "RandomCrop")
        if self.padding:
            x = _ag.pad(x, (self.padding,) * 4)
        n, _, hp, wp = x.shape
        h, w = self.size
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop {self.size} larger than padded image {(hp, wp)}")
        dy = self.rng.integers(0, hp - h + 1, size=n)
        dx = self.rng.integers(0, wp - w + 1, size=n)
        keys = dy * (wp + 1) + dx
        parts, order = [], []
        for key in np.unique(keys):
            idx = np.flatnonzero(keys == key)
            a, b = int(dy[idx[0]]), int(dx[idx[0]])
            sub = x if len(idx) == n else x[_ag.tensor(idx, device=x.device)]
            parts.append(sub[:, :, a:a + h, b:b + w])
            order.append(idx)
        out = parts[0] if len(parts) == 1 else _ag.cat(parts, 0)
        if len(parts) > 1:
            inv = np.empty(n, dtype=np.int64)
            inv[np.concatenate(order)] = np.arange(n)
            out = out[_ag.tensor(inv, device=x.device)]
        return out[0] if single else out

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomFlip(_Random):
    """Flip each image left-right (``dim=-1``; ``dim=-2`` for up-down) with probability ``p``.
    Works for any batch (N, ..., W) of images or signals."""

    def __init__(self, p=0.5, dim=-1, generator=None, seed=None):
        super().__init__(generator, seed)
        self.p, self.dim = float(p), dim

    def apply(self, x):
        if x.ndim < 2:
            raise ValueError(f"RandomFlip: expected a batch (N, ...), got shape {tuple(x.shape)}")
        n = x.shape[0]
        d = self.dim % x.ndim
        flip = self.rng.random(n) < self.p
        if not flip.any():
            return x
        rev = _ag.tensor(np.arange(x.shape[d] - 1, -1, -1), device=x.device)
        key = (slice(None),) * d + (rev,)
        flipped = x[key]
        if flip.all():
            return flipped
        mask = _ag.tensor(flip.reshape((n,) + (1,) * (x.ndim - 1)), device=x.device)
        return _ag.where(mask, flipped, x)

    def __repr__(self):
        return f"RandomFlip(p={self.p}, dim={self.dim})"


RandomHorizontalFlip = RandomFlip


class Cutout(_Random):
    """Cutout (DeVries & Taylor 2017): zero ``n_holes`` random squares of side ``size`` in each image.

    Per image and hole: a centre ``(cy, cx)`` uniform over the ``H x W`` pixels, the square
    ``[cy - size//2, cy - size//2 + size) x [cx - size//2, cx - size//2 + size)`` clipped at the
    borders (so a hole near an edge is smaller), all channels set to 0. Holes may overlap. The last
    draw is kept in ``last_boxes``: an int array (N, n_holes, 4) of (y0, y1, x0, x1). Inputs only
    (labels pass through); use it on training batches.
    """

    def __init__(self, size, n_holes=1, generator=None, seed=None):
        super().__init__(generator, seed)
        if int(size) < 0 or int(size) != size:
            raise ValueError(f"Cutout: size must be a non-negative integer, got {size!r}")
        if int(n_holes) < 0 or int(n_holes) != n_holes:
            raise ValueError(f"Cutout: n_holes must be a non-negative integer, got {n_holes!r}")
        self.size, self.n_holes = int(size), int(n_holes)
        self.last_boxes = None

    def apply(self, x):
        x, single = _images(x, "Cutout")
        n, _, h, w = x.shape
        rng = self.rng
        cy = rng.integers(0, h, size=(n, self.n_holes))
        cx = rng.integers(0, w, size=(n, self.n_holes))
        y0, x0 = np.clip(cy - self.size // 2, 0, h), np.clip(cx - self.size // 2, 0, w)
        y1 = np.clip(cy - self.size // 2 + self.size, 0, h)
        x1 = np.clip(cx - self.size // 2 + self.size, 0, w)
        self.last_boxes = np.stack([y0, y1, x0, x1], axis=-1)
        keep = np.ones((n, 1, h, w), dtype=bool)
        for i in range(n):
            for a, b, c, d in self.last_boxes[i]:
                keep[i, 0, a:b, c:d] = False
        out = x * _ag.tensor(keep.astype(x.dtype.name), device=x.device)
        return out[0] if single else out

    def __repr__(self):
        return f"Cutout(size={self.size}, n_holes={self.n_holes})"


def _soft_labels(y, num_classes, name):
    if y is None:
        raise ValueError(f"{name}: needs labels; call it as {name.lower()}(x, y)")
    y = _as_tensor(y)
    if y.dtype.is_floating_point:
        return y
    if num_classes is None:
        raise ValueError(f"{name}: integer labels need num_classes=... to build one-hot targets")
    return _ag.one_hot(y, num_classes).float()


class Mixup(_Random):
    """mixup (Zhang et al. 2018): ``x = lam x + (1 - lam) x[perm]``, same for one-hot labels.

    One ``lam ~ Beta(alpha, alpha)`` and one random pairing ``perm`` per batch. Returns
    ``(x_mixed, y_soft)`` with soft float targets (train with :func:`soft_target_cross_entropy`).
    The last draw is kept in ``last_lam`` and ``last_perm``.
    """

    def __init__(self, alpha=0.2, num_classes=None, generator=None, seed=None):
        super().__init__(generator, seed)
        if alpha <= 0:
            raise ValueError(f"Mixup: alpha must be > 0, got {alpha}")
        self.alpha, self.num_classes = float(alpha), num_classes
        self.last_lam = self.last_perm = None

    def _draw(self, n):
        rng = self.rng
        lam = float(rng.beta(self.alpha, self.alpha))
        return lam, rng.permutation(n)

    def __call__(self, x, y=None):
        x = _as_tensor(x)
        ys = _soft_labels(y, self.num_classes, type(self).__name__)
        lam, perm = self._draw(x.shape[0])
        p = _ag.tensor(perm, device=x.device)
        self.last_lam, self.last_perm = lam, perm
        return lam * x + (1.0 - lam) * x[p], lam * ys + (1.0 - lam) * ys[p.to(ys.device)]

    def __repr__(self):
        return f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes})"


class CutMix(Mixup):
    """CutMix (Yun et al. 2019): paste a random box from a paired image into each image (N, C, H, W).

    ``lam ~ Beta(alpha, alpha)``; the box has side ratio ``sqrt(1 - lam)``, a uniform random centre
    and is clipped at the border; the labels are mixed by the actual pasted area
    (``lam = 1 - box_area / (H W)``, kept in ``last_lam``; the box in ``last_box`` as (y0, y1, x0, x1)).
    """

    def __init__(self, alpha=1.0, num_classes=None, generator=None, seed=None):
        super().__init__(alpha, num_classes, generator, seed)
        self.last_box = None

    def __call__(self, x, y=None):
        x = _as_tensor(x)
        if x.ndim != 4:
            raise ValueError(f"CutMix: expected images (N, C, H, W), got shape {tuple(x.shape)}")
        ys = _soft_labels(y, self.num_classes, "CutMix")
        n, _, h, w = x.shape
        lam, perm = self._draw(n)
        rng = self.rng
        r = math.sqrt(1.0 - lam)
        ch, cw = int(h * r), int(w * r)
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2 + ch % 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2 + cw % 2, w)
        m = np.zeros((1, 1, h, w), dtype=x.dtype.name)
        m[..., y0:y1, x0:x1] = 1.0
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
        mask = _ag.tensor(m, device=x.device)
        p = _ag.tensor(perm, device=x.device)
        self.last_lam, self.last_perm, self.last_box = lam, perm, (y0, y1, x0, x1)
        return x * (1.0 - mask) + x[p] * mask, lam * ys + (1.0 - lam) * ys[p.to(ys.device)]


def soft_target_cross_entropy(logits, target):
    """Mean over the batch of ``-sum_c target_c log softmax(logits)_c`` (for mixup/CutMix targets)."""
    return -(target * logits.log_softmax(1)).sum(1).mean()


# ------------------------------------------------------------------ composition
class Compose(Transform):
    """Apply transforms in order: ``Compose([a, b])(x, y) == b(*a(x, y))``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x, y=None):
        for t in self.transforms:
            if y is None:
                x = t(x)
            else:
                x, y = t(x, y)
        return x if y is None else (x, y)

    def fit(self, x):
        """Fit each fitted transform on the output of the ones before it."""
        for t in self.transforms:
            if hasattr(t, "fit"):
                t.fit(x)
            x = t(x)
        return self

    def __repr__(self):
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


class Lambda(Transform):
    """Wrap a function of the inputs (``y`` passes through)."""

    def __init__(self, fn):
        self.fn = fn

    def apply(self, x):
        return self.fn(x)
