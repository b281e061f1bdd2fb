"""Elementwise math and losses against PyTorch (issue 11, "Math and losses"): values, dtypes and the
gradient of every input, on ``cpu`` and ``strict``, where naive formulas lose precision or produce
nan: log1p/expm1 at tiny x, sigmoid family at large |x| in float32, pow at 0 and negative bases,
hardtanh/relu6/clamp at their bounds, nan inputs, BCE at 0 and 1, cross-entropy with -inf logits
and ignored targets, float16 normalization and softmax.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_dnn as tg
import tinygrad_dnn.nn as tnn
import tinygrad_dnn.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
INF, NAN = math.inf, math.nan
EPS32 = float(np.finfo(np.float32).eps)


from _parity import _check, _name, diff  # noqa: E402,F401


# ------------------------------------------------------------------ log1p / expm1
@pytest.mark.parametrize("op", ["log1p", "expm1"])
def test_log1p_expm1_are_exact_for_tiny_x_repro(device, op):
    # issue: log1p(1e-20) and expm1(1e-20) gave 0 in float64; torch: 1e-20
    y = getattr(tg.tensor([1e-20], dtype=tg.float64, device=device), op)()
    assert float(y) == 1e-20
    x = [1e-20, -1e-12, 3e-8, 0.5, -0.5, 2.0]
    diff(lambda a: getattr(a, op)(), lambda a: getattr(a, op)(), x, device=device, rtol=1e-14)
    diff(lambda a: getattr(tg, op)(a), lambda a: getattr(torch, op)(a), x, device=device, dtype="float32", rtol=2e-7)


# ------------------------------------------------------------------ sigmoid family in float32
def test_sigmoid_keeps_relative_precision_for_negative_x_repro(device):
    # issue: sigmoid(-20.) gave 0 in float32 (torch 2.06e-9), so log(sigmoid(-20)) was -inf; 2e-4 error at -10
    s = tg.tensor([-20.0], device=device).sigmoid()
    assert s.dtype is tg.float32
    assert float(s) == pytest.approx(2.0611536e-9, rel=2 * EPS32)
    assert float(s.log()) == pytest.approx(-20.0, rel=1e-6)
    exact = 1.0 / (1.0 + math.exp(10.0))
    assert abs(float(tg.tensor([-10.0], device=device).sigmoid()) / exact - 1) <= 2 * EPS32


@pytest.mark.parametrize("fn", ["sigmoid", "logsigmoid", "softplus", "softplus_beta"])
def test_sigmoid_family_float32_wide_range_matches_torch(device, fn):
    x = np.concatenate([-np.logspace(-6, 2.2, 40), [0.0], np.logspace(-6, 2.2, 40)]).astype(np.float32)
    ours = {"sigmoid": lambda a: a.sigmoid(), "logsigmoid": F.logsigmoid, "softplus": F.softplus,
            "softplus_beta": lambda a: F.softplus(a, beta=2.0, threshold=10.0)}[fn]
    theirs = {"sigmoid": lambda a: a.sigmoid(), "logsigmoid": TF.logsigmoid, "softplus": TF.softplus,
              "softplus_beta": lambda a: TF.softplus(a, beta=2.0, threshold=10.0)}[fn]
    diff(ours, theirs, x, device=device, dtype="float32", rtol=4 * EPS32, atol=1e-37)


@SETTINGS
@given(st.lists(st.floats(-120, 120, width=32), min_size=1, max_size=8))
def test_sigmoid_family_random_float32_matches_torch(xs):
    x = np.asarray(xs, dtype=np.float32)
    diff(lambda a: a.sigmoid(), lambda a: a.sigmoid(), x, dtype="float32", rtol=4 * EPS32, atol=1e-37)
    diff(F.logsigmoid, TF.logsigmoid, x, dtype="float32", rtol=4 * EPS32, atol=1e-37)


# ------------------------------------------------------------------ pow at 0 and with negative bases
def test_pow_zero_exponent_at_zero_has_gradient_zero_repro(device):
    # issue: x ** 0 at 0 gave a nan gradient; torch 0
    for f in (lambda a: a ** 0, lambda a: a ** 0.0, lambda a: a.pow(0)):
        diff(f, f, [0., 1., -2.], device=device)
    diff(lambda a: a ** tg.tensor([0., 0., 2.], dtype=tg.float64, device=device),
         lambda a: a ** torch.tensor([0., 0., 2.], dtype=torch.float64), [0., 3., 0.], device=device)


def test_zero_base_pow_gradients_as_torch_repro(device):
    # issue: 0 ** y gave nan / -inf gradients and 0. ** x raised "math domain error" in backward
    y = [0., 1., 2., -1., 0.5]
    diff(lambda b: 0.0 ** b, lambda b: 0.0 ** b, y, device=device)
    diff(lambda b: tg.zeros(5, dtype=tg.float64, device=device) ** b,
         lambda b: torch.zeros(5, dtype=torch.float64) ** b, y, device=device)


def test_negative_scalar_base_pow_backward_does_not_raise_repro(device):
    # issue: backward of (-3.) ** x raised "math domain error"; torch: nan gradients
    diff(lambda b: (-3.0) ** b, lambda b: (-3.0) ** b, [0., 1., 2., 0.5], device=device)


def test_tensor_pow_both_inputs_at_zeros_and_negative_bases(device):
    a = [-3., -3., 0., 0., 0., 2.]
    b = [2., 0.5, 0., -1., 2., 0.]
    diff(lambda x, y: x ** y, lambda x, y: x ** y, a, b, device=device)


# ------------------------------------------------------------------ kinks at the bounds, nan inputs
def test_hardtanh_and_relu6_pass_no_gradient_at_their_bounds_repro(device):
    # issue: gradient 1 at the bounds; torch 0
    x = [-2., -1., -0.5, 0., 0.5, 1., 2.]
    diff(F.hardtanh, TF.hardtanh, x, device=device)
    diff(lambda a: F.hardtanh(a, -0.5, 0.5), lambda a: TF.hardtanh(a, -0.5, 0.5), x, device=device)
    x6 = [-1., 0., 3., 6., 7.]
    diff(F.relu6, TF.relu6, x6, device=device)
    diff(lambda a: tnn.ReLU6()(a), lambda a: torch.nn.ReLU6()(a), x6, device=device)
    diff(lambda a: tnn.Hardtanh(-1.0, 1.0)(a), lambda a: torch.nn.Hardtanh(-1.0, 1.0)(a), x, device=device)


def _one_by_one(f):
    """torch: ``f`` on each element alone. A one-element tensor takes PyTorch's scalar loop (the op's reference
    formula); its SIMD loop on larger tensors disagrees at a few special values (see below)."""
    return lambda a: torch.stack([f(v) for v in a.reshape(-1).split(1)]).reshape(a.shape)


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "elu", "selu"])
def test_nan_gradient_of_kinked_activations_follows_torchs_formula(device, name):
    # Deliberate choice: torch's hardtanh'(nan) / relu6'(nan) / elu'(nan) / selu'(nan) depend on the tensor's size and
    # the element's position: its scalar loop (tensors of < 8 float64 / 16 float32 elements, and the tail of longer
    # ones) computes the formula, (x <= lo or x >= hi) ? 0 : g and x <= 0 ? ... : g, which gives g at nan; its SIMD
    # loop gives 0 (hardtanh) or nan (elu). We follow the formula, for every size.
    x = [NAN, -2., -1., -0.5, 0., 0.5, 1., 7., -0.0, INF, -INF]
    for n in (1, 40):
        for dtype in ("float64", "float32"):
            diff(getattr(F, name), _one_by_one(getattr(TF, name)), x * n, device=device, dtype=dtype, rtol=1e-6)
    t = torch.tensor([NAN], requires_grad=True)
    getattr(TF, name)(t).backward()
    assert t.grad.item() != 0 and not math.isnan(t.grad.item())  # torch's own answer on one element


def test_gelu_at_infinities_follows_torchs_formula(device):
    # Deliberate choice: torch's float32 gelu(+inf) is nan on tensors of 2+ elements (its vectorized kernel) but
    # inf on one element and in float64; we give inf. gelu(-inf) is nan (-inf * 0) everywhere, as torch.
    x = [INF, -INF, NAN, 0., 1., -1., 700., -700.]
    for dtype in ("float64", "float32"):
        diff(F.gelu, _one_by_one(TF.gelu), x, device=device, dtype=dtype, rtol=1e-6)
    diff(F.gelu, TF.gelu, x, device=device)  # float64: torch agrees on the whole tensor
    t = torch.tensor([INF, 1.0])
    assert math.isnan(TF.gelu(t)[0].item()) and TF.gelu(t[:1]).item() == INF  # the torch behaviour we do not copy


def test_clamp_passes_gradient_at_its_bounds_as_torch(device):
    x = [-2., -1., 0., 1., 2., NAN]
    diff(lambda a: a.clamp(-1.0, 1.0), lambda a: a.clamp(-1.0, 1.0), x, device=device)
    diff(lambda a: a.clamp(min=0.0), lambda a: a.clamp(min=0.0), x, device=device)
    diff(lambda a: a.clamp(max=1.0), lambda a: a.clamp(max=1.0), x, device=device)


@pytest.mark.parametrize("name", ["abs", "sign", "relu"])
def test_abs_sign_relu_at_zero_and_nan_as_torch_repro(device, name):
    # issue: sign(nan), abs'(nan), relu'(nan) differed from torch (torch: sign(nan) = 0, abs'(nan) = 0, relu'(nan) = 1)
    x = [0., NAN, -1., 2., -0.0]
    diff(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), x, device=device)
    diff(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), x, device=device, dtype="float32")
    if name == "relu":
        diff(F.relu, TF.relu, x, device=device)


# ------------------------------------------------------------------ binary cross-entropy
def test_bce_at_exactly_zero_and_one_is_finite_as_torch_repro(device):
    # issue: BCE at an input of exactly 0 or 1 gave nan gradients; torch: log clamped at -100, finite gradient
    p = [0., 1., 0., 1., 0.5, 1e-30]
    y = [1., 0., 0., 1., 1., 0.]
    for red in ("mean", "sum", "none"):
        for dtype in ("float32", "float64"):
            (loss,), _ = diff(lambda a, b: F.binary_cross_entropy(a, b, reduction=red),
                              lambda a, b: TF.binary_cross_entropy(a, b, reduction=red), p, y, device=device,
                              dtype=dtype, rtol=1e-6)


def test_bce_with_weight_and_soft_targets_matches_torch(device):
    p = [0., 0.3, 1., 0.999]
    y = [0.2, 0.7, 0.9, 1.0]
    w = [1., 2., 0.5, 3.]
    diff(lambda a, b: F.binary_cross_entropy(a, b, weight=tg.tensor(w, device=device)),
         lambda a, b: TF.binary_cross_entropy(a, b, weight=torch.tensor(w)), p, y, device=device, dtype="float32",
         rtol=1e-6)


def test_sigmoid_bce_at_a_saturated_correct_prediction_has_gradient_zero_repro(device):
    # issue: sigmoid + BCELoss at p == 1.0 gave nan gradients, so one SGD step made every weight nan
    z = [40., -40., 17., -104.]
    y = [1., 0., 1., 0.]
    diff(lambda a, b: tnn.BCELoss()(a.sigmoid(), b), lambda a, b: torch.nn.BCELoss()(a.sigmoid(), b), z, y,
         device=device, dtype="float32", rtol=1e-5, atol=1e-30)
    # one SGD step of a saturated, correct logistic model: finite weights, torch's (tiny) gradients
    steps = []
    for lib, nn in ((tg, tnn), (torch, torch.nn)):
        lin = nn.Linear(1, 1)
        if lib is tg:
            lin = lin.to(device)
        with lib.no_grad():
            lin.weight.fill_(50.0)
            lin.bias.fill_(0.0)
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        x = lib.tensor([[1.0], [-1.0]], device=device) if lib is tg else torch.tensor([[1.0], [-1.0]])
        t = lib.tensor([1.0, 0.0], device=device) if lib is tg else torch.tensor([1.0, 0.0])
        loss = nn.BCELoss()(lin(x).sigmoid().reshape(-1), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps.append([lin.weight.grad.numpy().ravel(), lin.bias.grad.numpy().ravel(),
                      lin.weight.detach().numpy().ravel()])
    for a, b in zip(*steps):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=0)


# ------------------------------------------------------------------ cross-entropy with masking / ignore_index
def test_cross_entropy_with_a_minus_inf_logit_repro(device):
    # issue: cross_entropy with a -inf logit (masking) gave nan; torch 1.313
    (loss,), _ = diff(lambda z, t: F.cross_entropy(z, t),
                      lambda z, t: TF.cross_entropy(z, t), [[1., 2., -INF]], [0], device=device, consts=(1,))
    assert float(loss) == pytest.approx(1.3132616875182228)


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1},
                                {"weight": "w"}, {"ignore_index": 1}])
def test_cross_entropy_with_masked_classes_matches_torch(device, kw):
    z = [[1., 2., -INF, 0.], [-INF, 0.5, 3., -INF], [0., 0., 0., -INF]]
    t = [0, 1, 2]
    kwo, kwt = dict(kw), dict(kw)
    if kw.get("weight"):
        kwo["weight"] = tg.tensor([1., 2., 0.5, 1.], device=device)
        kwt["weight"] = torch.tensor([1., 2., 0.5, 1.])
    diff(lambda a, b: F.cross_entropy(a, b, **kwo), lambda a, b: TF.cross_entropy(a, b, **kwt), z, t,
         device=device, consts=(1,), dtype="float64" if not kw.get("weight") else "float32", rtol=1e-6)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"label_smoothing": 0.2}, {"weight": "w"}])
def test_all_targets_ignored_as_torch_repro(device, fn, kw):
    # issue: all targets ignore_index gave nan gradients; torch: loss nan ('mean'), gradient 0
    if fn == "nll_loss" and "label_smoothing" in kw:
        pytest.skip("nll_loss has no label_smoothing")
    kwo, kwt = dict(kw), dict(kw)
    if kw.get("weight"):
        kwo["weight"] = tg.tensor([1., 2., 0.5], dtype=tg.float64, device=device)
        kwt["weight"] = torch.tensor([1., 2., 0.5], dtype=torch.float64)
    z = [[1., 2., 0.5], [1., 1., 1.]]
    (loss,), (zo, _) = diff(lambda a, b: getattr(F, fn)(a, b, **kwo), lambda a, b: getattr(TF, fn)(a, b, **kwt), z,
                            [-100, -100], device=device, consts=(1,))
    assert not np.isnan(zo.grad.numpy()).any()


# ------------------------------------------------------------------ float16 normalization and softmax
def test_float16_layer_norm_of_values_around_500_repro():
    # issue: layer_norm of values around 500 in float16 returned all zeros; torch: std 1
    x = (np.random.default_rng(0).normal(500, 3, size=(4, 1000))).astype(np.float16)
    ours = F.layer_norm(tg.tensor(x), (1000,))
    theirs = TF.layer_norm(torch.tensor(x), (1000,))
    assert ours.dtype is tg.float16
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), atol=2e-2)
    assert abs(float(ours.float().std()) - 1.0) < 1e-2


def test_float16_layer_norm_gradients_match_torch():
    rng = np.random.default_rng(1)
    x = rng.normal(500, 3, size=(3, 64)).astype(np.float16)
    w = rng.uniform(0.5, 1.5, size=64).astype(np.float16)
    b = rng.standard_normal(64).astype(np.float16)
    diff(lambda a, c, d: F.layer_norm(a, (64,), c, d), lambda a, c, d: TF.layer_norm(a, (64,), c, d), x, w, b,
         dtype="float16", rtol=2e-2, atol=5e-2)


def test_float16_batchnorm_with_variance_above_65504_repro():
    # issue: BatchNorm1d with a batch variance above 65504 (the float16 maximum) gave nan running_var
    x = (np.random.default_rng(0).standard_normal((64, 3)) * 300).astype(np.float16)
    ours, theirs = tnn.BatchNorm1d(3).half(), torch.nn.BatchNorm1d(3).half()
    yo, yt = ours(tg.tensor(x)), theirs(torch.tensor(x))
    rv = ours.running_var.numpy()
    assert np.isfinite(rv).all() and ours.running_var.dtype is tg.float16
    np.testing.assert_allclose(rv.astype(float), theirs.running_var.numpy().astype(float), rtol=2e-3)
    np.testing.assert_allclose(ours.running_mean.numpy().astype(float), theirs.running_mean.numpy().astype(float),
                               rtol=2e-3, atol=1e-2)
    np.testing.assert_allclose(yo.detach().numpy().astype(float), yt.detach().numpy().astype(float), atol=2e-2)


def test_float16_softmax_over_65504_or_more_classes_repro():
    # issue: softmax over >= 65504 classes returned all zeros in float16; torch: correct (float32 accumulation)
    for n in (65504, 70000):
        x = np.zeros((2, n), dtype=np.float16)
        x[1, :10] = 3.0
        ours, theirs = tg.tensor(x).softmax(-1), torch.tensor(x).softmax(-1)
        assert ours.dtype is tg.float16
        np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-3)


def test_float16_log_softmax_over_many_classes_is_correct():
    # Deliberate difference: torch's CPU float16 log_softmax sums exp(x - max) in float16 and returns -inf once
    # that sum passes 65504 (70000 equal logits); we accumulate in float32 and return log(1/70000) = -11.156.
    x = np.zeros((1, 70000), dtype=np.float16)
    y = tg.tensor(x).log_softmax(-1)
    assert y.dtype is tg.float16
    np.testing.assert_allclose(y.numpy().astype(float), -math.log(70000), rtol=1e-3)
    x = np.random.default_rng(0).standard_normal((3, 70000)).astype(np.float16)
    y = F.log_softmax(tg.tensor(x), -1).numpy().astype(float)
    np.testing.assert_allclose(y, TF.log_softmax(torch.tensor(x).float(), -1).numpy(), atol=1e-2)


def test_float16_softmax_gradient_matches_torch():
    x = np.random.default_rng(2).standard_normal((2, 300)).astype(np.float16)
    diff(lambda a: a.softmax(-1), lambda a: a.softmax(-1), x, dtype="float16", rtol=2e-2, atol=1e-4)
    diff(lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1), x, dtype="float16", rtol=2e-2, atol=2e-2)


# ------------------------------------------------------------------ found by the random-program comparison
# (tests/parity/test_differential_programs.py): each a divergence from torch that the fuzzer reported.
def test_maximum_minimum_gradient_at_ties_and_nan_as_torch(device):
    # torch: where(a == b, g/2, g), then 0 for the smaller input; nan is neither smaller nor larger: both get g
    a = [0.0, -0.0, 1.0, NAN, 2.0, NAN, -INF, INF]
    b = [0.0, 0.0, 1.0, 0.0, NAN, NAN, -INF, 3.0]
    diff(tg.maximum, torch.maximum, a, b, device=device)
    diff(tg.minimum, torch.minimum, a, b, device=device)
    diff(lambda x: tg.maximum(x, tg.zeros_like(x)), lambda x: torch.maximum(x, torch.zeros_like(x)), a,
         device=device, dtype="float32")


@pytest.mark.parametrize("kw", [dict(dim=1), dict(dim=0, unbiased=False), dict(), dict(dim=1, correction=0)])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_gradient_with_infinities_and_nan_as_torch(device, op, kw):
    # torch's var_backward is 2 (x - mean) / (N - correction): an inf in a row makes the others -+inf and itself
    # nan (not the whole row nan, as the product rule through the mean gave)
    x = [[0.0, -1e-20, 2.0, 3.0], [-1.0, 700.0, -700.0, INF], [-INF, NAN, 3.0, -3.0], [1.0, 1.0, 1.0, 1.0]]
    diff(lambda a: getattr(a, op)(**kw), lambda a: getattr(a, op)(**kw), x, device=device, rtol=1e-12)
    diff(lambda a: getattr(a, op)(**kw), lambda a: getattr(a, op)(**kw), x, device=device, dtype="float32",
         rtol=1e-6)


@pytest.mark.parametrize("shape,kw", [((1,), dict()), ((1, 3), dict(dim=0)), ((2, 3), dict(dim=1, correction=3)),
                                      ((2,), dict(correction=5)), ((), dict())])
def test_var_with_no_degrees_of_freedom_as_torch(device, shape, kw):
    # N - correction <= 0: torch divides by 0 forward (nan / inf) and its backward has 2/0 = inf, or for a
    # reduction over everything where(x == mean, nan, inf)
    x = np.arange(1, 1 + int(np.prod(shape)), dtype=float).reshape(shape)
    diff(lambda a: a.var(**kw), lambda a: a.var(**kw), x, device=device)


@pytest.mark.parametrize("op", ["relu", "sign", "round", "pow0", "clamp", "hardtanh", "where", "max_dim", "max_all"])
def test_an_infinite_upstream_gradient_is_not_spread_as_nan(device, op):
    # torch's backward formulas select (where, masked_fill, threshold_backward, zeros_like(grad)) rather than
    # multiply by a 0/1 mask, so an inf arriving from upstream gives 0 off the selected entries, not inf * 0 = nan.
    # Here the upstream inf comes from 1/y at y = 0.
    f = {"relu": lambda L, x: x.relu(), "sign": lambda L, x: x.sign(), "round": lambda L, x: x.round(),
         "pow0": lambda L, x: x ** 0 - 1, "clamp": lambda L, x: x.clamp(min=0.0),
         "hardtanh": lambda L, x: L.nn.functional.hardtanh(x, 0.0, 1.0),
         "where": lambda L, x: L.where(x > 0, x, 0.0), "max_dim": lambda L, x: x.reshape(2, 3).max(1)[0],
         "max_all": lambda L, x: x.max() - x.max()}[op]
    x = [-1.0, 0.0, 0.5, 0.0, -2.0, 0.0]
    diff(lambda a: 1 / f(tg, a), lambda a: 1 / f(torch, a), x, device=device)


def test_clamp_relu_hardtanh_elu_keep_minus_zero_as_torch(device):
    # torch's clamp is min(max(x, lo), hi) keeping x where it equals a bound: clamp(-0.0, min=0.0) = -0.0, so
    # 1 / clamp(...) is -inf (NumPy's clip gives +0.0 and +inf)
    x = [-0.0, 0.0, -1.0, 2.0, NAN]
    for f in (lambda L, a: a.clamp(min=0.0), lambda L, a: a.clamp(-0.0, 0.0), lambda L, a: a.relu(),
              lambda L, a: L.nn.functional.relu6(a), lambda L, a: L.nn.functional.hardtanh(a, 0.0, 1.0),
              lambda L, a: L.nn.functional.elu(a), lambda L, a: L.nn.functional.prelu(a, L.full((1,), 0.25, dtype=a.dtype, device=a.device))):
        for dtype in ("float64", "float32"):
            diff(lambda a: 1 / f(tg, a), lambda a: 1 / f(torch, a), x, device=device, dtype=dtype, rtol=1e-6)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish"])
def test_smooth_activation_gradients_with_infinite_upstream_as_torch(device, name):
    # torch's gelu/silu/mish backward multiply g by the derivative as one factor: g = inf at a finite derivative
    # stays inf (the product rule through x * Phi(x) gave inf * 0 = nan); 1/y makes the upstream inf at y = 0
    ours = {"gelu": F.gelu, "gelu_tanh": lambda a: F.gelu(a, approximate="tanh"), "silu": F.silu, "mish": F.mish}[name]
    theirs = {"gelu": TF.gelu, "gelu_tanh": lambda a: TF.gelu(a, approximate="tanh"), "silu": TF.silu,
              "mish": TF.mish}[name]
    x = [0.0, 700.0, -700.0, 1.0, -1.0, 30.0, -30.0, NAN, -INF]
    diff(lambda a: 1 / ours(ours(a) * 0 + a * 0), lambda a: 1 / theirs(theirs(a) * 0 + a * 0), x, device=device)
    diff(lambda a: ours(a).exp(), lambda a: theirs(a).exp(), x, device=device, rtol=1e-12)
    diff(lambda a: ours(a).exp(), lambda a: theirs(a).exp(), x, device=device, dtype="float32", rtol=1e-5)
    diff(lambda a: 1 / ours(a), lambda a: 1 / theirs(a), [0.0, 1.0], device=device)


def test_prelu_at_nan_takes_the_negative_side_as_torch(device):
    # torch's prelu kernel is x > 0 ? x : w x: at nan the gradient is w (and w's gradient nan), not 1
    x = [NAN, -2.0, 0.0, -0.0, 3.0, -INF, INF]
    diff(F.prelu, TF.prelu, x, [0.25], device=device)
    diff(F.prelu, TF.prelu, np.array(x * 2).reshape(2, 7).T.copy(), [0.25, -0.5], device=device)


def test_norm_inf_with_nan_and_infinities_as_torch(device):
    # torch: the gradient of max |x| goes to the entries equal to it, or to the nans when it is nan
    for x in ([[0.0, NAN, 3.0], [-INF, 1.0, 2.0]], [[1.0, -3.0, 3.0], [0.0, 0.0, 0.0]]):
        diff(lambda a: a.norm(p=INF), lambda a: a.norm(p=INF), x, device=device)
        diff(lambda a: a.norm(p=INF, dim=1), lambda a: a.norm(p=INF, dim=1), x, device=device)


@pytest.mark.parametrize("fn", ["smooth_l1_loss", "huber_loss"])
def test_smooth_l1_huber_at_infinities_and_nan_as_torch(device, fn):
    # torch: inf -> the linear side's finite gradient; nan -> nan (the product rule through an unused d^2 gave nan
    # at inf, and the linear side at nan gave 0)
    x = [INF, -INF, NAN, 0.2, -0.2, 3.0, 0.5]
    t = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    for kw in (dict(), dict(reduction="none"), {"beta" if fn == "smooth_l1_loss" else "delta": 0.5}):
        diff(lambda a, b: getattr(F, fn)(a, b, **kw), lambda a, b: getattr(TF, fn)(a, b, **kw), x, t, device=device)


def test_bce_raises_on_a_nan_probability_as_torch(device):
    # torch: "all elements of input should be between 0 and 1" also for nan (nan >= 0 is false)
    with pytest.raises(RuntimeError):
        TF.binary_cross_entropy(torch.tensor([NAN, 0.5]), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="probabilities in"):
        F.binary_cross_entropy(tg.tensor([NAN, 0.5], device=device), tg.tensor([1.0, 0.0], device=device))


def test_division_gradient_of_the_divisor_in_torchs_order(device):
    # torch: -g (a / b) / b; -g a / (b b) underflows b b to 0 in float32 at b = 1e-30 and gives -inf
    a, b = [1e-30, 2.0, 0.0, 1.0], [1e-30, 1e-30, 1e-30, 1e30]
    diff(lambda x, y: x / y, lambda x, y: x / y, a, b, device=device, dtype="float32", rtol=1e-6)


def test_zero_dim_reductions_and_softmax_dims_as_torch(device):
    # mean over dim 0 of a 0-d tensor is itself (it raised); softmax over a dim the tensor lacks raises IndexError
    for f in (lambda a: a.sum().mean(0), lambda a: a.sum().mean(-1, keepdim=True), lambda a: a.sum().var(0)):
        diff(f, f, [[1.0, 2.0]], device=device)
    diff(lambda a: F.gelu(a.sum()), lambda a: TF.gelu(a.sum()), [[1.0, 2.0]], device=device)
    with pytest.raises(IndexError):
        torch.zeros(3).softmax(1)
    with pytest.raises(IndexError, match="softmax"):
        tg.zeros(3, device=device).softmax(1)
    with pytest.raises(IndexError, match="log_softmax"):
        tg.zeros(3, device=device).log_softmax(-2)


def test_prod_gradient_with_infinities_in_torchs_order(device):
    # torch: g * (y / x) (not (g y) / x), and the product of a 0-d tensor passes g through (y / x = inf / inf = nan)
    x = [[INF, -0.355, -1.49, -0.146]]
    diff(lambda a: a.prod().prod(), lambda a: a.prod().prod(), x, device=device, dtype="float32", rtol=1e-6)
    diff(lambda a: (a * 0 + INF).sum().prod(), lambda a: (a * 0 + INF).sum().prod(), x, device=device)
    diff(lambda a: a.prod(1), lambda a: a.prod(1), x, device=device)


def test_norm_gradient_in_torchs_order(device):
    # torch: g * (x / ||x||); for one element x / ||x|| is exactly 1, so normalize's gradient is exactly 0 and an
    # upstream 1/eps (normalize of a zero row) does not blow a rounding residue up to 4e-4
    f = lambda L: (lambda a: L.nn.functional.normalize(  # noqa: E731
        L.nn.functional.l1_loss(L.nn.functional.normalize(a, dim=1), a * 0 + 0.1, reduction="none"), dim=1))
    diff(f(tg), f(torch), [[0.0]], device=device)
    g0 = float(np.random.default_rng(1).standard_normal())  # the upstream value of the fuzzer's failing case
    for g in (g0, 0.34558419, -0.7, 1.3, 2.9):  # at one element: 0 up to torch's own rounding, which we reproduce
        xo = tg.tensor([[0.1]], dtype=tg.float64, device=device, requires_grad=True)
        F.normalize(xo, dim=1).backward(tg.tensor([[g]], dtype=tg.float64, device=device))
        xt = torch.tensor([[0.1]], dtype=torch.float64, requires_grad=True)
        TF.normalize(xt, dim=1).backward(torch.tensor([[g]], dtype=torch.float64))
        assert float(xo.grad.numpy()[0, 0]) == float(xt.grad[0, 0])  # same IEEE operations in the same order
    diff(lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), [[0.0, 0.0], [3.0, 4.0], [INF, 1.0], [NAN, 1.0]],
         device=device)


@pytest.mark.parametrize("pw", [None, [0.5, 2.0, 1.0]])
def test_bce_with_logits_gradient_with_infinite_upstream_as_torch(device, pw):
    # torch multiplies g by (sigmoid(x) - y) as one factor: an infinite g gives +-inf, not inf - inf = nan
    x = [[1.05, -20.0, -0.0], [INF, -2.75, 1.2], [-INF, 700.0, -700.0]]
    t = [[0.1, 0.5, 0.9], [0.2, 0.0, 1.0], [0.3, 0.6, 0.7]]

    def run(L, reduction):
        def f(a, b, *p):
            loss = L.nn.functional.binary_cross_entropy_with_logits(a, b, pos_weight=p[0] if p else None,
                                                                    reduction=reduction)
            return loss if reduction == "none" else loss ** 2  # loss = inf: an infinite upstream gradient
        return f
    for reduction, xs in (("none", x), ("mean", x[:2] + [[3.0, 700.0, -700.0]])):
        args, consts = ((xs, t), ()) if pw is None else ((xs, t, pw), (2,))
        diff(run(tg, reduction), run(torch, reduction), *args, device=device, consts=consts)


@pytest.mark.parametrize("kw", ["weight", "pos_weight"])
def test_bce_weights_that_require_grad_raise_as_torch(device, kw):
    # torch: "not differentiable with respect to argument 'weight'" (also pos_weight); fine under no_grad
    x, t = [0.3, -1.0, 2.0], [0.0, 1.0, 1.0]
    w = torch.tensor([1.0, 2.0, 0.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        TF.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(t), **{kw: w})
    wo = tg.tensor([1.0, 2.0, 0.5], device=device, requires_grad=True)
    xo, to = tg.tensor(x, device=device), tg.tensor(t, device=device)
    with pytest.raises(RuntimeError, match=f"not differentiable with respect to {kw}"):
        F.binary_cross_entropy_with_logits(xo, to, **{kw: wo})
    if kw == "weight":
        with pytest.raises(RuntimeError, match="not differentiable"):
            F.binary_cross_entropy(xo.sigmoid(), to, weight=wo)
    with tg.no_grad():
        ours = F.binary_cross_entropy_with_logits(xo, to, **{kw: wo})
    with torch.no_grad():
        theirs = TF.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(t), **{kw: w})
    assert float(ours) == pytest.approx(float(theirs), rel=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_float16_gelu_is_computed_in_float32_as_torch(approximate):  # cpu only: array-api-strict has no float16
    # torch computes half-precision gelu in float32 and rounds once; in float16 the tanh form's x^3 overflows at
    # x = 41 and gave nan gradients at 700
    x = np.array([700.0, -700.0, 50.0, -50.0, 3.0, -3.0, 0.5, 0.0], dtype=np.float16)
    diff(lambda a: F.gelu(a, approximate=approximate), lambda a: TF.gelu(a, approximate=approximate), x,
         dtype="float16", rtol=2e-3, atol=1e-3)
