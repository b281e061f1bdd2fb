"""``History``: the per-epoch metrics a training run returns (and stores in its checkpoints)."""
from __future__ import annotations

from .callbacks import _mode_is_min


class History:
    """Per-epoch metrics, Keras-style: ``history["val_loss"]`` is a list with one value per epoch.

    Keys: ``epoch`` (1-based), ``loss``, ``accuracy`` (and other train metrics), ``val_loss``,
    ``val_accuracy`` (with a validation loader), ``lr`` (the learning rate used in the epoch),
    ``time`` (seconds). ``stop_reason`` is None, ``"early_stopping"``, ``"interrupted"`` or ``"completed"``.
    """

    def __init__(self, history=None):
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.stop_reason = None
        self.interrupted = False

    def append(self, logs):
        n = len(self)
        for k, v in logs.items():
            col = self.history.setdefault(k, [None] * n)
            col.append(v)
        for k, col in self.history.items():
            if len(col) < n + 1:
                col.append(None)

    def __len__(self):
        return len(self.history.get("epoch", []))

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        return self.history.keys()

    def get(self, key, default=None):
        return self.history.get(key, default)

    def last(self, key=None):
        """The last epoch's logs (a dict), or one value."""
        if not len(self):
            return {} if key is None else None
        row = {k: v[-1] for k, v in self.history.items()}
        return row if key is None else row.get(key)

    def best(self, monitor="val_loss", mode="auto"):
        """``(epoch, value)`` of the best epoch for ``monitor``."""
        vals = [(e, v) for e, v in zip(self.history["epoch"], self.history[monitor]) if v is not None]
        if not vals:
            return None, None
        lower = _mode_is_min(monitor, mode)
        return (min if lower else max)(vals, key=lambda ev: ev[1])

    def to_dict(self):
        return {k: list(v) for k, v in self.history.items()}

    @classmethod
    def from_dict(cls, d):
        return cls(d)

    def __repr__(self):
        last = self.last()
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items() if k != "time")
        return f"History({len(self)} epochs{': ' + shown if shown else ''})"
