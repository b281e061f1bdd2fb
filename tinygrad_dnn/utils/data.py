"""``torch.utils.data``: the names tutorial code imports, from where they live in this package.

``from tinygrad_dnn.utils.data import DataLoader`` gives the very same classes as
``tinygrad_dnn.data`` (an alias, not a copy): Dataset, TensorDataset, Subset, ConcatDataset,
random_split, DataLoader, default_collate and the samplers (``tinygrad_dnn.data.sampler``).
The extras (bundled datasets, transforms, ``device=`` on the DataLoader) are in ``tinygrad_dnn.data``.
"""
from ..data.distributed import DistributedSampler
from ..data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from ..data.loader import DataLoader, default_collate
from ..data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                            WeightedRandomSampler)


class IterableDataset(Dataset):
    """Base class of iterable-style datasets (``__iter__``). Listed for imports and ``isinstance``;
    the :class:`DataLoader` here batches map-style datasets only."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def get_worker_info():
    """None: batches are always built in the main process (as torch outside a worker)."""
    return None


__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "get_worker_info"]
