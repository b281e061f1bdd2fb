"""Views, in-place autograd, version counters and graph-cutting casts, differential against PyTorch.

Every case runs the same code on ``tinygrad_dnn`` and on ``torch`` (our API is torch's) and compares
forward values, dtypes and the gradient of every input, or checks that both raise. The issue-11
reproductions ("In-place and views") are tests of their own; a Hypothesis test applies random
sequences of views and in-place ops to both libraries.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_dnn as tg  # noqa: E402
import tinygrad_dnn.nn as tnn  # noqa: E402
import tinygrad_dnn.nn.functional as TF  # noqa: E402
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

# torch warns (deprecation) but still writes; we write silently
pytestmark = pytest.mark.filterwarnings("ignore:Use of masked_fill_ on expanded tensors")


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _make(lib, arrays, device, grads):
    out = []
    for a, g in zip(arrays, grads):
        if lib is torch:
            out.append(torch.tensor(a, requires_grad=g))
        else:
            out.append(tg.tensor(a, device=device, requires_grad=g))
    return out


def _run(lib, fn, arrays, device, grads):
    """(outputs, grads of the inputs) or the exception raised (forward or backward)."""
    ins = _make(lib, arrays, device, grads)
    try:
        outs = fn(lib, *ins)
        outs = outs if isinstance(outs, tuple) else (outs,)
        loss = None
        for i, o in enumerate(outs):
            if o.requires_grad:
                w = lib.tensor(np.linspace(0.5, 1.5, max(o.numel(), 1)).reshape(tuple(o.shape)), dtype=o.dtype)
                if lib is tg:
                    w = w.to(device)
                term = (o * w).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
    except RuntimeError as e:
        return e
    return [(_np(o), str(o.dtype).split(".")[-1]) for o in outs], \
           [None if x.grad is None else _np(x.grad) for x, g in zip(ins, grads) if g]


def check(fn, arrays, device, grads=None, rtol=1e-6, atol=1e-7):
    """fn(lib, *tensors) -> Tensor or tuple, run through both libraries and compared."""
    arrays = [np.asarray(a, dtype=np.float64) if not isinstance(a, np.ndarray) else a for a in arrays]
    grads = grads if grads is not None else [a.dtype.kind == "f" for a in arrays]
    theirs = _run(torch, fn, arrays, device, grads)
    ours = _run(tg, fn, arrays, device, grads)
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"torch raised {theirs!r}, tinygrad_dnn returned {ours!r}"
        return
    assert not isinstance(ours, Exception), f"tinygrad_dnn raised {ours!r}, torch returned {theirs!r}"
    (to, tgr), (oo, ogr) = theirs, ours
    assert len(to) == len(oo)
    for (a, da), (b, db) in zip(oo, to):
        assert da == db, f"dtype {da} vs torch {db}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for a, b in zip(ogr, tgr):
        assert (a is None) == (b is None), f"gradient {a} vs torch {b}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


X34 = np.arange(12, dtype=np.float64).reshape(3, 4) / 7.0 - 0.6


# ============================================================== 1. views share memory and versions
VIEWS = {
    "slice": lambda x: x[1:, ::2],
    "select": lambda x: x[1],
    "select_0d": lambda x: x[1, 2],
    "view": lambda x: x.view(12),
    "view_3d": lambda x: x.view(3, 2, 2),
    "reshape_viewable": lambda x: x.reshape(2, 6),
    "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(1, 0),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "t": lambda x: x.t(),
    "squeeze_unsqueeze": lambda x: x.unsqueeze(0).squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "unflatten": lambda x: x.unflatten(1, (2, 2)),
    "chain": lambda x: x.t()[1:].unsqueeze(0)[0, :, 1],
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_write_through_and_share_the_version_counter(name, device):
    v_of = VIEWS[name]

    def fn(lib, x):
        x = x.detach().clone()
        v = v_of(x)
        assert v._is_view() and v._base is x
        v.mul_(2).add_(1)
        assert x._version == v._version == 2
        return x, v

    check(fn, [X34], device, grads=[False])


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_inplace_through_a_view_of_a_graph_tensor_rebases_the_base(name, device):
    v_of = VIEWS[name]

    def fn(lib, w, c):
        x = w * 1.5
        v = v_of(x)
        v.mul_(c.sum()).add_(c.sum())  # the view's region now depends on c too
        return x * w, v

    check(fn, [X34, [0.3, -0.2]], device)


def test_view_of_view_base_is_the_root_and_detach_data_alias(device):
    def fn(lib, x):
        x = x.detach().clone()
        v = x[1:][0]
        assert v._base is x
        d = x.detach()
        assert not d._is_view() and d._base is None
        d[0, 0] = 5.0  # detach() shares memory and the version counter
        assert x._version == d._version == 1
        x.data[0, 1] = 7.0  # .data shares memory but not the version counter
        assert x._version == 1
        return x, v

    check(fn, [X34], device, grads=[False])


def test_select_of_an_element_is_a_0d_view(device):
    x = tg.zeros(3, 4, device=device)
    e = x[1, 2]
    assert isinstance(e, tg.Tensor) and e.shape == () and e._is_view() and e._base is x


@pytest.mark.parametrize("op", ["add_", "mul_", "iadd", "zero_", "fill_", "copy_", "sub_", "div_", "clamp_"])
def test_inplace_on_a_single_element_writes_through(op, device):
    """Issue 11: x = zeros(3, 4); x[1, 2].add_(1) (also mul_, +=, zero_, fill_, copy_) wrote nothing."""
    def fn(lib, x):
        x = x.detach().clone()
        e = x[1, 2]
        if op == "iadd":
            e += 3.0
        elif op == "fill_":
            e.fill_(4.0)
        elif op == "copy_":
            e.copy_(lib.tensor(9.0, dtype=x.dtype).to(x.device) if lib is tg else lib.tensor(9.0, dtype=x.dtype))
        elif op == "zero_":
            e.zero_()
        elif op == "clamp_":
            e.clamp_(-0.1, 0.1)
        else:
            getattr(e, op)(2.0)
        return x

    check(fn, [X34 + 1.0], device, grads=[False])


def test_bigram_counting_loop(device):
    """Issue 11: N[i, j] += 1 left the count matrix at zero."""
    pairs = [(0, 1), (1, 2), (0, 1), (2, 2), (0, 1)]

    def fn(lib, n):
        n = n.detach().clone()
        for i, j in pairs:
            n[i, j] += 1
        return n

    check(fn, [np.zeros((3, 3))], device, grads=[False])


def test_nll_accumulation_over_elements(device):
    """Issue 11: nll += torch.log(P[i, j]) kept only the first term."""
    pairs = [(0, 1), (1, 2), (2, 0)]

    def fn(lib, p):
        p = p.softmax(1)
        nll = lib.tensor(0.0, dtype=p.dtype)
        if lib is tg:
            nll = nll.to(p.device)
        for i, j in pairs:
            nll += lib.log(p[i, j]) if lib is torch else p[i, j].log()
        return -nll / len(pairs)

    check(fn, [X34[:, :3]], device)


# ============================================================== 2. in-place autograd
def test_accumulate_into_a_buffer_with_iadd(device):
    """Issue 11: acc = zeros(2); acc += w * 3; (acc * w).sum().backward() gave [3, 6], torch [6, 12]."""
    def fn(lib, w, acc):
        acc += w * 3
        return (acc * w).sum()

    check(fn, [[1.0, 2.0], [0.0, 0.0]], device, grads=[True, False])
    w = tg.tensor([1.0, 2.0], device=device, requires_grad=True)
    acc = tg.zeros(2, dtype=tg.float64, device=device)
    acc += w * 3
    (acc * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 12.0])


def test_setitem_of_a_value_requiring_grad_makes_the_buffer_join_the_graph(device):
    """Issue 11: buf = zeros(3); buf[1:] = w * 2 dropped the gradient."""
    def fn(lib, w, buf):
        buf[1:] = w * 2
        return buf * buf

    check(fn, [[1.0, -2.0], [0.5, 0.0, 0.0]], device, grads=[True, False])


def test_total_of_zeros_plus_loss(device):
    """Issue 11: total = zeros(()); total += loss raised."""
    def fn(lib, w, total):
        for k in range(3):
            total += ((w - k) ** 2).sum()
        return total

    check(fn, [[1.0, -2.0], 0.0], device, grads=[True, False])


@pytest.mark.parametrize("how", ["copy_", "masked_fill_", "setitem_mask", "add_"])
def test_plain_buffer_joins_the_graph(how, device):
    def fn(lib, w, buf):
        if how == "copy_":
            buf.copy_(w * 2)
        elif how == "masked_fill_":
            buf.masked_fill_(buf > 0.2, w.sum())
        elif how == "setitem_mask":
            buf[buf > 0.2] = w[0] * 3
        else:
            buf.add_(w.exp())
        return buf * 2

    check(fn, [[0.3, -0.4, 0.5], [0.1, 0.6, 0.9]], device, grads=[True, False])


def test_inplace_on_a_non_leaf_is_recorded(device):
    """Issue 11: h = w * 2; h += 1 raised."""
    def fn(lib, w):
        h = w * 2
        h += 1
        h *= w
        assert h.grad_fn is not None and not h.is_leaf
        return h

    check(fn, [[1.0, -2.0, 0.5]], device)


def test_setitem_on_a_clone(device):
    """Issue 11: y = x.clone(); y[:, 1] = v raised."""
    def fn(lib, x, v):
        y = x.clone()
        y[:, 1] = v
        return y.exp()

    check(fn, [X34, [1.0, 2.0, 3.0]], device)


def test_masked_scores_before_softmax(device):
    """Issue 11: scores[mask] = -inf before softmax raised."""
    def fn(lib, q, k):
        scores = q @ k.t()
        mask = lib.ones(3, 3, dtype=lib.bool).triu(1) if hasattr(lib.ones(1), "triu") else None
        if mask is None:
            mask = tg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1), device=q.device)
        elif lib is tg:
            mask = mask.to(q.device)
        scores[mask] = float("-inf")
        return scores.softmax(-1)

    check(fn, [X34[:, :2], X34[:, 2:] + 0.3], device)


def test_masked_fill_out_of_place(device):
    def fn(lib, x):
        return x.masked_fill(x > 0, -1.0) * x

    check(fn, [X34], device)


def test_inplace_on_leaf_requiring_grad_raises_and_under_no_grad_works(device):
    for op in (lambda w: w.add_(1), lambda w: w[0].mul_(2), lambda w: w.t().clamp_(0, 1),
               lambda w: w.__setitem__(0, 1.0)):
        for lib in (torch, tg):
            w = lib.ones(2, 2, requires_grad=True)
            with pytest.raises(RuntimeError, match="leaf"):
                op(w)
            with lib.no_grad():
                op(w)
    for lib, F in ((torch, torch.nn.functional), (tg, TF)):
        w = lib.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            F.relu(w, inplace=True)


# ============================================================== 3. version checks
@pytest.mark.parametrize("how", ["base_mul_", "reshape_view", "setitem_on_base", "detach_mul_", "select_view",
                                 "transpose_view", "saved_view_base_modified", "data_is_not_tracked"])
def test_modifying_a_saved_input_is_detected_through_aliases(how, device):
    """Issue 11: changing a saved tensor through its base / a reshape view / setitem / detach() gave a
    silently wrong gradient ([10, 10] instead of [1, 1])."""
    def fn(lib, w, s):
        a = s.view(2, 1)[:, 0] if how == "reshape_view" else s[0:2] if how == "saved_view_base_modified" else s
        y = (w * a).sum()  # saves a (aliases s)
        with lib.no_grad():
            if how in ("base_mul_", "saved_view_base_modified"):
                s.mul_(10)
            elif how == "reshape_view":
                s.view(2, 1).mul_(10)
            elif how == "setitem_on_base":
                s[0] = 10.0
            elif how == "detach_mul_":
                s.detach().mul_(10)
            elif how == "select_view":
                s[1].mul_(10)
            elif how == "transpose_view":
                s.unsqueeze(0).t().mul_(10)
            else:
                s.data.mul_(10)  # invisible to autograd in both libraries: the new values are used
        return y

    check(fn, [[1.0, 2.0], [1.0, 1.0]], device, grads=[True, False])


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sqrt", "relu", "softmax", "log_softmax"])
@pytest.mark.parametrize("how", ["self", "view", "detach"])
def test_modifying_a_saved_output_is_detected(op, how, device):
    """Issue 11: y = w.exp(); with no_grad(): y.mul_(2); backward gave 2 exp(w) instead of raising."""
    def fn(lib, w):
        y = getattr(w, op)(0) if "softmax" in op else getattr(w, op)()
        with lib.no_grad():
            (y if how == "self" else y[1:] if how == "view" else y.detach()).mul_(2)
        return y

    check(fn, [[0.5, 1.0, 2.0]], device)


def test_saved_output_modified_by_an_inplace_op_in_the_graph_raises(device):
    def fn(lib, w):
        y = w.exp()
        y.add_(1)
        return y

    check(fn, [[0.5, 1.0]], device)


def test_inplace_op_that_needs_the_original_value_keeps_a_copy(device):
    def fn(lib, w, b):
        y = w * 1
        y.mul_(b)
        y.pow_(2)
        z = w * 1
        z.exp_()
        return y, z

    check(fn, [[1.0, 2.0], [3.0, -4.0]], device)


def test_sibling_views_see_the_new_history(device):
    def fn(lib, w):
        x = w * 1
        a, b = x[0], x[1]
        a.mul_(3)
        x.mul_(w)
        return a, b, x

    check(fn, [X34], device)


# ============================================================== 4. integer and bool casts cut the graph
@pytest.mark.parametrize("cast", ["long", "int", "bool", "to_int64", "to_bool"])
def test_integer_and_bool_casts_cut_the_graph(cast, device):
    """Issue 11: x.long() kept requires_grad=True and passed the gradient through."""
    for lib in (tg, torch):
        x = lib.tensor([1.5, -2.0], requires_grad=True)
        if cast.startswith("to_"):
            y = x.to(lib.int64 if cast == "to_int64" else lib.bool)
        else:
            y = getattr(x, cast)()
        assert not y.requires_grad and y.grad_fn is None
    x = tg.tensor([1.5, -2.0], requires_grad=True)
    assert x.double().requires_grad and x.double().grad_fn is not None  # float casts stay differentiable


# ============================================================== 5. inplace= flags and x.op_() methods
ACT = {
    "relu": (lambda lib, x: lib.nn.functional.relu(x, inplace=True), lambda x: tnn.ReLU(inplace=True)(x),
             lambda x: torch.nn.ReLU(inplace=True)(x)),
    "relu6": (lambda lib, x: lib.nn.functional.relu6(x, inplace=True), lambda x: tnn.ReLU6(inplace=True)(x),
              lambda x: torch.nn.ReLU6(inplace=True)(x)),
    "leaky_relu": (lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1, inplace=True),
                   lambda x: tnn.LeakyReLU(0.1, inplace=True)(x), lambda x: torch.nn.LeakyReLU(0.1, inplace=True)(x)),
    "elu": (lambda lib, x: lib.nn.functional.elu(x, 0.7, inplace=True), lambda x: tnn.ELU(0.7, inplace=True)(x),
            lambda x: torch.nn.ELU(0.7, inplace=True)(x)),
    "selu": (lambda lib, x: lib.nn.functional.selu(x, inplace=True), lambda x: tnn.SELU(inplace=True)(x),
             lambda x: torch.nn.SELU(inplace=True)(x)),
    "silu": (lambda lib, x: lib.nn.functional.silu(x, inplace=True), lambda x: tnn.SiLU(inplace=True)(x),
             lambda x: torch.nn.SiLU(inplace=True)(x)),
    "mish": (lambda lib, x: lib.nn.functional.mish(x, inplace=True), lambda x: tnn.Mish(inplace=True)(x),
             lambda x: torch.nn.Mish(inplace=True)(x)),
    "hardtanh": (lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 0.5, inplace=True),
                 lambda x: tnn.Hardtanh(-0.5, 0.5, inplace=True)(x),
                 lambda x: torch.nn.Hardtanh(-0.5, 0.5, inplace=True)(x)),
    "relu_": (lambda lib, x: lib.nn.functional.relu_(x), None, None),
    "leaky_relu_": (lambda lib, x: lib.nn.functional.leaky_relu_(x, 0.2), None, None),
    "elu_": (lambda lib, x: lib.nn.functional.elu_(x), None, None),
    "hardtanh_": (lambda lib, x: lib.nn.functional.hardtanh_(x), None, None),
}

XA = np.array([[-1.3, -0.2, 0.1, 0.7], [1.9, -0.6, 0.3, 2.5]])  # away from kinks (0, bounds)


@pytest.mark.parametrize("name", sorted(ACT))
def test_inplace_flag_modifies_the_input_with_torchs_gradient(name, device):
    """Issue 11: F.relu(x, inplace=True) / nn.ReLU(inplace=True) left x unmodified."""
    f, mod, tmod = ACT[name]

    def fn(lib, w):
        h = w * 1.5
        y = f(lib, h)
        assert y is h
        return y

    check(fn, [XA], device)
    if mod is not None:
        x = tg.tensor(XA, device=device)
        tx = torch.tensor(XA)
        assert mod(x) is x and tmod(tx) is tx
        np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d"])
def test_dropout_inplace_modifies_the_input(cls, device):
    x = tg.ones(2, 3, 4, device=device)
    y = getattr(tnn, cls)(0.5, inplace=True)(x)
    assert y is x
    vals = set(np.unique(x.numpy()).tolist())
    assert vals <= {0.0, 2.0} and 0.0 in vals
    w = tg.ones(2, 3, 4, requires_grad=True, device=device)
    h = w * 1.0
    getattr(tnn, cls)(0.5, inplace=True)(h)
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), h.detach().numpy())  # gradient = mask / (1 - p)
    ev = getattr(tnn, cls)(0.5, inplace=True).eval()
    x = tg.ones(2, 3, 4, device=device)
    assert ev(x) is x and float(x.sum()) == 24.0


METHODS = ["relu_", "sigmoid_", "tanh_", "exp_", "log_", "sqrt_", "abs_", "neg_", "sin_", "cos_", "reciprocal_",
           "square_", "floor_", "ceil_", "trunc_", "clamp_", "clamp_min_", "clamp_max_", "pow_", "sub_", "div_"]


@pytest.mark.parametrize("m", METHODS)
def test_inplace_methods(m, device):
    args = {"clamp_": (-0.5, 1.5), "clamp_min_": (0.3,), "clamp_max_": (0.9,), "pow_": (3,), "sub_": (0.25,),
            "div_": (4.0,)}.get(m, ())

    def fn(lib, w):
        h = w * 1.0 if m not in ("log_", "sqrt_") else w.abs() + 0.1
        v = h[:, 1:]  # through a view, too
        assert getattr(v, m)(*args) is v
        return h

    check(fn, [XA], device)


# ============================================================== views that raise as torch
def test_expand_with_a_leading_minus_one_raises(device):
    """Issue 11: ones(3).expand(-1, 3) returned (3, 3)."""
    with pytest.raises(RuntimeError):
        torch.ones(3).expand(-1, 3)
    with pytest.raises(RuntimeError, match="expand"):
        tg.ones(3, device=device).expand(-1, 3)
    assert tuple(tg.ones(3, 1, device=device).expand(-1, 4).shape) == (3, 4)


def test_view_of_a_transposed_tensor_raises(device):
    """Issue 11: x.t().view(-1) returned a copy."""
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3).t().view(-1)
    x = tg.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="view"):
        x.t().view(-1)
    r = x.t().reshape(-1)  # reshape copies instead
    assert not r._is_view()
    c = x.t().contiguous().view(-1)
    assert c.shape == (6,)


def test_inplace_on_an_expanded_view_raises(device):
    def fn(lib, x):
        x = x.detach().clone()
        x[0:1].expand(3, 4).add_(1)
        return x

    check(fn, [X34], device, grads=[False])


def test_inplace_changing_dtype_raises_like_torch(device):
    def fn(lib, x):
        x = x.detach().long()
        x.add_(0.5)
        return x

    check(fn, [X34], device, grads=[False])


# ============================================================== weight clipping (issue 11, first item)
@pytest.mark.parametrize("how", ["data", "data_slice", "data_t", "detach", "no_grad_view", "no_grad_param"])
def test_weight_clipping_writes_through(how, device):
    """Issue 11: w.data.clamp_(-1, 1) and clamp_ through a slice/view/transpose/detach changed nothing."""
    def fn(lib, w):
        w = w.detach().clone().requires_grad_()
        if how == "data":
            w.data.clamp_(-1, 1)
        elif how == "data_slice":
            w.data[1:].clamp_(-1, 1)
        elif how == "data_t":
            w.data.t().clamp_(-1, 1)
        elif how == "detach":
            w.detach().clamp_(-1, 1)
        else:
            with lib.no_grad():
                (w.view(-1) if how == "no_grad_view" else w).clamp_(-1, 1)
        return w * 1.0

    check(fn, [X34 * 4], device)


def test_wgan_style_clipping_of_module_parameters(device):
    lin = tnn.Linear(3, 2).to(device)
    with tg.no_grad():
        lin.weight.mul_(10)
    for p in lin.parameters():
        p.data.clamp_(-0.01, 0.01)
    assert float(lin.weight.abs().max()) <= 0.01 and float(lin.bias.abs().max()) <= 0.01


# ============================================================== random sequences (Hypothesis)
VIEW_STEPS = [
    ("row", lambda t: t[1] if t.ndim >= 1 and t.shape[0] > 1 else t),
    ("slice", lambda t: t[1:] if t.ndim >= 1 and t.shape[0] > 1 else t),
    ("step", lambda t: t[..., ::2] if t.ndim >= 1 else t),
    ("t", lambda t: t.transpose(0, -1) if t.ndim >= 2 else t),
    ("unsqueeze", lambda t: t.unsqueeze(0) if t.ndim < 3 else t),
    ("elem", lambda t: t[(0,) * t.ndim]),
    ("flat", lambda t: t.view(-1) if t.ndim > 1 and t.is_contiguous() else t),
    ("detach", lambda t: t.detach()),
    ("expand", lambda t: t.unsqueeze(0).expand(2, *t.shape)),  # in-place on it raises in both
]
INPLACE_STEPS = [
    ("add_c", lambda lib, t, c: t.add_(c[0])),
    ("mul_c", lambda lib, t, c: t.mul_(c[1])),
    ("mul_2", lambda lib, t, c: t.mul_(2.0)),
    ("sub_scalar", lambda lib, t, c: t.sub_(0.5)),
    ("clamp_", lambda lib, t, c: t.clamp_(-0.6, 0.8)),
    ("relu_", lambda lib, t, c: t.relu_()),
    ("tanh_", lambda lib, t, c: t.tanh_()),
    ("fill_", lambda lib, t, c: t.fill_(0.25)),
    ("copy_", lambda lib, t, c: t.copy_(c[0].expand(t.shape) * 2)),
    ("iadd_self", lambda lib, t, c: t.__iadd__(t * c[1])),
    ("setitem", lambda lib, t, c: t.__setitem__(..., c[0] * 3)),
    ("zero_", lambda lib, t, c: t.zero_()),
    ("masked_fill_", lambda lib, t, c: t.masked_fill_(t > 0.1, c[1])),
    ("sigmoid_", lambda lib, t, c: t.sigmoid_()),
]


@pytest.mark.parametrize("dev", ["cpu", "strict"])
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.tuples(st.integers(0, len(VIEW_STEPS) - 1), st.integers(0, len(VIEW_STEPS) - 1),
                                st.integers(0, len(INPLACE_STEPS) - 1), st.integers(0, 3).map(lambda k: k == 0),
                                st.integers(0, 2).map(lambda k: k == 0)),
                      min_size=1, max_size=5),
       buffer=st.booleans())
def test_random_sequences_of_views_and_inplace_ops(dev, steps, buffer):
    """Views and in-place ops in random order on both libraries: values, raise/no-raise and gradients.

    Each step takes a view (two view ops) of the base, optionally saves it for backward (x * view),
    then applies an in-place op to it, optionally under no_grad; backward must raise exactly when torch's
    does (a saved value changed) and otherwise give torch's gradients.
    """
    def fn(lib, w, c):
        x = lib.zeros(3, 4, dtype=w.dtype, device=w.device) if buffer else w * 1.0  # a buffer joins via c
        saved = []
        for v1, v2, op, save, nograd in steps:
            v = VIEW_STEPS[v2][1](VIEW_STEPS[v1][1](x))
            if save:
                saved.append((v * c[1]).sum() + (v * v).sum())
            if nograd:
                with lib.no_grad():
                    INPLACE_STEPS[op][1](lib, v, c)
            else:
                INPLACE_STEPS[op][1](lib, v, c)
        out = x * w
        for s in saved:
            out = out + s
        return out

    check(fn, [X34, [0.7, -1.3]], dev)


@pytest.mark.parametrize("case", ["graph_base", "buffer_grad_value", "buffer_plain_value", "inside_no_grad"])
def test_view_made_under_no_grad_then_modified_in_place(case, device):
    def fn(lib, w):
        base = w * 2 if case in ("graph_base", "inside_no_grad") else lib.zeros(3, dtype=w.dtype, device=w.device)
        with lib.no_grad():
            v = base[1:]
        if case == "inside_no_grad":
            with lib.no_grad():
                v.add_(1)
        else:
            v.add_(w[1:] * 1 if case == "buffer_grad_value" else 1.0)
        return base * w

    check(fn, [[1.0, 2.0, 3.0]], device)


def test_setitem_into_a_view_of_a_buffer(device):
    def fn(lib, w):
        buf = lib.zeros(3, 4, dtype=w.dtype, device=w.device)
        buf[0][1:] = w
        buf.t()[2, 1:] = w[:2] * w[1:]
        return buf.sum(0) * 2

    check(fn, [[1.0, -2.0, 3.0]], device)


@pytest.mark.parametrize("op", ["fill_", "copy_", "zero_"])
def test_overwriting_a_non_leaf_gives_its_history_a_zero_gradient(op, device):
    def fn(lib, w, s):
        y = w * 3
        if op == "fill_":
            y.fill_(2.0)
        elif op == "copy_":
            y.copy_(s * 2)
        else:
            y.zero_()
        return y * s

    check(fn, [[1.0, -2.0], [0.5, 1.5]], device)


def test_values_of_another_dtype_written_into_a_buffer(device):
    """float64 values into a float32 buffer: the buffer keeps its dtype, the value's gradient keeps its own."""
    def fn(lib, w):
        buf = lib.zeros(4, dtype=lib.float32, device=w.device)
        buf[1:3] = w * 2
        acc = lib.zeros(2, dtype=lib.float32, device=w.device)
        acc += w
        acc.copy_(acc.double() * w)
        return buf, acc

    check(fn, [[1.0, -2.0]], device, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("split", ["unbind", "split", "chunk", "iter"])
def test_pieces_are_views(split, device):
    def fn(lib, w):
        x = w * 1.0
        if split == "unbind":
            parts = x.unbind(1)
        elif split == "split":
            parts = x.split(2, 1)
        elif split == "chunk":
            parts = x.chunk(3, 0)
        else:
            parts = list(x)
        parts[1].mul_(w[0, 0])
        assert parts[1]._is_view()
        return x

    check(fn, [X34], device)


@pytest.mark.parametrize("op", ["prod", "amax"])
def test_saved_0d_output_modified_through_a_view(op, device):
    def fn(lib, w):
        y = getattr(w, op)()
        with lib.no_grad():
            y.view(1).mul_(2)
        return y

    check(fn, [[0.5, 1.5, 2.0]], device)


def test_saved_output_of_a_retained_graph_modified_between_backwards(device):
    for lib in (torch, tg):
        w = lib.tensor([0.5, 1.5, 2.0], requires_grad=True)
        y = w.prod()
        (g,) = lib.autograd.grad(y, w, create_graph=True) if lib is torch else tg.grad(y, w, create_graph=True)
        g.sum().backward(retain_graph=True)
        with lib.no_grad():
            y.mul_(2)
        with pytest.raises(RuntimeError):
            y.backward()


@pytest.mark.parametrize("case", ["add_self", "add_t", "copy_shifted", "mul_shifted", "setitem_shifted", "copy_t",
                                  "add_row", "setitem_same", "iadd_with_none_index", "masked_fill_0d"])
def test_partially_overlapping_operands_raise_as_torch(case, device):
    def fn(lib, x):
        x = x.detach().clone()
        if case == "add_self":
            x.add_(x)
        elif case == "add_t":
            x.add_(x.t())
        elif case == "copy_shifted":
            x[1:].copy_(x[:-1])
        elif case == "mul_shifted":
            x[1:].mul_(x[:-1])
        elif case == "setitem_shifted":
            x[1:] = x[:-1]
        elif case == "copy_t":
            x.copy_(x.t())
        elif case == "add_row":
            x.add_(x[0])
        elif case == "setitem_same":
            x[0] = x[0]
        elif case == "iadd_with_none_index":
            x[None, 0] += 1
        else:
            x.masked_fill_(x > 0.1, x[0, 0])
        return x

    check(fn, [X34[:3, :3]], device, grads=[False])


@pytest.mark.parametrize("case", ["slice_of_expand", "elem_of_expand_grad", "fill_expand", "masked_fill_expand",
                                  "fill_expand_recorded", "add_expand", "zero_expand_t"])
def test_writes_through_expanded_views(case, device):
    """Found by the random sequences: a slice of an expand()ed view that has no repeated element is
    writable (through its base); fills of an expand()ed view are allowed (torch), other ops raise."""
    def fn(lib, w, c):
        x = w * 1.0 if case in ("elem_of_expand_grad", "fill_expand_recorded") else w.detach().clone()
        e = x.unsqueeze(0).expand(2, 3, 4)
        if case == "slice_of_expand":
            e[1:].mul_(3)
        elif case == "elem_of_expand_grad":
            e[0, 0, 0].mul_(c[1])
        elif case in ("fill_expand", "fill_expand_recorded"):
            e.fill_(0.5)
        elif case == "masked_fill_expand":
            e.masked_fill_(e > 0, 1.0)
        elif case == "add_expand":
            e.add_(1)
        else:
            e.transpose(0, 2).zero_()
        return x * w

    check(fn, [X34, [0.7, -1.3]], device)


def test_retained_and_leaf_grads_are_writable(device):
    for lib in (torch, tg):
        x = lib.ones(2, 3, requires_grad=True) if lib is torch else tg.ones(2, 3, requires_grad=True, device=device)
        y = x * 2
        y.retain_grad()
        y.sum().backward()
        y.grad.mul_(3)
        x.grad.zero_()
        assert float(y.grad.sum()) == 18.0 and float(x.grad.sum()) == 0.0


def test_fill_of_an_expanded_0d_reduction_result(device):
    def fn(lib, x):
        s = x.detach().sum()
        s.expand(4).fill_(2.0)
        return s

    check(fn, [[1.0, 2.0, 3.0]], device, grads=[False])


@pytest.mark.parametrize("case", ["fill", "masked_fill_slice_t", "view_of_detached_expand", "add_raises"])
def test_writes_through_a_detached_expanded_view(case, device):
    """Found by the random sequences: detach() of an expand()ed view reaches the base's memory."""
    def fn(lib, x):
        x = x.detach().clone()
        e = x.unsqueeze(0).expand(2, 3, 4).detach()
        if case == "fill":
            e.fill_(2.0)
        elif case == "masked_fill_slice_t":
            d = x[0:1].expand(3, 4).detach()[1:2].t()
            d.masked_fill_(d > 0, 5.0)
        elif case == "view_of_detached_expand":
            e[1].mul_(3)
        else:
            e.add_(1)
        return x

    check(fn, [X34], device, grads=[False])
