"""Training: the :func:`fit` loop / :class:`Trainer`, callbacks, ready-made models and babysitting diagnostics.

    from tinygrad_dnn.train import fit, EarlyStopping, ModelCheckpoint, MLP, plot_history
    from tinygrad_dnn.train import diagnostics   # activation stats, gradient norms, LR range test...
"""
from . import diagnostics  # noqa: F401
from .callbacks import (Callback, EarlyStopping, GradientClipping, LambdaCallback, LRScheduler,  # noqa: F401
                        ModelCheckpoint)
from .loop import (CheckpointError, History, NonFiniteLossError, Trainer, accuracy, fit,  # noqa: F401
                   plot_history)
from .models import CNN1d, CNN2d, MLP, ResidualBlock, ResidualMLP, build_model  # noqa: F401
from .snapshot import SnapshotEnsemble, snapshot_lr  # noqa: F401
