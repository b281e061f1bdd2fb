"""The op registry: every differentiable op with sample inputs, a domain, and an optional PyTorch twin.

``OPS`` drives the gradient-check suite (first and second order, every backend), the PyTorch
parity tests and ``tinygrad-dnn gradcheck``. A meta-test walks the graphs these specs build and
fails if any ``Function`` subclass in the package is not exercised.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..backend import get_backend

_hxp = get_backend("cpu").xp


def _linear_op():
    from ..autograd.ops.linalg import Linear

    return Linear


@dataclass
class OpSpec:
    """One checkable case.

    name: unique id;  fn(*tensors) -> Tensor (or tuple);  shapes: input shapes;
    domain: 'real' (N(0,1)), 'nonzero' (|x| in [0.2, 1.5], random sign: keeps away from kinks),
    'positive' (U[0.5, 2]) or 'unit' (U[-0.9, 0.9]); second_order: run gradgradcheck;
    torch_fn(torch, *tensors): the same computation in PyTorch, for parity tests;
    nondiff: indices of inputs that are not differentiated (labels, masks) and their makers.
    """

    name: str
    fn: Callable
    shapes: list
    domain: str = "real"
    second_order: bool = True
    torch_fn: Callable | None = None
    consts: dict = field(default_factory=dict)  # input index -> callable(rng) -> host array (no grad)
    atol: float = 1e-5
    rtol: float = 1e-3

    def make_inputs(self, device, dtype="float64", seed=0):
        from .. import tensor

        rng = _hxp.random.default_rng(seed)
        out = []
        for i, shape in enumerate(self.shapes):
            if i in self.consts:
                out.append(tensor(self.consts[i](rng), device=device))
                continue
            if self.domain == "positive":
                a = rng.uniform(0.5, 2.0, size=shape)
            elif self.domain == "nonzero":
                a = rng.uniform(0.2, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
            elif self.domain == "unit":
                a = rng.uniform(-0.9, 0.9, size=shape)
            else:
                a = rng.standard_normal(shape)
            out.append(tensor(a, dtype=dtype, device=device, requires_grad=True))
        return out


OPS: list[OpSpec] = []


def register_op(spec: OpSpec) -> OpSpec:
    """Add a spec (a student's own op can join the suite this way)."""
    if any(s.name == spec.name for s in OPS):
        raise ValueError(f"register_op: an op named {spec.name!r} is already registered")
    OPS.append(spec)
    return spec


def _r(name, fn, shapes, domain="real", second_order=True, torch_fn=None, **kw):
    register_op(OpSpec(name, fn, shapes, domain, second_order, torch_fn, **kw))


# --------------------------------------------------------------- core ops
def _core():
    from ..autograd.ops.index import IndexAdd

    A, B = (3, 4), (4,)
    _r("add", lambda a, b: a + b, [A, B], torch_fn=lambda t, a, b: a + b)
    _r("add_scalar", lambda a: 2.5 + a, [A], torch_fn=lambda t, a: 2.5 + a)
    _r("sub", lambda a, b: a - b, [(2, 1, 4), (3, 1)], torch_fn=lambda t, a, b: a - b)
    _r("rsub_scalar", lambda a: 1.0 - a, [A], torch_fn=lambda t, a: 1.0 - a)
    _r("mul", lambda a, b: a * b, [A, (3, 1)], torch_fn=lambda t, a, b: a * b)
    _r("mul_scalar", lambda a: a * 3.0, [A], torch_fn=lambda t, a: a * 3.0)
    _r("div", lambda a, b: a / b, [A, B], "nonzero", torch_fn=lambda t, a, b: a / b)
    _r("rdiv_scalar", lambda a: 2.0 / a, [A], "nonzero", torch_fn=lambda t, a: 2.0 / a)
    _r("neg", lambda a: -a, [A], torch_fn=lambda t, a: -a)
    _r("pow_scalar", lambda a: a ** 3, [A], torch_fn=lambda t, a: a ** 3)
    _r("pow_square", lambda a: a ** 2, [A], torch_fn=lambda t, a: a ** 2)
    _r("pow_frac", lambda a: a ** 1.5, [A], "positive", torch_fn=lambda t, a: a ** 1.5)
    _r("pow_tensor", lambda a, b: a ** b, [A, B], "positive", torch_fn=lambda t, a, b: a ** b)
    _r("rpow_scalar", lambda a: 2.0 ** a, [A], torch_fn=lambda t, a: 2.0 ** a)
    _r("matmul_2d", lambda a, b: a @ b, [(3, 4), (4, 2)], torch_fn=lambda t, a, b: a @ b)
    _r("matmul_batched", lambda a, b: a @ b, [(2, 3, 4), (4, 2)], torch_fn=lambda t, a, b: a @ b)
    _r("matmul_bcast", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], torch_fn=lambda t, a, b: a @ b)
    _r("matmul_vec_mat", lambda a, b: a @ b, [(4,), (4, 3)], torch_fn=lambda t, a, b: a @ b)
    _r("matmul_mat_vec", lambda a, b: a @ b, [(3, 4), (4,)], torch_fn=lambda t, a, b: a @ b)
    _r("matmul_dot", lambda a, b: a @ b, [(4,), (4,)], torch_fn=lambda t, a, b: a @ b)
    _r("matmul_vec_batched", lambda a, b: a @ b, [(4,), (2, 4, 3)], torch_fn=lambda t, a, b: a @ b)
    _r("linear_fused", lambda x, w, b: _linear_op().apply(x, w, b), [(3, 4), (2, 4), (2,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.linear(x, w, b))
    _r("linear_fused_3d_nobias", lambda x, w: _linear_op().apply(x, w), [(2, 3, 4), (2, 4)],
       torch_fn=lambda t, x, w: t.nn.functional.linear(x, w))
    for name, dom in [("exp", "real"), ("log", "positive"), ("sqrt", "positive"), ("abs", "nonzero"),
                      ("sin", "real"), ("cos", "real"), ("tanh", "real"), ("sigmoid", "real"),
                      ("relu", "nonzero"), ("rsqrt", "positive"), ("log1p", "positive"), ("expm1", "real"),
                      ("square", "real"), ("reciprocal", "nonzero")]:
        _r(name, (lambda n: lambda a: getattr(a, n)())(name), [A], dom,
           torch_fn=(lambda n: lambda t, a: getattr(a, n)())(name))
    _r("sign", lambda a: a.sign() * a, [A], "nonzero", torch_fn=lambda t, a: a.sign() * a)
    _r("clamp", lambda a: a.clamp(-0.5, 0.5), [A], "nonzero", torch_fn=lambda t, a: a.clamp(-0.5, 0.5),
       consts={})
    _r("clamp_min", lambda a: a.clamp(min=0.1), [A], "nonzero", torch_fn=lambda t, a: a.clamp(min=0.1))
    _r("maximum", lambda a, b: a.maximum(b), [A, A], torch_fn=lambda t, a, b: t.maximum(a, b))
    _r("minimum", lambda a, b: a.minimum(b), [A, A], torch_fn=lambda t, a, b: t.minimum(a, b))
    _r("cast_f32_f64", lambda a: (a.float() * 1.0).double() + a, [A], atol=1e-4, rtol=1e-2,
       torch_fn=lambda t, a: a.float().double() + a)
    _r("remainder", lambda a, b: (a * 3.0) % b, [A, B], "positive", torch_fn=lambda t, a, b: (a * 3.0) % b)
    _r("floor_times_x", lambda a: (a * 2.0).floor() * a + a.round() * a, [A], "nonzero",
       torch_fn=lambda t, a: (a * 2.0).floor() * a + a.round() * a)
    _r("clone", lambda a: a.clone() * a, [A], torch_fn=lambda t, a: a.clone() * a)
    # reductions
    _r("sum_all", lambda a: a.sum(), [A], torch_fn=lambda t, a: a.sum())
    _r("sum_dim", lambda a: a.sum(dim=1), [A], torch_fn=lambda t, a: a.sum(dim=1))
    _r("sum_dims_keepdim", lambda a: a.sum(dim=(0, 2), keepdim=True), [(2, 3, 4)],
       torch_fn=lambda t, a: a.sum(dim=(0, 2), keepdim=True))
    _r("mean_dim", lambda a: a.mean(dim=-1, keepdim=True), [A], torch_fn=lambda t, a: a.mean(dim=-1, keepdim=True))
    _r("mean_all", lambda a: a.mean(), [A], torch_fn=lambda t, a: a.mean())
    _r("var", lambda a: a.var(dim=0), [A], torch_fn=lambda t, a: a.var(dim=0))
    _r("var_biased", lambda a: a.var(dim=1, correction=0), [A], torch_fn=lambda t, a: a.var(dim=1, correction=0))
    _r("std", lambda a: a.std(), [A], torch_fn=lambda t, a: a.std())
    _r("amax", lambda a: a.amax(dim=1), [A], torch_fn=lambda t, a: a.amax(dim=1))
    _r("amin_all", lambda a: a.amin(), [A], torch_fn=lambda t, a: a.amin())
    _r("max_dim", lambda a: a.max(dim=0).values, [A], torch_fn=lambda t, a: a.max(dim=0).values)
    _r("prod", lambda a: a.prod(dim=1), [A], "nonzero", torch_fn=lambda t, a: a.prod(dim=1))
    _r("logsumexp", lambda a: a.logsumexp(dim=1), [A], torch_fn=lambda t, a: a.logsumexp(dim=1))
    _r("norm", lambda a: a.norm(), [A], torch_fn=lambda t, a: a.norm())
    _r("softmax", lambda a: a.softmax(dim=1), [A], torch_fn=lambda t, a: a.softmax(dim=1))
    _r("softmax_dim0", lambda a: a.softmax(dim=0), [(3, 4, 2)], torch_fn=lambda t, a: a.softmax(dim=0))
    _r("log_softmax", lambda a: a.log_softmax(dim=-1), [A], torch_fn=lambda t, a: a.log_softmax(dim=-1))
    # shape
    _r("reshape", lambda a: a.reshape(2, 6) * 1.5, [A], torch_fn=lambda t, a: a.reshape(2, 6) * 1.5)
    _r("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 4)], torch_fn=lambda t, a: a.permute(2, 0, 1))
    _r("transpose", lambda a: a.transpose(0, 1) @ a, [A], torch_fn=lambda t, a: a.transpose(0, 1) @ a)
    _r("expand", lambda a: a.expand(2, 3, 4), [(3, 1)], torch_fn=lambda t, a: a.expand(2, 3, 4))
    _r("squeeze_unsqueeze", lambda a: a.unsqueeze(0).squeeze(1), [(3, 1, 2)],
       torch_fn=lambda t, a: a.unsqueeze(0).squeeze(1))
    _r("flatten", lambda a: a.flatten(1), [(2, 3, 2)], torch_fn=lambda t, a: a.flatten(1))
    _r("getitem_basic", lambda a: a[1:, ::2], [A], torch_fn=lambda t, a: a[1:, ::2])
    _r("getitem_int_none_ellipsis", lambda a: a[..., 1, None], [(2, 3, 4)], torch_fn=lambda t, a: a[..., 1, None])
    _r("getitem_int_array_repeat", lambda a: a[_idx(a, [0, 2, 0, 0])], [A],
       torch_fn=lambda t, a: a[t.tensor([0, 2, 0, 0])])
    _r("getitem_bool_mask", lambda a: a[a.detach() > 0], [A], "nonzero", torch_fn=lambda t, a: a[a.detach() > 0])
    _r("getitem_pairs", lambda a: a[_idx(a, [0, 1, 1]), _idx(a, [3, 0, 0])], [A],
       torch_fn=lambda t, a: a[t.tensor([0, 1, 1]), t.tensor([3, 0, 0])])
    _r("index_add_adjoint", lambda g: IndexAdd.apply(g, (3, 4), (_idx(g, [0, 2, 0])._data, slice(None)), True), [(3, 4)])
    _r("cat", lambda a, b: _cat(a, b), [(2, 3), (1, 3)], torch_fn=lambda t, a, b: t.cat([a, b], dim=0))
    _r("stack", lambda a, b: _stack(a, b), [A, A], torch_fn=lambda t, a, b: t.stack([a, b], dim=1))
    _r("split", lambda a: a.split(2, dim=1)[1] * 2.0, [(3, 5)], torch_fn=lambda t, a: a.split(2, dim=1)[1] * 2.0)
    _r("pad", lambda a: _pad(a), [A], torch_fn=lambda t, a: t.nn.functional.pad(a, (1, 2, 0, 1)))
    _r("where", lambda a, b: _where(a, b), [A, A], torch_fn=lambda t, a, b: t.where(a > b, a, b * 2))
    _r("repeat", lambda a: a.repeat(2, 1), [(2, 3)], torch_fn=lambda t, a: a.repeat(2, 1))
    _r("leaky_relu", lambda a: _F("leaky_relu")(a, 0.1), [A], "nonzero",
       torch_fn=lambda t, a: t.nn.functional.leaky_relu(a, 0.1))
    _r("elu", lambda a: _F("elu")(a, 1.3), [A], "nonzero", torch_fn=lambda t, a: t.nn.functional.elu(a, 1.3))
    _r("gelu", lambda a: _F("gelu")(a), [A], torch_fn=lambda t, a: t.nn.functional.gelu(a))
    _r("gelu_tanh", lambda a: _F("gelu")(a, approximate="tanh"), [A],
       torch_fn=lambda t, a: t.nn.functional.gelu(a, approximate="tanh"))
    _r("softplus", lambda a: _F("softplus")(a * 5.0, beta=2.0), [A],
       torch_fn=lambda t, a: t.nn.functional.softplus(a * 5.0, beta=2.0))


def _idx(ref, values):
    from .. import tensor

    return tensor(values, device=ref.device)


def _cat(a, b):
    from .. import cat

    return cat([a, b], dim=0)


def _stack(a, b):
    from .. import stack

    return stack([a, b], dim=1)


def _pad(a):
    from ..autograd.creation import pad

    return pad(a, (1, 2, 0, 1))


def _where(a, b):
    from .. import where

    return where(a.detach() > b.detach(), a, b * 2)


def _F(name):
    from ..nn import functional

    return getattr(functional, name)


def _grad_of(f, x, v):
    """v^T df/dx as a differentiable function of (x, v) (puts an op's backward graph under test)."""
    from ..autograd.function import grad

    return grad(f(x), x, v, create_graph=True)[0]


_core()


# --------------------------------------------------------------- layer ops (nn.functional)
def _labels(n, c):
    return lambda rng: rng.integers(0, c, size=n)


def _probs(shape):
    def make(rng):
        p = rng.uniform(0.1, 1.0, size=shape)
        return p / p.sum(axis=-1, keepdims=True)
    return make


def _nn():
    F = _F
    _r("dropout_train", lambda x: F("dropout")(x, 0.3, True), [(4, 5)])
    _r("mse_loss", lambda a, b: F("mse_loss")(a, b), [(3, 4), (3, 4)],
       torch_fn=lambda t, a, b: t.nn.functional.mse_loss(a, b))
    _r("l1_loss", lambda a, b: F("l1_loss")(a, b, reduction="sum"), [(3, 4), (3, 4)],
       torch_fn=lambda t, a, b: t.nn.functional.l1_loss(a, b, reduction="sum"))
    _r("smooth_l1_loss", lambda a, b: F("smooth_l1_loss")(a * 2, b, reduction="none"), [(3, 4), (3, 4)],
       torch_fn=lambda t, a, b: t.nn.functional.smooth_l1_loss(a * 2, b, reduction="none"))
    _r("huber_loss", lambda a, b: F("huber_loss")(a * 2, b, delta=0.5), [(3, 4), (3, 4)],
       torch_fn=lambda t, a, b: t.nn.functional.huber_loss(a * 2, b, delta=0.5))
    _r("bce", lambda p, y: F("binary_cross_entropy")(p.sigmoid(), y.sigmoid()), [(3, 4), (3, 4)],
       torch_fn=lambda t, p, y: t.nn.functional.binary_cross_entropy(p.sigmoid(), y.sigmoid()))
    _r("bce_with_logits", lambda z, y, pw: F("binary_cross_entropy_with_logits")(z * 3, y.sigmoid(), pos_weight=pw.exp()),
       [(3, 4), (3, 4), (4,)], consts={2: lambda rng: rng.standard_normal(4)},
       torch_fn=lambda t, z, y, pw: t.nn.functional.binary_cross_entropy_with_logits(z * 3, y.sigmoid(), pos_weight=pw.exp()))
    _r("cross_entropy", lambda z, y: F("cross_entropy")(z, y), [(5, 4), (5,)], consts={1: _labels(5, 4)},
       torch_fn=lambda t, z, y: t.nn.functional.cross_entropy(z, y))
    _r("cross_entropy_weight_smoothing",
       lambda z, y, w: F("cross_entropy")(z, y, weight=w.exp(), label_smoothing=0.1),
       [(5, 4), (5,), (4,)], consts={1: _labels(5, 4), 2: lambda rng: rng.standard_normal(4)},
       torch_fn=lambda t, z, y, w: t.nn.functional.cross_entropy(z, y, weight=w.exp(), label_smoothing=0.1))
    _r("cross_entropy_probs", lambda z, p: F("cross_entropy")(z, p), [(5, 4), (5, 4)], consts={1: _probs((5, 4))},
       torch_fn=lambda t, z, p: t.nn.functional.cross_entropy(z, p))
    _r("cross_entropy_nd", lambda z, y: F("cross_entropy")(z, y, reduction="sum"), [(2, 3, 4), (2, 4)],
       consts={1: lambda rng: rng.integers(0, 3, size=(2, 4))},
       torch_fn=lambda t, z, y: t.nn.functional.cross_entropy(z, y, reduction="sum"))
    _r("nll_loss", lambda z, y: F("nll_loss")(z.log_softmax(1), y), [(5, 4), (5,)], consts={1: _labels(5, 4)},
       torch_fn=lambda t, z, y: t.nn.functional.nll_loss(z.log_softmax(1), y))
    _r("kl_div", lambda z, p: F("kl_div")(z.log_softmax(1), p, reduction="batchmean"), [(5, 4), (5, 4)],
       consts={1: _probs((5, 4))},
       torch_fn=lambda t, z, p: t.nn.functional.kl_div(z.log_softmax(1), p, reduction="batchmean"))
    _r("conv1d", lambda x, w, b: F("conv1d")(x, w, b, stride=2, padding=1), [(2, 2, 7), (3, 2, 3), (3,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.conv1d(x, w, b, stride=2, padding=1))
    _r("conv2d", lambda x, w, b: F("conv2d")(x, w, b, padding=1), [(2, 2, 5, 5), (3, 2, 3, 3), (3,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.conv2d(x, w, b, padding=1))
    _r("conv2d_stride_dilation_groups", lambda x, w: F("conv2d")(x, w, stride=2, dilation=2, groups=2),
       [(1, 4, 7, 7), (4, 2, 2, 2)],
       torch_fn=lambda t, x, w: t.nn.functional.conv2d(x, w, stride=2, dilation=2, groups=2))
    _r("max_pool2d_overlap", lambda x: F("max_pool2d")(x, 3, stride=2, padding=1), [(2, 2, 5, 5)],
       torch_fn=lambda t, x: t.nn.functional.max_pool2d(x, 3, stride=2, padding=1))
    _r("max_pool1d", lambda x: F("max_pool1d")(x, 2), [(2, 3, 6)],
       torch_fn=lambda t, x: t.nn.functional.max_pool1d(x, 2))
    _r("avg_pool2d", lambda x: F("avg_pool2d")(x, 2, stride=1, padding=1, count_include_pad=False), [(2, 2, 4, 3)],
       torch_fn=lambda t, x: t.nn.functional.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False))
    # the pooling gradients as ops of their own (linear in v; their adjoints are reached at second order)
    _r("max_pool2d_backward", lambda x, v: _grad_of(lambda x: F("max_pool2d")(x * x, 3, stride=2, padding=1), x, v),
       [(2, 2, 5, 5), (2, 2, 3, 3)],
       torch_fn=lambda t, x, v: t.autograd.grad(t.nn.functional.max_pool2d(x * x, 3, stride=2, padding=1), x, v,
                                                create_graph=True)[0])
    _r("avg_pool2d_backward", lambda x, v: _grad_of(lambda x: F("avg_pool2d")(x * x, 2), x, v),
       [(2, 2, 4, 4), (2, 2, 2, 2)],
       torch_fn=lambda t, x, v: t.autograd.grad(t.nn.functional.avg_pool2d(x * x, 2), x, v, create_graph=True)[0])
    _r("batch_norm_train", lambda x, w, b: F("batch_norm")(x, None, None, w, b, training=True),
       [(4, 3, 2), (3,), (3,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True))
    _r("layer_norm", lambda x, w, b: F("layer_norm")(x, (4,), w, b), [(3, 4), (4,), (4,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.layer_norm(x, (4,), w, b))
    _r("group_norm", lambda x, w, b: F("group_norm")(x, 2, w, b), [(2, 4, 3), (4,), (4,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.group_norm(x, 2, w, b))


_nn()


# --------------------------------------------------------------- stream "stable math" (issue 11, items 7 and 8)
# Kinks, zeros and infinities with PyTorch's conventions, and the Functions added for them (Hardtanh,
# MaxDim, LogSumExp, Log1p, Expm1, BinaryCrossEntropy, Var, Gelu, Silu, Mish; Prod's exact gradient with zeros).
def _with_zeros(a, mask):
    """a - a0 * mask, where a0 is the value ``make_inputs`` draws for ``a`` at seed 0 (domain 'real'):
    the masked entries are exactly 0 at the checked point but still vary with ``a`` (derivative 1), so
    gradcheck differentiates prod *at* its zeros."""
    from .. import tensor

    return a - tensor(_seed0(tuple(a.shape)) * _hxp.asarray(mask, dtype=float), dtype=a.dtype, device=a.device)


def _seed0(shape):
    return _hxp.random.default_rng(0).standard_normal(shape)


_Z1 = [[0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]]  # rows: one zero, no zero, two zeros
_Z0 = [[0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]  # a single zero in the whole tensor


def _stable_math():
    F = _F
    A = (3, 4)
    _r("hardtanh", lambda a: F("hardtanh")(a, -1.0, 1.0), [A], "nonzero",
       torch_fn=lambda t, a: t.nn.functional.hardtanh(a, -1.0, 1.0))
    _r("relu6", lambda a: F("relu6")(a * 3.0 + 1.0), [A], "nonzero",
       torch_fn=lambda t, a: t.nn.functional.relu6(a * 3.0 + 1.0))
    _r("logsigmoid", lambda a: F("logsigmoid")(a * 4.0), [A], torch_fn=lambda t, a: t.nn.functional.logsigmoid(a * 4.0))
    _r("prod_with_zeros_dim", lambda a: _with_zeros(a, _Z1).prod(dim=1), [A],
       torch_fn=lambda t, a: (a - t.tensor(_seed0(A) * _hxp.asarray(_Z1))).prod(dim=1))
    _r("prod_with_one_zero_all", lambda a: _with_zeros(a, _Z0).prod(), [A],
       torch_fn=lambda t, a: (a - t.tensor(_seed0(A) * _hxp.asarray(_Z0))).prod())
    _r("prod_dims_keepdim", lambda a: a.prod(dim=(0, 2), keepdim=True), [(2, 3, 2)], "nonzero",
       torch_fn=lambda t, a: a.prod(dim=2, keepdim=True).prod(dim=0, keepdim=True))
    _r("max_dim_keepdim", lambda a: a.max(1, True).values, [A], torch_fn=lambda t, a: a.max(1, True).values)
    _r("min_dim", lambda a: a.min(dim=0).values, [A], torch_fn=lambda t, a: a.min(dim=0).values)
    _r("logsumexp_all_keepdim", lambda a: a.logsumexp(dim=(0, 1), keepdim=True), [A],
       torch_fn=lambda t, a: a.logsumexp(dim=(0, 1), keepdim=True))
    _r("std_positional", lambda a: a.std(1, False, True), [A], torch_fn=lambda t, a: a.std(1, False, True))
    _r("var_correction2", lambda a: a.var(0, correction=2), [(4, 3)], torch_fn=lambda t, a: a.var(0, correction=2))
    _r("norm_p3_dim", lambda a: a.norm(p=3, dim=1), [A], "nonzero", torch_fn=lambda t, a: a.norm(p=3, dim=1))
    _r("normalize", lambda a: F("normalize")(a, dim=1), [A], torch_fn=lambda t, a: t.nn.functional.normalize(a, dim=1))
    _r("pow_zero_exponent", lambda a: a ** 0 * a + a ** 0.0, [A], torch_fn=lambda t, a: a ** 0 * a + a ** 0.0)
    _r("rpow_zero_base", lambda a: 0.0 ** (a * a + 0.5) + a, [A], torch_fn=lambda t, a: 0.0 ** (a * a + 0.5) + a)
    _r("silu", lambda a: F("silu")(a * 3.0), [A], torch_fn=lambda t, a: t.nn.functional.silu(a * 3.0))
    _r("mish", lambda a: F("mish")(a * 3.0), [A], torch_fn=lambda t, a: t.nn.functional.mish(a * 3.0))
    _r("var_all", lambda a: a.var(), [A], torch_fn=lambda t, a: a.var())
    _r("prelu", lambda a, w: F("prelu")(a, w), [A, (1,)], "nonzero", torch_fn=lambda t, a, w: t.nn.functional.prelu(a, w))
    _r("bce_target_grad", lambda p, y: F("binary_cross_entropy")(p.sigmoid(), y.sigmoid(), reduction="sum"),
       [A, A], torch_fn=lambda t, p, y: t.nn.functional.binary_cross_entropy(p.sigmoid(), y.sigmoid(), reduction="sum"))


_stable_math()


# --------------------------------------------------------------- views and in-place ops (stream: views, issue 11)
def _views_inplace():
    """In-place ops recorded in the graph: on a non-leaf (IndexPut), through a view (CopySlices, whose
    backward uses ZeroRegion), copy_ (CopyFrom) and fill_ (Fill). Inputs are cloned first (leaves that
    require grad cannot be modified in place)."""

    def setitem(a, b):
        y = a * 1.0
        y[1:, ::2] = b
        return y * a

    def view_mul_(a, b):
        y = a * 1.0
        y.t()[1:].mul_(b)
        return y * a

    def view_copy_(a, b):
        y = a * 1.0
        y[0].copy_(b)
        return y.exp()

    def view_fill_(a):
        y = a * 1.0
        y[:, 1].fill_(2.0)
        return y * a

    def mask_setitem(a, b):
        y = a * 1.0
        y[a > 0] = b
        return y * a

    _r("setitem_slice", setitem, [(3, 4), (2, 2)], torch_fn=lambda t, a, b: setitem(a, b))
    _r("view_mul_", view_mul_, [(3, 4), (3, 3)], torch_fn=lambda t, a, b: view_mul_(a, b))
    _r("view_copy_", view_copy_, [(3, 4), (4,)], torch_fn=lambda t, a, b: view_copy_(a, b))
    _r("view_fill_", view_fill_, [(3, 4)], torch_fn=lambda t, a: view_fill_(a))
    _r("mask_setitem", mask_setitem, [(3, 4), ()], "nonzero", torch_fn=lambda t, a, b: mask_setitem(a, b))


_views_inplace()

# --------------------------------------------------------------- stream "tutorial API" (issue 13, namespaces)
# torch.linalg's differentiable Functions (Inv, Solve, Det in autograd/ops/inverse.py) and the norms
# built from existing ops. Matrices are shifted by 3 I so they stay well conditioned at every check point.
def _wellcond(a):
    from .. import eye

    return a + 3.0 * eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _tutorial_api():
    from .. import linalg as L

    _r("linalg_inv", lambda a: L.inv(_wellcond(a)), [(3, 3)],
       torch_fn=lambda t, a: t.linalg.inv(a + 3.0 * t.eye(3, dtype=a.dtype)))
    _r("linalg_inv_batched", lambda a: L.inv(_wellcond(a)), [(2, 3, 3)],
       torch_fn=lambda t, a: t.linalg.inv(a + 3.0 * t.eye(3, dtype=a.dtype)))
    _r("linalg_solve_matrix", lambda a, b: L.solve(_wellcond(a), b), [(3, 3), (3, 2)],
       torch_fn=lambda t, a, b: t.linalg.solve(a + 3.0 * t.eye(3, dtype=a.dtype), b))
    _r("linalg_solve_vector_broadcast", lambda a, b: L.solve(_wellcond(a), b), [(2, 3, 3), (3,)],
       torch_fn=lambda t, a, b: t.linalg.solve(a + 3.0 * t.eye(3, dtype=a.dtype), b))
    _r("linalg_det", lambda a: L.det(_wellcond(a)), [(3, 3)],
       torch_fn=lambda t, a: t.linalg.det(a + 3.0 * t.eye(3, dtype=a.dtype)))
    _r("linalg_det_batched", lambda a: L.det(_wellcond(a)), [(2, 2, 2)],
       torch_fn=lambda t, a: t.linalg.det(a + 3.0 * t.eye(2, dtype=a.dtype)))
    _r("linalg_vector_norm_p3", lambda a: L.vector_norm(a, 3, dim=1), [(3, 4)], "nonzero",
       torch_fn=lambda t, a: t.linalg.vector_norm(a, 3, dim=1))
    _r("linalg_matrix_norm_fro", lambda a: L.matrix_norm(a), [(2, 3, 4)],
       torch_fn=lambda t, a: t.linalg.matrix_norm(a))
    _r("linalg_matrix_norm_1", lambda a: L.matrix_norm(a, 1), [(3, 4)], "nonzero",
       torch_fn=lambda t, a: t.linalg.matrix_norm(a, 1))


_tutorial_api()

# --------------------------------------------------------------- stream "rnn" (issue 13): sequence layers
# nn.rnn.Recurrence (one node per layer and direction, BPTT backward) for every cell type and both
# directions, and the embedding lookup (gradient scattered into the looked-up rows).
def _seq(mode, reverse):
    def fn(x, h0, *rest):
        from ..autograd import creation as C
        from ..nn.rnn import _recurrence

        c0 = rest[0] if mode == "LSTM" else None
        w_ih, w_hh, b_ih, b_hh = rest[1:] if mode == "LSTM" else rest
        out, hn, cn = _recurrence(mode, reverse, _F("linear")(x, w_ih, b_ih), h0, c0, w_hh, b_hh)
        parts = [out.reshape(-1), hn.reshape(-1)] + ([cn.reshape(-1)] if cn is not None else [])
        return C.cat(parts)

    def torch_fn(t, x, h0, *rest):
        c0 = rest[0] if mode == "LSTM" else None
        ws = rest[1:] if mode == "LSTM" else rest
        cls = {"RNN_TANH": t.nn.RNN, "RNN_RELU": t.nn.RNN, "LSTM": t.nn.LSTM, "GRU": t.nn.GRU}[mode]
        kw = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
        m = cls(x.shape[-1], h0.shape[-1], **kw).double()
        params = dict(zip(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], ws))
        xs = x.flip(0) if reverse else x
        hx = (h0[None], c0[None]) if mode == "LSTM" else h0[None]
        out, h = t.func.functional_call(m, params, (xs, hx))
        out = out.flip(0) if reverse else out
        hs = [h[0].reshape(-1), h[1].reshape(-1)] if mode == "LSTM" else [h.reshape(-1)]
        return t.cat([out.reshape(-1)] + hs)

    return fn, torch_fn


def _sequence_layers():
    T, B, I, H = 3, 2, 3, 2
    for mode in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU"):
        G = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode]
        states = [(B, H), (B, H)] if mode == "LSTM" else [(B, H)]
        for reverse in (False, True):
            fn, tfn = _seq(mode, reverse)
            _r(f"recurrence_{mode.lower()}" + ("_reverse" if reverse else ""), fn,
               [(T, B, I)] + states + [(G * H, I), (G * H, H), (G * H,), (G * H,)],
               "nonzero" if mode == "RNN_RELU" else "real", torch_fn=tfn)
    # (padding_idx is not a derivative -- its row's gradient is 0 by definition -- tests/nn/test_embedding.py)
    _r("embedding_repeated_rows", lambda w: _F("embedding")(_idx(w, [[0, 2, 1], [2, 2, 3]]), w),
       [(4, 3)], torch_fn=lambda t, w: t.nn.functional.embedding(t.tensor([[0, 2, 1], [2, 2, 3]]), w))


_sequence_layers()

# --------------------------------------------------------------- stream "tensorops" (issue 13): tensor ops
# ops/gather.py (Gather, ScatterAdd, Scatter), ops/cumulative.py (Cumsum, Cumprod with and without zeros,
# Flip, Roll), ops/special.py (Erf, Log2, Log10), and compositions built on them (index_select/index_add,
# sort/topk values, diag/diagonal/trace, einsum).
def _tensor_ops():
    gi = [[0, 2, 2, 1], [3, 0, 0, 0]]          # gather/scatter index along dim 1 of a (3, 4)
    si = [[0, 0, 3, 3], [1, 1, 1, 1], [2, 0, 2, 0]]  # scatter_add index with repeats, (3, 4)

    _r("gather", lambda x: x.gather(1, _idx(x, gi)), [(3, 4)],
       torch_fn=lambda t, x: x.gather(1, t.tensor(gi)))
    _r("scatter_add", lambda x, s: x.scatter_add(1, _idx(x, si), s), [(3, 4), (3, 4)],
       torch_fn=lambda t, x, s: x.scatter_add(1, t.tensor(si), s))
    _r("scatter", lambda x, s: x.scatter(1, _idx(x, [[0, 3], [1, 2], [3, 0]]), s), [(3, 4), (3, 2)],
       torch_fn=lambda t, x, s: x.scatter(1, t.tensor([[0, 3], [1, 2], [3, 0]]), s))
    _r("index_select", lambda x: x.index_select(1, _idx(x, [2, 0, 0])), [(2, 3, 4)],
       torch_fn=lambda t, x: x.index_select(1, t.tensor([2, 0, 0])))
    _r("index_add", lambda x, s: x.index_add(0, _idx(x, [0, 2, 0, 1]), s, alpha=2.0), [(3, 4), (4, 4)],
       torch_fn=lambda t, x, s: x.index_add(0, t.tensor([0, 2, 0, 1]), s, alpha=2.0))
    _r("cumsum", lambda x: x.cumsum(1), [(2, 3, 4)], torch_fn=lambda t, x: x.cumsum(1))
    _r("cumprod", lambda x: x.cumprod(-1), [(2, 5)], "nonzero", torch_fn=lambda t, x: x.cumprod(-1))
    zmask = lambda rng: _hxp.array([[1.0, 0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0, 1.0]])  # noqa: E731
    _r("cumprod_with_zeros", lambda x, m: (x * m).cumprod(1), [(2, 5), (2, 5)], "nonzero", consts={1: zmask},
       torch_fn=lambda t, x, m: (x * m).cumprod(1))
    _r("flip", lambda x: x.flip(0, 2), [(2, 3, 4)], torch_fn=lambda t, x: x.flip(0, 2))
    _r("roll", lambda x: x.roll((1, -2), (0, 1)), [(3, 4)], torch_fn=lambda t, x: x.roll((1, -2), (0, 1)))
    _r("roll_flat", lambda x: x.roll(5), [(3, 4)], torch_fn=lambda t, x: x.roll(5))
    _r("tril_triu", lambda x: x.tril(1) + 2 * x.triu(-1), [(3, 4)], torch_fn=lambda t, x: x.tril(1) + 2 * x.triu(-1))
    _r("sort_values", lambda x: x.sort(1, descending=True)[0], [(3, 4)],
       torch_fn=lambda t, x: x.sort(1, descending=True)[0])
    _r("topk_values", lambda x: x.topk(2, dim=0)[0], [(3, 4)], torch_fn=lambda t, x: x.topk(2, dim=0)[0])
    _r("erf", lambda x: x.erf(), [(3, 4)], torch_fn=lambda t, x: x.erf())
    _r("log2", lambda x: x.log2(), [(3, 4)], "positive", torch_fn=lambda t, x: x.log2())
    _r("log10", lambda x: x.log10(), [(3, 4)], "positive", torch_fn=lambda t, x: x.log10())
    _r("diag_diagonal_trace", lambda v, x: _cat(v.diag(1).reshape(-1), x.diagonal(-1).reshape(-1)) * x.trace(),
       [(3,), (3, 3)], torch_fn=lambda t, v, x: t.cat([v.diag(1).reshape(-1), x.diagonal(-1).reshape(-1)]) * x.trace())
    _r("einsum_bij_bjk", lambda a, b: _einsum("bij,bjk->bki", a, b), [(2, 3, 4), (2, 4, 2)],
       torch_fn=lambda t, a, b: t.einsum("bij,bjk->bki", a, b))


def _einsum(eq, *ops):
    from ..functional_ops import einsum

    return einsum(eq, *ops)


_tensor_ops()

# --------------------------------------------------------------- stream "nnlayers" (issue 13): attention,
# transposed convolution, resampling and padding layers (compositions, plus the Functions they add).
def _nnlayers():
    _r("sdpa_causal", lambda q, k, v: _F("scaled_dot_product_attention")(q, k, v, is_causal=True),
       [(2, 3, 2), (2, 4, 2), (2, 4, 3)],
       torch_fn=lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True))
    _r("sdpa_float_mask_scale", lambda q, k, v, m: _F("scaled_dot_product_attention")(q, k, v, attn_mask=m, scale=0.5),
       [(1, 2, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2), (3, 3)],
       torch_fn=lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.5))

    def mha(q, k, v, w_in, b_in, w_out, b_out):
        y, w = _F("multi_head_attention_forward")(q, k, v, 4, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                                  average_attn_weights=False)
        return y * 1.0 + (w * w).sum() * 0.5

    def mha_torch(t, q, k, v, w_in, b_in, w_out, b_out):
        y, w = t.nn.functional.multi_head_attention_forward(q, k, v, 4, 2, w_in, b_in, None, None, False, 0.0,
                                                            w_out, b_out, average_attn_weights=False)
        return y * 1.0 + (w * w).sum() * 0.5

    _r("multi_head_attention", mha, [(3, 1, 4), (2, 1, 4), (2, 1, 4), (12, 4), (12,), (4, 4), (4,)],
       torch_fn=mha_torch)
    _r("conv_transpose2d", lambda x, w, b: _F("conv_transpose2d")(x, w, b, stride=2, padding=1, output_padding=1,
                                                                  groups=2),
       [(1, 4, 3, 3), (4, 1, 3, 2), (2,)],
       torch_fn=lambda t, x, w, b: t.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                                                     groups=2))
    _r("conv_transpose1d_dilation", lambda x, w: _F("conv_transpose1d")(x, w, stride=2, dilation=2),
       [(2, 2, 4), (2, 3, 3)],
       torch_fn=lambda t, x, w: t.nn.functional.conv_transpose1d(x, w, stride=2, dilation=2))

    _r("pad_reflect_replicate",
       lambda x: _F("pad")(_F("pad")(x, (2, 1, -1, 2), mode="reflect"), (1, 3, 0, 1), "replicate"),
       [(1, 2, 4, 3)],
       torch_fn=lambda t, x: t.nn.functional.pad(t.nn.functional.pad(x, (2, 1, -1, 2), mode="reflect"),
                                                 (1, 3, 0, 1), "replicate"))
    _r("pad_circular_negative", lambda x: _F("pad")(x, (2, -1), mode="circular"), [(2, 3, 4)],
       torch_fn=lambda t, x: t.nn.functional.pad(x, (2, -1), mode="circular"))
    _r("pad_constant_negative", lambda x: _F("pad")(x, (-1, 2, 1, -2), value=0.5), [(2, 4, 5)],
       torch_fn=lambda t, x: t.nn.functional.pad(x, (-1, 2, 1, -2), value=0.5))
    _r("interpolate_bilinear", lambda x: _F("interpolate")(x, size=(5, 3), mode="bilinear"), [(1, 2, 3, 4)],
       torch_fn=lambda t, x: t.nn.functional.interpolate(x, size=(5, 3), mode="bilinear"))
    _r("interpolate_bilinear_align_corners",
       lambda x: _F("interpolate")(x, scale_factor=1.5, mode="bilinear", align_corners=True), [(1, 1, 3, 4)],
       torch_fn=lambda t, x: t.nn.functional.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True))
    _r("interpolate_nearest", lambda x: _F("interpolate")(x, scale_factor=(1.5, 0.5)), [(1, 2, 3, 4)],
       torch_fn=lambda t, x: t.nn.functional.interpolate(x, scale_factor=(1.5, 0.5)))
    _r("unfold", lambda x: _F("unfold")(x, (2, 3), padding=1, stride=(2, 1)), [(2, 2, 4, 3)],
       torch_fn=lambda t, x: t.nn.functional.unfold(x, (2, 3), padding=1, stride=(2, 1)))
    _r("fold", lambda c: _F("fold")(c, (4, 3), 2, dilation=(1, 2), padding=(0, 1)), [(2, 8, 9)],
       torch_fn=lambda t, c: t.nn.functional.fold(c, (4, 3), 2, dilation=(1, 2), padding=(0, 1)))
    _r("cosine_similarity", lambda a, b: _F("cosine_similarity")(a, b, dim=-1), [(3, 4), (1, 4)],
       torch_fn=lambda t, a, b: t.nn.functional.cosine_similarity(a, b, dim=-1))

    def unpool_indices(rng):  # a first maximum in each 2x2 window of a 4x4 plane (non-overlapping pooling)
        r, c = rng.integers(0, 2, size=(2, 3, 2, 2)), rng.integers(0, 2, size=(2, 3, 2, 2))
        rows = _hxp.arange(2).reshape(2, 1) * 2 + r
        cols = _hxp.arange(2).reshape(1, 2) * 2 + c
        return rows * 4 + cols

    _r("max_unpool2d", lambda v, i: _F("max_unpool2d")(v, i, 2), [(2, 3, 2, 2), (2, 3, 2, 2)],
       consts={1: unpool_indices}, torch_fn=lambda t, v, i: t.nn.functional.max_unpool2d(v, i, 2))
    _r("adaptive_max_pool2d_any_size", lambda x: _F("adaptive_max_pool2d")(x, (3, 2)), [(2, 2, 5, 5)], "nonzero",
       torch_fn=lambda t, x: t.nn.functional.adaptive_max_pool2d(x, (3, 2)))


_nnlayers()
