"""Hypothesis strategies for shapes and values (needs the ``hypothesis`` package).

- ``broadcastable_shapes()``: pairs (a, b) that broadcast, with rank extension and size-1 middle dims.
- ``arrays(shape, domain)``: host float64 arrays away from kinks when ``domain='nonzero'``.
- ``tensors(...)``: tensors on a device, optionally non-contiguous (a transposed view).
"""
from __future__ import annotations

from hypothesis import strategies as st

from ..backend import get_backend

_hxp = get_backend("cpu").xp


@st.composite
def shapes(draw, min_dims=0, max_dims=3, min_side=1, max_side=4):
    n = draw(st.integers(min_dims, max_dims))
    return tuple(draw(st.integers(min_side, max_side)) for _ in range(n))


@st.composite
def broadcastable_shapes(draw, max_dims=4, max_side=4):
    """(shape_a, shape_b) that broadcast together: b may have fewer dims and 1s anywhere."""
    a = draw(shapes(min_dims=1, max_dims=max_dims, max_side=max_side))
    k = draw(st.integers(0, len(a)))
    b = list(a[len(a) - k:])
    for i in range(len(b)):
        if draw(st.booleans()):
            b[i] = 1
    a = list(a)
    for i in range(len(a)):
        if draw(st.integers(0, 4)) == 0:
            a[i] = 1
    if draw(st.booleans()):
        a, b = b, a
    return tuple(a), tuple(b)


@st.composite
def arrays(draw, shape, domain="real", seed_max=2**16):
    rng = _hxp.random.default_rng(draw(st.integers(0, seed_max)))
    if domain == "nonzero":
        return rng.uniform(0.2, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    return rng.standard_normal(shape)


@st.composite
def tensors(draw, shape, device="cpu", domain="real", non_contiguous=None, requires_grad=True):
    """A float64 tensor; if non_contiguous, built as the transpose of a contiguous array."""
    from .. import tensor

    nc = draw(st.booleans()) if non_contiguous is None else non_contiguous
    if nc and len(shape) >= 2:
        host = draw(arrays(tuple(reversed(shape)), domain)).T
    else:
        host = draw(arrays(shape, domain))
    return tensor(host, dtype="float64", device=device, requires_grad=requires_grad)
