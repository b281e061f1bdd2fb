"""The error types and the shared argument checks of autograd/ and nn/functional/.

One exception type per kind of error, as torch raises it:

==========================  =====================================================================================
kind                        type
==========================  =====================================================================================
wrong argument type         ``TypeError``
bad argument value          ``ValueError`` (reduction names, p outside [0, 1], ...)
shape mismatch in an op     ``RuntimeError`` (torch: "The size of tensor a ...")
tensors on two devices      :class:`DeviceMismatchError` (a ``RuntimeError``, as torch)
integer input to float op   ``NotImplementedError`` (a ``RuntimeError``; torch: "not implemented for 'Long'")
freed / modified graph      :class:`GradGraphError` (a ``RuntimeError``, as torch)
==========================  =====================================================================================

Messages start with the name the user called, then a colon: ``F.<name>`` for
``torch.nn.functional`` functions (``F.linear: ...``, ``F.mse_loss: ...``), the bare name for
Tensor methods and ``torch.<name>`` functions (``matmul: ...``), and the ``Function`` class name
for errors the engine raises while running an op (``Add: ...``, ``MulBackward: ...``).
This module imports nothing from the package, so every core module can import it at the top.
"""
from __future__ import annotations


class GradGraphError(RuntimeError):
    """Backward through a freed graph, or through a value modified in place."""


class DeviceMismatchError(RuntimeError):
    """One op received tensors on two devices."""


def check_same_device(op, **tensors):
    """Raise :class:`DeviceMismatchError` unless every tensor given (None skipped) is on one backend.

    ``check_same_device("F.linear", input=x, weight=w, bias=b)``; the names appear in the message.
    """
    items = [(n, t) for n, t in tensors.items() if t is not None]
    backend = items[0][1].backend
    for _, t in items:
        if t.backend is not backend:
            raise_device_mismatch(op, [(n, tuple(t.shape), t.device) for n, t in items])


def raise_device_mismatch(op, described):
    """The one device-mismatch message; ``described`` lists ``(name, shape, device)``."""
    desc = ", ".join(f"{n + ' ' if n else ''}{shape} on {dev}" for n, shape, dev in described)
    raise DeviceMismatchError(
        f"{op}: expected all tensors on one device, got {desc}. Move them with .to(device) first; "
        "tinygrad_dnn never copies between devices silently.")


def check_float(op, t, what="input"):
    """Raise ``NotImplementedError`` (torch's type for "'X' not implemented for 'Long'", a ``RuntimeError``)
    unless ``t`` has a floating point dtype."""
    if not t.dtype.is_floating_point:
        raise NotImplementedError(
            f"{op}: not implemented for {t.dtype} (the {what}, shape {tuple(t.shape)}); expected a floating point "
            "dtype, as torch. Convert with .float() (or .double()).")


def check_broadcast(op, a, b):
    """``RuntimeError`` (torch's type and wording) unless shapes ``a`` and ``b`` broadcast together."""
    for i, (x, y) in enumerate(zip(reversed(a), reversed(b))):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"{op}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together: the size of tensor a ({x}) "
                f"must match the size of tensor b ({y}) at non-singleton dimension {max(len(a), len(b)) - 1 - i}. "
                "Reshape or unsqueeze one operand.")


def broadcast_shape(*shapes, op="broadcast"):
    """The broadcast of ``shapes`` (right-aligned, size-1 dims stretch), or ``RuntimeError`` as torch."""
    nd = max(len(s) for s in shapes)
    out = []
    for i in range(nd):
        dims = {s[i - nd + len(s)] for s in shapes if i - nd + len(s) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise RuntimeError(f"{op}: shapes {[tuple(s) for s in shapes]} cannot be broadcast together")
        out.append(dims.pop() if dims else 1)
    return tuple(out)
