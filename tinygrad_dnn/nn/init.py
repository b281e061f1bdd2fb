"""Parameter initializers (``torch.nn.init``), all in place, under ``no_grad``.

Numbers are drawn on the host generator (``manual_seed``) in float64 and then cast, so the same
seed gives the same initialization on every device and dtype.

Fans of a weight of shape (out, in, *kernel): ``fan_in = in * prod(kernel)``,
``fan_out = out * prod(kernel)`` (a Linear weight is (out_features, in_features)).
"""
from __future__ import annotations

import math

from ..autograd.errors import check_float
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, _wrap

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_", "dirac_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_",
           "orthogonal_", "lecun_normal_", "lecun_uniform_", "lsuv_init"]


def _check(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{fn}: expected a Tensor, got {type(tensor).__name__}")
    check_float(f"nn.init.{fn}", tensor, "tensor")


def _write(tensor, arr64):
    """Copy a float64 array (on the tensor's backend) into ``tensor`` in place (keeps identity and aliases)."""
    xp = tensor.backend.xp
    arr = xp.astype(arr64, tensor._data.dtype)
    with no_grad():
        tensor.copy_(_wrap(arr, tensor.backend))
    return tensor


def _f64(tensor):
    return tensor.backend.xp.float64


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for an activation: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + a^2)) (a = param, default 0.01), selu 3/4."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of linear, conv*, "
                     "sigmoid, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 dims "
                         f"(shape {tuple(tensor.shape)}); use uniform_/normal_ for biases")
    receptive = 1
    for s in tuple(tensor.shape)[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b)."""
    _check(tensor, "uniform_")
    if b < a:
        raise ValueError(f"nn.init.uniform_: need a <= b, got a={a}, b={b}")
    return _write(tensor, tensor.backend.uniform(tuple(tensor.shape), _f64(tensor), float(a), float(b),
                                                   generator=generator))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2)."""
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"nn.init.normal_: std must be >= 0, got {std}")
    return _write(tensor, tensor.backend.normal(tuple(tensor.shape), _f64(tensor), float(mean), float(std),
                                                  generator=generator))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) conditioned on [a, b] (absolute bounds, as PyTorch); out-of-range
    draws are redrawn (rejection sampling), so every value lies in [a, b]."""
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"nn.init.trunc_normal_: need a < b, got a={a}, b={b}")
    be = tensor.backend
    xp = be.xp
    shape = tuple(tensor.shape)
    out = be.normal(shape, xp.float64, float(mean), float(std), generator=generator)
    for _ in range(1000):
        bad = (out < a) | (out > b)
        if not bool(xp.any(bad)):
            break
        out = xp.where(bad, be.normal(shape, xp.float64, float(mean), float(std), generator=generator), out)
    else:  # bounds far in the tail: fall back to clamping the remaining few
        out = xp.clip(out, min=float(a), max=float(b))
    return _write(tensor, out)


def constant_(tensor, val):
    """Fill with the constant ``val``."""
    _check(tensor, "constant_")
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal of a possibly rectangular matrix)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"nn.init.eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    xp = tensor.backend.xp
    n, m = tuple(tensor.shape)
    return _write(tensor, xp.eye(n, m, dtype=xp.float64, device=tensor.backend.device))


def dirac_(tensor, groups=1):
    """Dirac delta for a conv weight (out, in, *k): the conv keeps the first min(out, in) channels."""
    _check(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"nn.init.dirac_: only 3-, 4- and 5-D tensors are supported, got shape {tuple(tensor.shape)}")
    shape = tuple(tensor.shape)
    if shape[0] % groups:
        raise ValueError(f"nn.init.dirac_: dim 0 ({shape[0]}) must be divisible by groups ({groups})")
    out_per = shape[0] // groups
    xp = tensor.backend.xp
    arr = xp.zeros(shape, dtype=xp.float64, device=tensor.backend.device)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(out_per, shape[1])):
            arr[(g * out_per + d, d) + centre] = 1.0
    return _write(tensor, arr)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator=generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a) (He et al., 2015).

    PyTorch's default for Linear/Conv weights is ``kaiming_uniform_(w, a=sqrt(5))``, i.e.
    b = 1 / sqrt(fan_in).
    """
    _check(tensor, "kaiming_uniform_")
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015)."""
    _check(tensor, "kaiming_normal_")
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator=generator)


def lecun_normal_(tensor):
    """N(0, 1 / fan_in) (LeCun et al., 1998; the SELU initialization)."""
    _check(tensor, "lecun_normal_")
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in))


def lecun_uniform_(tensor):
    """U(-b, b) with b = sqrt(3 / fan_in)."""
    _check(tensor, "lecun_uniform_")
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    b = math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -b, b)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013).

    The tensor is viewed as (shape[0], prod(shape[1:])); its rows (if fewer) or columns are
    orthonormal: W W^T = gain^2 I or W^T W = gain^2 I. QR runs on the host (backend kernel).
    """
    from ..backend.init_kernels import orthogonal

    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"nn.init.orthogonal_: only tensors with 2 or more dims are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    q = orthogonal(tensor.backend, rows, cols, _f64(tensor), generator=generator)
    xp = tensor.backend.xp
    return _write(tensor, xp.reshape(q * gain, tuple(tensor.shape)))


def lsuv_init(model, data, tol=0.1, max_iter=10, target_std=1.0, orthogonal=True, verbose=False):
    """Layer-sequential unit-variance initialization (Mishkin & Matas, "All you need is a good init", 2016).

    1. Pre-initialize every weight of a Linear/Conv layer with an orthonormal matrix (if ``orthogonal``).
    2. From the first layer to the last, run ``data`` through the model, measure the standard
       deviation s of the layer's output and scale its weight by target_std / s (bias set to zero),
       until |s - target_std| < tol or ``max_iter`` passes.

    Runs under no_grad in eval mode (the mode is restored). Returns the model.
    """
    from .module import Module

    if not isinstance(model, Module):
        raise TypeError(f"lsuv_init: expected a Module, got {type(model).__name__}")
    layers = [(n, m) for n, m in model.named_modules()
              if isinstance(getattr(m, "weight", None), Tensor) and m.weight.ndim >= 2 and
              type(m).__name__ in ("Linear", "Conv1d", "Conv2d", "Conv3d")]
    if not layers:
        raise ValueError(f"lsuv_init: {type(model).__name__} has no Linear or Conv layers to initialize")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for name, m in layers:
                if orthogonal:
                    orthogonal_(m.weight)
                if getattr(m, "bias", None) is not None:
                    zeros_(m.bias)
                captured = {}

                def hook(mod, inp, out):
                    captured["out"] = out

                h = m.register_forward_hook(hook)
                try:
                    for it in range(max_iter):
                        model(data)
                        s = float(captured["out"].std().item())
                        if verbose:
                            print(f"lsuv_init: {name or type(m).__name__} iteration {it}: std {s:.4f}")
                        if abs(s - target_std) < tol or s == 0.0:
                            break
                        m.weight.mul_(target_std / s)
                finally:
                    h.remove()
    finally:
        model.train(was_training)
    return model


# PyTorch's deprecated non-underscore aliases
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal = (
    xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_, orthogonal_)
