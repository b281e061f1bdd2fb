"""``torch.optim.swa_utils`` look-alike: ``AveragedModel``, ``get_ema_avg_fn``, ``get_swa_avg_fn``."""
from .wrappers import AveragedModel, get_ema_avg_fn, get_swa_avg_fn

__all__ = ["AveragedModel", "get_ema_avg_fn", "get_swa_avg_fn"]
