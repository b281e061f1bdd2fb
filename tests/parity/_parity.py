"""Shared by the parity tests: run one computation through tinygrad_dnn and PyTorch and compare
shapes, dtypes, values (nan where PyTorch has nan, the same infinities) and every input's gradient."""
import numpy as np
import pytest

import tinygrad_dnn as tg

torch = pytest.importorskip("torch")


def _name(dtype):
    return str(dtype).split(".")[-1]


def _check(a, b, rtol=1e-7, atol=0.0, what="value"):
    """Same shape, dtype and values (nan where torch has nan, same infinities)."""
    if b is None:
        assert a is None, f"{what}: torch has no gradient, we have one"
        return
    assert a is not None, f"{what}: torch has a gradient, we have None"
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != torch {tuple(b.shape)}"
    assert _name(a.dtype) == _name(b.dtype), f"{what}: dtype {a.dtype} != torch {b.dtype}"
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def diff(fn_ours, fn_torch, *arrays, device="cpu", dtype="float64", grad=True, rtol=1e-7, atol=0.0, weights=True,
         consts=()):
    """Run both libraries on the same inputs; compare every output and every input's gradient.

    ``consts``: indices of inputs passed as given without a gradient (e.g. int64 labels); ``weights``:
    random output weights for the backward pass (else ones)."""
    ours, theirs = [], []
    for i, a in enumerate(arrays):
        if i in consts:
            ours.append(tg.tensor(np.asarray(a), device=device))
            theirs.append(torch.tensor(np.asarray(a)))
        else:
            ours.append(tg.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=grad))
            theirs.append(torch.tensor(np.asarray(a), dtype=getattr(torch, dtype), requires_grad=grad))
    yo, yt = fn_ours(*ours), fn_torch(*theirs)
    yo = yo if isinstance(yo, tuple) else (yo,)
    yt = yt if isinstance(yt, tuple) else (yt,)
    for a, b in zip(yo, yt):
        _check(a, b, rtol, atol, "forward")
    if grad:
        diffable = [(a, b) for a, b in zip(yo, yt) if b.dtype.is_floating_point and b.requires_grad]
        lo, lt = 0, 0
        for k, (a, b) in enumerate(diffable):
            w = np.random.default_rng(k).uniform(0.5, 1.5, size=tuple(b.shape)) if weights else np.ones(tuple(b.shape))
            lo = lo + (a * tg.tensor(w, dtype=dtype, device=device)).sum()
            lt = lt + (b * torch.tensor(w, dtype=getattr(torch, dtype))).sum()
        lo.backward()
        lt.backward()
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _check(a.grad, b.grad, rtol, atol, f"gradient of input {i}")
    return yo, ours  # outputs always as a tuple
