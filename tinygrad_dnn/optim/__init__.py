"""Optimizers, learning-rate schedules, gradient clipping and weight averaging (``torch.optim``).

``import tinygrad_dnn as torch`` then ``torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)``,
``torch.optim.lr_scheduler.StepLR(opt, 10)``: PyTorch's classes, signatures, defaults and update rules
(each optimizer's docstring states its rule). Gradient clipping lives here as
``optim.clip_grad_norm_`` / ``optim.clip_grad_value_`` (also re-exported by ``nn.utils``).
"""
from . import lr_scheduler, swa_utils
from .adaptive import Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop, Rprop
from .clip import clip_grad_norm_, clip_grad_value_, get_total_norm
from .lbfgs import LBFGS
from .newton import NewtonCG
from .optimizer import Optimizer, required
from .sgd import SGD, SignSGD
from .wrappers import SAM, AveragedModel, ExponentialMovingAverage, Lookahead, get_ema_avg_fn, get_swa_avg_fn

EMA = ExponentialMovingAverage

__all__ = ["Optimizer", "SGD", "SignSGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "Adamax",
           "Rprop", "LBFGS", "NewtonCG", "Lookahead", "SAM", "ExponentialMovingAverage", "EMA", "AveragedModel",
           "get_ema_avg_fn", "get_swa_avg_fn", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "lr_scheduler", "swa_utils"]
