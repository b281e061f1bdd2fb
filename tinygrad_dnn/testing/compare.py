r"""``assert_close``: torch.testing's comparison, tolerances and messages.

Two values are close when, elementwise,

.. math:: |\text{actual} - \text{expected}| \le \text{atol} + \text{rtol} \cdot |\text{expected}|

(infinities must be equal; NaN equals NaN only with ``equal_nan=True``). Without ``rtol``/``atol`` the
defaults come from the dtype, as torch's:

=========  ========  ========
dtype      rtol      atol
=========  ========  ========
float16    1e-3      1e-5
float32    1.3e-6    1e-5
float64    1e-7      1e-7
integers   0         0
=========  ========  ========

Shapes, dtypes (``check_dtype``) and devices (``check_device``) must match first. Tensors, NumPy
arrays, Python numbers, and sequences / mappings of those are compared item by item; the failure
message names the mismatched count, the greatest absolute and relative differences and where.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..autograd import dtype as _dt
from ..autograd.tensor import Tensor
from ..backend import get_backend
from ..backend.base import is_host_array

_hxp = get_backend("cpu").xp

_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}

__all__ = ["assert_close"]


def _tolerances(dtype_name, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return float(rtol), float(atol)
    return _TOLERANCES.get(dtype_name, (0.0, 0.0))


def _fail(text, msg, where):
    if msg is not None:
        raise AssertionError(msg(text) if callable(msg) else msg)
    raise AssertionError(text + (f"\n\nThe failure occurred for item {where}" if where else ""))


def _is_tensor_like(x):
    return isinstance(x, Tensor) or is_host_array(x)


def _host(x):
    if isinstance(x, Tensor):
        return x.backend.to_host(x._data), x.dtype, str(x.device)
    arr = _hxp.asarray(x)
    return arr, _dt.get_dtype(arr.dtype), "cpu"


def _num(v, is_float):
    return float(v) if is_float else int(v)


def _compare_arrays(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, where):
    a, adt, adev = _host(actual)
    e, edt, edev = _host(expected)
    if tuple(a.shape) != tuple(e.shape):
        _fail(f"The values for attribute 'shape' do not match: {_size(a.shape)} != {_size(e.shape)}.", msg, where)
    if check_device and adev != edev:
        _fail(f"The values for attribute 'device' do not match: {adev} != {edev}.", msg, where)
    if check_dtype and adt is not edt:
        _fail(f"The values for attribute 'dtype' do not match: {adt} != {edt}.", msg, where)
    common = _dt.promote_types(adt, edt)
    rtol, atol = _tolerances(common.name, rtol, atol)
    is_float = common.is_floating_point
    work = common.name if is_float else "int64"
    a = a.astype(work)
    e = e.astype(work)
    if common is _dt.bool_:
        a, e = a.astype("int64"), e.astype("int64")
    close = _isclose(a, e, rtol, atol, equal_nan, is_float)
    if bool(_hxp.all(close)):
        return
    word = "close" if is_float or rtol or atol else "equal"
    diff = _hxp.abs(a - e)
    fdt = work if is_float else "float32"
    with _hxp.errstate(divide="ignore", invalid="ignore"):
        rel = (diff.astype(fdt) / _hxp.abs(e).astype(fdt))
    tol = is_float or rtol or atol
    if a.ndim == 0:
        text = (f"Scalars are not {word}!\n\nExpected {_num(e, is_float)} but got {_num(a, is_float)}.\n"
                f"Absolute difference: {_num(diff, is_float)}{_allowed(atol, tol)}\n"
                f"Relative difference: {float(rel)}{_allowed(rtol, tol)}")
        _fail(text, msg, where)
    bad = ~close
    n_bad, n = int(_hxp.sum(bad)), a.size
    da = _hxp.where(bad, diff, 0) if not is_float else _hxp.where(bad, diff, -_hxp.inf)
    dr = _hxp.where(bad, rel, -_hxp.inf)
    ia = _argmax_nan(da)
    ir = _argmax_nan(dr)
    text = (f"Tensor-likes are not {word}!\n\nMismatched elements: {n_bad} / {n} ({100 * n_bad / n:.1f}%)\n"
            f"Greatest absolute difference: {_num(diff[ia], is_float)} at index {ia}{_allowed(atol, tol)}\n"
            f"Greatest relative difference: {float(rel[ir])} at index {ir}{_allowed(rtol, tol)}")
    _fail(text, msg, where)


def _argmax_nan(x):
    """Index (tuple) of the largest entry, NaN counting as largest (as torch reports NaN differences)."""
    flat = x.reshape(-1)
    nan = _hxp.isnan(flat)
    j = int(_hxp.argmax(nan)) if bool(_hxp.any(nan)) else int(_hxp.argmax(flat))
    return tuple(int(i) for i in _hxp.unravel_index(j, x.shape))


def _allowed(tol, show):
    return f" (up to {tol:g} allowed)" if show else ""


def _size(shape):
    return f"torch.Size({list(shape)})"


def _isclose(a, e, rtol, atol, equal_nan, is_float):
    if not is_float:
        return _hxp.abs(a - e) <= atol + rtol * _hxp.abs(e)
    with _hxp.errstate(invalid="ignore", over="ignore"):
        close = _hxp.abs(a - e) <= atol + rtol * _hxp.abs(e)
        close = close | (a == e)  # equal infinities
    if equal_nan:
        close = close | (_hxp.isnan(a) & _hxp.isnan(e))
    return close


def _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype, msg, where):
    is_float = isinstance(actual, float) or isinstance(expected, float)
    name = "float64" if is_float else "int64"
    rtol, atol = _tolerances(name, rtol, atol)
    a, e = (float(actual), float(expected)) if is_float else (int(actual), int(expected))
    if is_float and (math.isnan(a) or math.isnan(e)):
        ok = equal_nan and math.isnan(a) and math.isnan(e)
    else:
        ok = a == e or abs(a - e) <= atol + rtol * abs(e)
    if ok:
        return
    tol = is_float or rtol or atol
    diff = abs(a - e)
    rel = diff / abs(e) if e else math.inf
    word = "close" if tol else "equal"
    _fail(f"Scalars are not {word}!\n\nExpected {e} but got {a}.\nAbsolute difference: {diff}{_allowed(atol, tol)}\n"
          f"Relative difference: {rel}{_allowed(rtol, tol)}", msg, where)


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) or isinstance(x, bool)


def _compare(actual, expected, where, **kw):
    if _is_tensor_like(actual) and _is_tensor_like(expected):
        return _compare_arrays(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"], kw["check_device"],
                               kw["check_dtype"], kw["msg"], where)
    if _number(actual) and _number(expected):
        return _compare_numbers(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"], kw["check_dtype"],
                                kw["msg"], where)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        ka, ke = set(actual), set(expected)
        if ka != ke:
            raise AssertionError(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                                 f"{sorted(ke - ka, key=str)}\nAdditional keys in the actual mapping: "
                                 f"{sorted(ka - ke, key=str)}")
        for k in actual:
            _compare(actual[k], expected[k], f"{where or ''}[{k!r}]", **kw)
        return
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and not isinstance(actual, str) \
            and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (x, y) in enumerate(zip(actual, expected)):
            _compare(x, y, f"{where or ''}[{i}]", **kw)
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close (``torch.testing.assert_close``).

    ``msg`` (a string, or a callable taking the generated message) replaces the message.
    ``allow_subclasses``, ``check_layout`` and ``check_stride`` are accepted for compatibility.
    """
    _tolerances("float32", rtol, atol)  # both or neither, checked up front as torch
    _compare(actual, expected, None, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
             check_dtype=check_dtype, msg=msg)
