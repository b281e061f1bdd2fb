"""``torch.utils`` look-alike: ``tinygrad_dnn.utils.data`` is ``torch.utils.data``."""
from . import data  # noqa: F401

__all__ = ["data"]
