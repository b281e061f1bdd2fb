"""``torch.nn.parallel``: :class:`DistributedDataParallel` (gradients averaged across processes)."""
from .distributed import (
    DistributedDataParallel,
    consume_prefix_in_state_dict_if_present,
)

__all__ = ["DistributedDataParallel", "consume_prefix_in_state_dict_if_present"]
