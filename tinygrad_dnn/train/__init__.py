"""Training: the :func:`fit` loop / :class:`Trainer`, callbacks, ready-made models and babysitting diagnostics.

    from tinygrad_dnn.train import fit, EarlyStopping, ModelCheckpoint, MLP, plot_history
"""
from .callbacks import (Callback, EarlyStopping, GradientClipping, LambdaCallback, LRScheduler,  # noqa: F401
                        ModelCheckpoint)
from .loop import (CheckpointError, History, NonFiniteLossError, Trainer, accuracy, fit,  # noqa: F401
                   plot_history)


def __getattr__(name):  # models and diagnostics import nn lazily (nn may be absent while developing)
    if name in ("MLP", "ResidualMLP", "CNN1d", "CNN2d", "build_model", "ResidualBlock"):
        from . import models

        return getattr(models, name)
    if name == "diagnostics":
        from . import diagnostics

        return diagnostics
    if name == "models":
        from . import models

        return models
    raise AttributeError(f"module 'tinygrad_dnn.train' has no attribute {name!r}")
