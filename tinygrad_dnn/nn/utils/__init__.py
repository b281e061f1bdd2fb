"""``torch.nn.utils``: gradient clipping (implemented in ``tinygrad_dnn.optim.clip``), parameter vectors,
``parametrize`` / ``parametrizations`` (weight normalization) and the legacy ``weight_norm`` hook."""
from __future__ import annotations

from . import parametrizations, parametrize
from .weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "remove_weight_norm",
    "vector_to_parameters",
    "weight_norm",
]


def _clip():
    try:
        from ...optim import clip
    except ImportError as e:
        raise ImportError("nn.utils: gradient clipping lives in tinygrad_dnn.optim.clip, which is not available "
                          f"yet ({e})") from e
    return clip


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale gradients so their total norm is at most ``max_norm``; returns the total norm (see optim.clip)."""
    return _clip().clip_grad_norm_(parameters, max_norm, norm_type=norm_type, error_if_nonfinite=error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] (see optim.clip)."""
    return _clip().clip_grad_value_(parameters, clip_value)


def parameters_to_vector(parameters):
    """Concatenate the flattened parameters into one vector (differentiable)."""
    from ...autograd.joining import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy slices of ``vec`` into the parameters in place (under no_grad)."""
    from ...autograd.grad_mode import no_grad

    i = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[i:i + n].reshape(p.shape))
            i += n
    if i != vec.numel():
        raise ValueError(f"vector_to_parameters: vector has {vec.numel()} elements, the parameters {i}")
