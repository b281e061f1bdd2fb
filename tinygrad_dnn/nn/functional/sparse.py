"""Sparse functions of ``torch.nn.functional``: ``embedding`` (row lookup) and ``one_hot``."""
from __future__ import annotations

from ...autograd import creation as C
from ...autograd import dtype as _dt
from ...autograd import joining as J
from ...autograd.errors import check_same_device
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, _wrap

__all__ = ["embedding", "one_hot"]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """y[..., :] = weight[input[...], :] -- row lookup of an (num_embeddings, embedding_dim) table.

    It is ``one_hot(input) @ weight`` without building the one-hot matrix, so dL/dweight is the
    scatter-add of dL/dy into the looked-up rows (a row used twice gets both gradients).
    ``padding_idx``: rows at that index get no gradient (the lookup still returns the row's value).
    ``max_norm``: before the lookup, every looked-up row whose ``norm_type``-norm exceeds ``max_norm`` is
    rescaled IN PLACE (outside autograd) to w * max_norm / (norm + 1e-7), as PyTorch.
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"F.embedding: expected Tensors, got input {type(input).__name__} and weight "
                        f"{type(weight).__name__}")
    if input.dtype not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.dtype} instead (while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"F.embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{tuple(weight.shape)}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("F.embedding: scale_grad_by_freq=True and sparse=True are not implemented "
                                  "(gradients are dense); pass False")
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= n or padding_idx < -n:
            raise AssertionError(f"Padding_idx must be within num_embeddings (got padding_idx={padding_idx}, "
                                 f"num_embeddings={n})")
        padding_idx = padding_idx % n
    if input.backend is not weight.backend:
        check_same_device("F.embedding", indices=input, weight=weight)
    if input.numel():
        xp = input.backend.xp
        lo, hi = int(xp.min(input._data)), int(xp.max(input._data))
        if lo < 0 or hi >= n:
            raise IndexError(f"index out of range in self (F.embedding: indices in [{lo}, {hi}], num_embeddings={n})")
    if max_norm is not None:
        _renorm_rows_(weight, input, float(max_norm), float(norm_type))
    out = weight[input]
    if padding_idx is not None and weight.requires_grad:
        mask = (input == padding_idx).unsqueeze(-1)
        out = J.where(mask, out.detach(), out)
    return out


def _renorm_rows_(weight, input, max_norm, p):
    """weight[i] *= max_norm / (||weight[i]||_p + 1e-7) for the rows i in ``input`` whose norm exceeds max_norm."""
    be = weight.backend
    xp, w = be.xp, weight._data
    n = w.shape[0]
    idx = xp.reshape(input._data, (-1,))
    used = be.index_add((n,), w.dtype, (idx,), xp.ones(idx.shape, dtype=w.dtype, device=be.device)) > 0
    a = xp.abs(w)
    if p == float("inf"):
        norm = xp.max(a, axis=1)
    elif p == 2.0:
        norm = xp.sqrt(xp.sum(w * w, axis=1))
    else:
        norm = xp.sum(a ** p, axis=1) ** (1.0 / p)
    hit = xp.logical_and(used, norm > max_norm)
    if not bool(xp.any(hit)):
        return
    one = xp.ones(norm.shape, dtype=w.dtype, device=be.device)
    scale = xp.where(hit, max_norm / (norm + 1e-7), one)
    with no_grad():
        weight.copy_(_wrap(w * scale[:, None], be))


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding, shape ``tensor.shape + (num_classes,)``."""
    if num_classes >= 0 and tensor.numel():
        be = tensor.backend
        xp = be.xp
        if be.deferred_checks:  # a GPU: checked on the device, raised at the next synchronization
            be.check_index(tensor._data, num_classes, f"F.one_hot (num_classes={num_classes})", allow_negative=False)
            return C.one_hot(tensor, num_classes)
        lo, hi = int(xp.min(tensor._data)), int(xp.max(tensor._data))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"F.one_hot: class values must be in [0, {num_classes}), got values in [{lo}, {hi}] "
                             f"(labels of shape {tuple(tensor.shape)})")
    return C.one_hot(tensor, num_classes)
