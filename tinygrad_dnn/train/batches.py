"""Batches as the training loop sees them: moving them to a device, splitting inputs from targets."""
from __future__ import annotations


def to_device(batch, device):
    """Move every tensor of a batch (tuple, list or dict, nested) to ``device`` (None: leave it)."""
    if device is None:
        return batch
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if hasattr(batch, "to") and hasattr(batch, "device"):
        return batch if str(batch.device) == str(device) else batch.to(device)
    return batch


def split_batch(batch):
    """``(inputs, targets)`` of a batch given as a pair or a dict with x/y (or input/target) keys."""
    if isinstance(batch, dict):
        return batch["x"] if "x" in batch else batch["input"], batch["y"] if "y" in batch else batch["target"]
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise TypeError(f"fit: a batch must be (inputs, targets), got {type(batch).__name__}")


def batch_size(x):
    """The number of samples in ``x`` (its first dimension)."""
    try:
        return int(x.shape[0])
    except Exception:
        return len(x)
