"""``DataLoader``: batches from a dataset, shuffled reproducibly, moved to a device, resumable.

Batches are Tensors stacked along dim 0. A :class:`TensorDataset` (or a :class:`Subset` of one,
as made by ``random_split``) is batched by indexing each tensor once per batch (a slice when the
batch is contiguous) instead of stacking samples one by one.

Shuffling draws one permutation per epoch from the loader's own :class:`Generator` (``seed=`` or
``generator=``; without either, its seed is drawn from the global generator when the loader is
built, so ``manual_seed`` first makes it reproducible). ``state_dict()`` / ``load_state_dict()``
save and restore the epoch, the generator and the position inside the epoch, so a resumed run
sees exactly the batches an uninterrupted one would.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import autograd as _ag
from ._rng import as_generator
from .dataset import Subset, TensorDataset


def default_collate(items):
    """Stack a list of samples: Tensors and NumPy arrays along a new dim 0, numbers into a 1-D Tensor
    (Python ints int64, Python floats float64, NumPy scalars their own dtype: torch's rules),
    tuples/lists/dicts field by field (a tuple of fields where torch gives a list)."""
    first = items[0]
    if isinstance(first, _ag.Tensor):
        return _ag.stack(items, 0)
    if isinstance(first, np.ndarray):
        return _ag.tensor(np.stack(items))
    if isinstance(first, (bool, np.bool_)):
        return _ag.tensor(list(items), dtype=_ag.bool_)
    if isinstance(first, np.generic):  # NumPy scalars keep their dtype (np.float32 -> float32), as torch
        return _ag.tensor(np.stack(items))
    if isinstance(first, numbers.Integral):
        return _ag.tensor([int(v) for v in items], dtype=_ag.int64)
    if isinstance(first, numbers.Real):  # Python floats are float64, as torch's default_collate
        return _ag.tensor([float(v) for v in items], dtype=_ag.float64)
    if isinstance(first, dict):
        return {k: default_collate([it[k] for it in items]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(it) != len(first) for it in items):
            raise RuntimeError("default_collate: each sample in a batch must have the same number of fields")
        return tuple(default_collate(list(col)) for col in zip(*items))
    return list(items)


def _move(obj, device):
    if device is None:
        return obj
    if isinstance(obj, _ag.Tensor):
        return obj.to(device)
    if isinstance(obj, tuple):
        return tuple(_move(o, device) for o in obj)
    if isinstance(obj, list):
        return [_move(o, device) for o in obj]
    if isinstance(obj, dict):
        return {k: _move(v, device) for k, v in obj.items()}
    return obj


def _tensor_source(dataset):
    """``(tensors, base_indices)`` if ``dataset`` is a TensorDataset or (nested) Subset of one, else None."""
    idx = None
    while isinstance(dataset, Subset):
        sub = np.asarray(dataset.indices, dtype=np.int64)
        idx = sub if idx is None else sub[idx]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        if idx is not None:
            idx = np.where(idx < 0, idx + len(dataset), idx)
        return dataset.tensors, idx
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches (PyTorch's ``torch.utils.data.DataLoader`` subset).

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch.
        shuffle: a new random order every epoch.
        drop_last: drop the last incomplete batch.
        seed / generator: source of the shuffling order (an int or a :class:`Generator`).
        device: move every batch there (``'cpu'``, ``'cuda'``, ``'strict'``); None leaves it as is.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        batch_transform: called on each batch after the move, as ``batch_transform(*batch)``
            (e.g. ``Compose([RandomFlip(), Mixup(...)])``); its result is yielded.
        sampler: an iterable of indices (a :mod:`~tinygrad_dnn.data.sampler` object) giving the order;
            excludes ``shuffle``.
        batch_sampler: an iterable of index lists, one per batch; excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last`` (as torch).
        num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers: accepted
            for torch compatibility and ignored: batches are always built in the main process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, drop_last=False, seed=None, generator=None,
                 device=None, collate_fn=None, batch_transform=None, num_workers=0, pin_memory=False, *,
                 sampler=None, batch_sampler=None, timeout=0, worker_init_fn=None, prefetch_factor=None,
                 persistent_workers=False):
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
        elif not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if batch_sampler is None and sampler is not None:
            from .sampler import BatchSampler

            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = device
        self.collate_fn = collate_fn
        self.batch_transform = batch_transform
        self.pin_memory = pin_memory
        if shuffle:
            self.generator = as_generator(generator, seed)
        else:
            self.generator = None if generator is None and seed is None else as_generator(generator, seed)
        self._source = _tensor_source(dataset) if collate_fn is None else None
        self._epoch = 0
        self._current = None  # {"epoch", "generator", "batch"} while an epoch is under way
        self._resume_batch = 0

    # ------------------------------------------------------------ sizes
    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def epoch(self):
        """Number of epochs started before the current/next one (0 for a fresh loader)."""
        return self._epoch

    # ------------------------------------------------------------ state
    def state_dict(self):
        """Where the loader stands: ``{'epoch', 'batch', 'generator'}`` (JSON-friendly).

        Mid-epoch it records the generator state from the start of the epoch and the number of
        batches already yielded, so ``load_state_dict`` resumes with the next batch of the same order.
        """
        if self._current is not None:
            return dict(self._current)
        return {"epoch": self._epoch, "batch": self._resume_batch,
                "generator": None if self.generator is None else self.generator.get_state()}

    def load_state_dict(self, state):
        self._epoch = int(state["epoch"])
        self._resume_batch = int(state.get("batch", 0))
        if state.get("generator") is not None:
            if self.generator is None:
                self.generator = as_generator(seed=0)
            self.generator.set_state(state["generator"])
        self._current = None

    # ------------------------------------------------------------ iteration
    def _order(self):
        n = len(self.dataset)
        if self.shuffle:
            return self.generator.rng.permutation(n)
        return None

    def __iter__(self):
        n = len(self.dataset)
        start_state = None if self.generator is None else self.generator.get_state()
        order = self._order()
        skip, self._resume_batch = self._resume_batch, 0
        epoch = self._epoch
        self._epoch += 1
        self._current = {"epoch": epoch, "batch": skip, "generator": start_state}
        nb = len(self)
        if self.batch_sampler is not None:
            yield from self._iter_batch_sampler(skip, nb)
            return
        try:
            for b in range(skip, nb):
                lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, n)
                batch = self._batch(order, lo, hi)
                self._current["batch"] = b + 1
                yield batch
        finally:
            if self._current is not None and self._current["batch"] >= nb:
                self._current = None

    def _iter_batch_sampler(self, skip, nb):
        try:
            for b, idx in enumerate(self.batch_sampler):
                if b < skip:
                    continue
                batch = self._batch(np.asarray(idx, dtype=np.int64), 0, len(idx))
                self._current["batch"] = b + 1
                yield batch
        finally:
            if self._current is not None and self._current["batch"] >= nb:
                self._current = None

    def _batch(self, order, lo, hi):
        if self._source is not None:
            batch = self._tensor_batch(order, lo, hi)
        else:
            idx = range(lo, hi) if order is None else order[lo:hi].tolist()
            collate = self.collate_fn or default_collate
            batch = collate([self.dataset[int(i)] for i in idx])
        batch = _move(batch, self.device)
        if self.batch_transform is not None:
            out = self.batch_transform(*batch) if isinstance(batch, tuple) else self.batch_transform(batch)
            batch = out if isinstance(out, tuple) or not isinstance(batch, tuple) else (out,)
        return batch

    def _tensor_batch(self, order, lo, hi):
        tensors, base = self._source
        idx = None if order is None else order[lo:hi]
        if base is not None:
            idx = base[lo:hi] if idx is None else base[idx]
        if idx is None:
            return tuple(t[lo:hi] for t in tensors)
        if len(idx) and idx[-1] - idx[0] == len(idx) - 1 and np.all(np.diff(idx) == 1):
            a, b = int(idx[0]), int(idx[-1]) + 1
            return tuple(t[a:b] for t in tensors)
        index_by_device = {}
        out = []
        for t in tensors:
            key = t.device
            if key not in index_by_device:
                index_by_device[key] = _ag.tensor(idx.astype(np.int64), device=t.device)
            out.append(t[index_by_device[key]])
        return tuple(out)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, device={self.device!r}, batches={len(self)})")
