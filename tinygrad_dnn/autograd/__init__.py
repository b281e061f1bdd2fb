"""The autodiff core: Tensor, Function, the engine, creation functions and higher-order helpers.

This package never imports ``nn``, ``optim`` or ``train``.
"""
from ..gradcheck import gradcheck, gradgradcheck  # noqa: E402  (torch.autograd.gradcheck / gradgradcheck)
from . import functional  # noqa: E402  (torch.autograd.functional)
from .creation import *  # noqa: F401,F403
from .creation import (
                    arange,
                    empty,
                    eye,
                    full,
                    linspace,
                    manual_seed,
                    ones,
                    rand,
                    randint,
                    randn,
                    tensor,
                    zeros,
)
from .dtype import (
                    DType,
                    bool_,
                    float16,
                    float32,
                    float64,
                    get_default_dtype,
                    int8,
                    int16,
                    int32,
                    int64,
                    promote_types,
                    result_type,
                    set_default_dtype,
                    uint8,
)
from .function import (
                    Context,
                    DeviceMismatchError,
                    Function,
                    GradGraphError,
                    backward,
                    grad,
)
from .grad_mode import (
                    detect_anomaly,
                    enable_grad,
                    is_anomaly_enabled,
                    is_grad_enabled,
                    no_grad,
                    set_detect_anomaly,
                    set_grad_enabled,
)
from .graph import saved_tensors, to_dot, to_mermaid, to_text, trace_backward
from .higher import hessian, hvp, jacobian, jvp, vjp
from .joining import cat, concat, concatenate, pad, stack, where  # noqa: F401
from .tensor import Size, Tensor, matmul
