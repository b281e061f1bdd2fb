"""``DistributedSampler``: each of N processes visits its own 1/N of the dataset each epoch.

As ``torch.utils.data.DistributedSampler``: the epoch's index list (``0..n-1``, or a permutation
drawn from a generator seeded with ``seed + epoch``, so every rank draws the same one) is padded
by repeating its first indices up to a multiple of N (``drop_last=False``) or cut down to one
(``drop_last=True``), and rank r takes the indices at positions r, r + N, r + 2N, ... Without
shuffling the partition equals torch's exactly; with it the permutation comes from this package's
generator (torch's differs), the same on every rank. Call ``set_epoch(epoch)`` before each epoch to
reshuffle.
"""
from __future__ import annotations

import math

from ._rng import host_rng
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Rank ``rank``'s share of ``dataset`` among ``num_replicas`` processes (default: the process group's)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas and rank default to the process group's, "
                                   "which is not initialized; call tinygrad_dnn.distributed.init_process_group() "
                                   "first or pass num_replicas= and rank=")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, bool(drop_last), bool(shuffle), int(seed)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = host_rng(seed=self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use permutation number ``epoch`` (seeded ``seed + epoch``) in the next ``__iter__``."""
        self.epoch = int(epoch)
