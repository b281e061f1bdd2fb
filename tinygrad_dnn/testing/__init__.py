"""Test helpers for users' own ops and models: the op registry, ``check_op``/``check_function``,
Hypothesis strategies (``tinygrad_dnn.testing.strategies``, needs hypothesis) and ``assert_close``
(``torch.testing.assert_close``)."""
from .registry import OPS, OpSpec, register_op
from .check import check_function, check_op, functions_exercised
from .compare import assert_close

__all__ = ["OPS", "OpSpec", "register_op", "check_op", "check_function", "functions_exercised", "assert_close"]
