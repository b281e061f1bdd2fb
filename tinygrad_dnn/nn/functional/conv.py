"""Convolution (``torch.nn.functional.conv1d/conv2d/conv3d``): argument checking and shapes.

The math (im2col + one matmul per group, and the three Functions that differentiate into each other)
is in ``autograd/ops/conv.py``; the window geometry in ``autograd/ops/windows.py``.
"""
from __future__ import annotations

from ...autograd.errors import check_float
from ...autograd.ops.conv import ConvNd, ConvTransposeNd
from ...autograd.ops.windows import _Geom
from ...autograd.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


# ------------------------------------------------------------------ argument handling
def _ntuple(v, n, name, op):
    """``v`` as a tuple of ``n`` ints (an int or a 1-tuple is repeated)."""
    if isinstance(v, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if isinstance(v, int):
        return (v,) * n
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) == 1:
        t = t * n
    if len(t) != n:
        raise RuntimeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return t


# ------------------------------------------------------------------ public functions
def _conv_padding(padding, nd, ksize, stride, dilation, op):
    """((lo, hi), ...) from an int, a tuple, 'valid' or 'same' (asymmetric for even kernels, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                                   f"(stride={stride}); use an explicit padding")
            pads = []
            for k, d in zip(ksize, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise RuntimeError(f"{op}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    p = _ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((v, v) for v in p)


def _check_operands(nd, op, input, weight, bias, layout):
    """Types and ranks of a (transposed) convolution's operands; returns (batched input, unbatched?).

    ``layout`` names the weight's dims for the message. Every shape or value error of a convolution is a
    ``RuntimeError``, as torch raises it (wrong types: ``TypeError``)."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: expected bias to be a Tensor or None, got {type(bias).__name__}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D ({layout}, *kernel), got shape {tuple(weight.shape)}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input "
                           f"(N, C, *spatial), got shape {tuple(input.shape)}")
    unbatched = input.ndim == nd + 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _convnd(nd, op, input, weight, bias, stride, padding, dilation, groups):
    input, unbatched = _check_operands(nd, op, input, weight, bias, "out_channels, in_channels/groups")
    groups = int(groups)
    if groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got {groups}")
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise RuntimeError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    o, cg = weight.shape[0], weight.shape[1]
    ksize = tuple(weight.shape[2:])
    c = input.shape[1]
    if c != cg * groups:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} has {c} channels, but weight of shape "
                           f"{tuple(weight.shape)} with groups={groups} expects {cg * groups} "
                           f"(in_channels = weight.shape[1] * groups)")
    if o % groups:
        raise RuntimeError(f"{op}: out_channels={o} (weight shape {tuple(weight.shape)}) is not divisible by "
                           f"groups={groups}")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{op}: bias of shape {tuple(bias.shape)} does not match out_channels={o}")
    if input.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
        raise RuntimeError(f"{op}: input dtype {input.dtype} and weight dtype {weight.dtype}"
                        + (f" (bias {bias.dtype})" if bias is not None else "") + " differ; convert the input "
                        f"(x.to({weight.dtype})) or the model (model.to({input.dtype}))")
    check_float(op, input)
    pads = _conv_padding(padding, nd, ksize, stride, dilation, op)
    geom = _Geom(tuple(input.shape), ksize, stride, dilation, pads, groups)
    if any(v < 1 for v in geom.out):
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} with padding {pads} is smaller than the "
                           f"dilated kernel {tuple(geom.extent(i) for i in range(nd))} (weight {tuple(weight.shape)}, "
                           f"dilation {dilation}); calculated output size {geom.out} is too small")
    y = ConvNd.apply(input, weight, bias, geom)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: input (N, C, L) or (C, L), weight (O, C/groups, k) -> (N, O, L_out).

    ``padding``: int, 1-tuple, 'valid' (none) or 'same' (output length = input length; stride 1).
    """
    return _convnd(1, "F.conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW) -> (N, O, H_out, W_out).

    ``stride``, ``padding``, ``dilation``: int or pair; ``padding`` may also be 'valid' or 'same'
    (for even kernels 'same' pads one more on the bottom/right, as PyTorch).
    """
    return _convnd(2, "F.conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution: input (N, C, D, H, W), weight (O, C/groups, kD, kH, kW)."""
    return _convnd(3, "F.conv3d", input, weight, bias, stride, padding, dilation, groups)


# ------------------------------------------------------------------ transposed convolution
def _conv_transpose_nd(nd, op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """y = conv^T(x, W) (+ b): the gradient of ``conv(y', W)`` with respect to ``y'``, which is
    ``ConvTransposeNd`` on the geometry of that convolution (input y (N, C_out, *S_out), output x)."""
    input, unbatched = _check_operands(nd, op, input, weight, bias, "in_channels, out_channels/groups")
    groups = int(groups)
    if groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of {nd} ints (no 'same'/'valid' for transposed "
                        f"convolution), got {padding!r}")
    pad = _ntuple(padding, nd, "padding", op)
    out_pad = _ntuple(output_padding, nd, "output_padding", op)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise RuntimeError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    if any(p < 0 for p in pad) or any(p < 0 for p in out_pad):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={pad}, output_padding={out_pad}")
    if any(op_ >= s and op_ >= d for op_, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, got "
                           f"output_padding={out_pad}, stride={stride}, dilation={dilation}")
    cin, cog = weight.shape[0], weight.shape[1]
    ksize = tuple(weight.shape[2:])
    if input.shape[1] != cin:
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected input "
                           f"{list(input.shape)} to have {cin} channels, but got {input.shape[1]} channels instead")
    if cin % groups:
        raise RuntimeError(f"{op}: in_channels={cin} (weight.shape[0]) is not divisible by groups={groups}")
    cout = cog * groups
    if bias is not None and tuple(bias.shape) != (cout,):
        raise RuntimeError(f"{op}: bias of shape {tuple(bias.shape)} does not match out_channels={cout}")
    if input.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
        raise RuntimeError(f"{op}: input dtype {input.dtype} and weight dtype {weight.dtype}"
                           + (f" (bias {bias.dtype})" if bias is not None else "") + " differ")
    check_float(op, input)
    sin = tuple(input.shape[2:])
    sout = tuple((i - 1) * s - 2 * p + d * (k - 1) + op_ + 1
                 for i, s, p, d, k, op_ in zip(sin, stride, pad, dilation, ksize, out_pad))
    if any(v < 1 for v in sout):
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} with weight {tuple(weight.shape)}, stride "
                           f"{stride}, padding {pad}, dilation {dilation}, output_padding {out_pad}: calculated "
                           f"output size {sout} is too small")
    geom = _Geom((input.shape[0], cout) + sout, ksize, stride, dilation, tuple((p, p) for p in pad), groups, out=sin)
    y = ConvTransposeNd.apply(input, weight, geom)
    if bias is not None:
        y = y + bias.reshape((cout,) + (1,) * nd)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution: input (N, C_in, L), weight (C_in, C_out/groups, k) -> (N, C_out, L_out),
    L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""
    return _conv_transpose_nd(1, "F.conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution"): input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW)
    -> (N, C_out, H_out, W_out) with H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    It is the gradient of ``conv2d`` with respect to its input (same weight)."""
    return _conv_transpose_nd(2, "F.conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution: input (N, C_in, D, H, W), weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose_nd(3, "F.conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                              dilation)
