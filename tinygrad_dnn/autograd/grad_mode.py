"""Global autograd switches: grad mode (``no_grad``/``enable_grad``) and anomaly detection."""
from __future__ import annotations

import functools

# Plain lists so that the hot path reads one item, no function call.
_grad_enabled = [True]
_anomaly = [False]


def is_grad_enabled() -> bool:
    return _grad_enabled[0]


class set_grad_enabled:
    """Context manager / function that sets grad mode, restoring the previous mode on exit."""

    def __init__(self, mode: bool):
        self.prev = _grad_enabled[0]
        _grad_enabled[0] = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self.prev
        return False


class _GradMode:
    mode = True

    def __enter__(self):
        self.prev = _grad_enabled[0]
        _grad_enabled[0] = self.mode
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with type(self)():
                return fn(*a, **k)

        return wrapper


class no_grad(_GradMode):
    """Ops run inside build no graph (use for parameter updates and evaluation)."""

    mode = False


class enable_grad(_GradMode):
    """Re-enable graph building inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradMode):
    """``torch.inference_mode``: a context manager or decorator for code that never calls backward.

    Here it is ``no_grad`` (no graph is built); ``inference_mode(False)`` is ``enable_grad``. torch's
    extra restrictions on "inference tensors" (they cannot be saved for backward later) are not
    enforced. Usable as ``with inference_mode():``, ``@inference_mode()`` and ``@inference_mode``.
    """

    def __new__(cls, mode=True):
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # bare decorator: @inference_mode

    def __init__(self, mode=True):
        self.mode = not mode

    def __call__(self, fn):
        enabled = not self.mode

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with inference_mode(enabled):
                return fn(*a, **k)

        return wrapper


class detect_anomaly:
    """Raise as soon as an op (forward or backward) produces NaN, naming the op and shapes."""

    def __init__(self, mode: bool = True):
        self.mode = mode

    def __enter__(self):
        self.prev = _anomaly[0]
        _anomaly[0] = self.mode
        return self

    def __exit__(self, *exc):
        _anomaly[0] = self.prev
        return False


def set_detect_anomaly(mode: bool):
    _anomaly[0] = bool(mode)


def is_anomaly_enabled() -> bool:
    return _anomaly[0]
