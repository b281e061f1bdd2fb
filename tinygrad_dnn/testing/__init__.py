"""Test helpers for users' own ops and models: the op registry, ``check_op``/``check_function``,
and Hypothesis strategies (``tinygrad_dnn.testing.strategies``, needs hypothesis)."""
from .registry import OPS, OpSpec, register_op
from .check import check_function, check_op, functions_exercised

__all__ = ["OPS", "OpSpec", "register_op", "check_op", "check_function", "functions_exercised"]
