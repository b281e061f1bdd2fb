"""Training checkpoints: the file format's marker, reading one back with clear errors, and the
snapshots of state it is made of (deep copies of state dicts, a DataLoader's shuffling position).

What a checkpoint holds is :meth:`tinygrad_dnn.train.Trainer.state_dict`; it is written atomically
by ``tinygrad_dnn.save``.
"""
from __future__ import annotations

import os

import tinygrad_dnn as tg

CHECKPOINT_FORMAT = "tinygrad_dnn.train.checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: corrupted, not a training checkpoint, or for another model."""


def read_checkpoint(path):
    """Load and validate a training checkpoint; raises :class:`CheckpointError` with a clear message."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist")
    try:
        state = tg.load(path)
    except Exception as e:
        raise CheckpointError(f"cannot resume from {path!r}: the file is corrupted or not a tinygrad_dnn "
                              f"checkpoint ({e})") from e
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"cannot resume from {path!r}: it is not a training checkpoint written by "
                              "tinygrad_dnn.train (no trainer state inside; a bare state_dict can be loaded "
                              "with model.load_state_dict(tinygrad_dnn.load(path)))")
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise CheckpointError(f"cannot resume from {path!r}: checkpoint version {state.get('version')} is newer "
                              f"than this tinygrad_dnn understands ({CHECKPOINT_VERSION})")
    return state


def clone_state(obj):
    """A deep copy of a (nested) state dict, cloning tensors so later in-place updates do not leak in."""
    if isinstance(obj, tg.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: clone_state(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clone_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(clone_state(v) for v in obj)
    if hasattr(obj, "copy") and hasattr(obj, "shape"):
        return obj.copy()
    return obj


def loader_state(loader):
    """The shuffling state of a DataLoader (its generator's state), or None when it has none to save."""
    if loader is None:
        return None
    if hasattr(loader, "state_dict") and callable(loader.state_dict):
        return {"state_dict": loader.state_dict()}
    gen = getattr(loader, "generator", None)
    if gen is not None and hasattr(gen, "get_state"):
        return {"generator": gen.get_state()}
    sampler = getattr(loader, "sampler", None)
    gen = getattr(sampler, "generator", None)
    if gen is not None and hasattr(gen, "get_state"):
        return {"sampler_generator": gen.get_state()}
    return None


def set_loader_state(loader, state):
    if loader is None or not state:
        return
    if "state_dict" in state:
        loader.load_state_dict(state["state_dict"])
    elif "generator" in state and getattr(loader, "generator", None) is not None:
        loader.generator.set_state(state["generator"])
    elif "sampler_generator" in state:
        loader.sampler.generator.set_state(state["sampler_generator"])
