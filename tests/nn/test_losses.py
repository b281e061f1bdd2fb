"""Losses: PyTorch parity (values and gradients for every reduction and option), gradient checks on
every backend, stability for extreme logits, and clear errors for bad targets."""
import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

RNG = np.random.default_rng(0)
N, C = 5, 4
LOGITS = RNG.standard_normal((N, C)) * 2
LABELS = np.array([0, 3, 1, 3, 2])
LABELS_IGN = np.array([0, -100, 1, 3, -100])
PROBS_T = RNG.dirichlet(np.ones(C), size=N)
X = RNG.standard_normal((N, 3))
Y = RNG.standard_normal((N, 3))
P = 1 / (1 + np.exp(-RNG.standard_normal((N, 3))))
B = (RNG.random((N, 3)) > 0.5).astype(np.float64)
W = np.array([0.5, 2.0, 1.0, 3.0])
PW = np.array([2.0, 0.5, 3.0])
PM1 = np.where(RNG.random((N, 3)) > 0.5, 1.0, -1.0)
LOGP_IN = np.log(RNG.dirichlet(np.ones(C), size=N))
X4 = RNG.standard_normal((2, C, 3, 2))
LAB4 = RNG.integers(0, C, size=(2, 3, 2))

# (name, input, target, kwargs, float target?)
CASES = [
    ("mse_loss", X, Y, {}, True),
    ("l1_loss", X, Y, {}, True),
    ("smooth_l1_loss", X, Y, {"beta": 0.7}, True),
    ("huber_loss", X, Y, {"delta": 0.6}, True),
    ("binary_cross_entropy", P, B, {}, True),
    ("binary_cross_entropy", P, B, {"weight": RNG.random((N, 3))}, True),
    ("binary_cross_entropy_with_logits", X * 3, B, {}, True),
    ("binary_cross_entropy_with_logits", X * 3, B, {"pos_weight": PW}, True),
    ("binary_cross_entropy_with_logits", X * 3, P, {"pos_weight": PW, "weight": RNG.random((N, 3))}, True),
    ("cross_entropy", LOGITS, LABELS, {}, False),
    ("cross_entropy", LOGITS, LABELS, {"weight": W}, False),
    ("cross_entropy", LOGITS, LABELS_IGN, {"weight": W}, False),
    ("cross_entropy", LOGITS, LABELS_IGN, {"label_smoothing": 0.2}, False),
    ("cross_entropy", LOGITS, LABELS_IGN, {"label_smoothing": 0.1, "weight": W}, False),
    ("cross_entropy", LOGITS, LABELS, {"ignore_index": 3}, False),
    ("cross_entropy", LOGITS, PROBS_T, {}, True),
    ("cross_entropy", LOGITS, PROBS_T, {"weight": W, "label_smoothing": 0.3}, True),
    ("cross_entropy", X4, LAB4, {"weight": W}, False),
    ("cross_entropy", LOGITS[0], LABELS[0], {}, False),
    ("nll_loss", LOGP_IN, LABELS, {}, False),
    ("nll_loss", LOGP_IN, LABELS_IGN, {"weight": W}, False),
    ("kl_div", LOGP_IN, PROBS_T, {}, True),
    ("kl_div", LOGP_IN, np.log(PROBS_T), {"log_target": True}, True),
    ("hinge_embedding_loss", X, PM1, {"margin": 0.5}, True),
    ("soft_margin_loss", X, PM1, {}, True),
    ("multi_margin_loss", LOGITS, LABELS, {}, False),
    ("multi_margin_loss", LOGITS, LABELS, {"p": 2, "margin": 0.7, "weight": W}, False),
]
REDUCTIONS = ["none", "mean", "sum"]


def _ids():
    return [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _ours(name, x, t, kw, float_t, device="cpu"):
    xo = torch.tensor(x, dtype=torch.float64, device=device, requires_grad=True)
    to = torch.tensor(t, dtype=torch.float64 if float_t else torch.int64, device=device)
    kwo = {k: torch.tensor(v, dtype=torch.float64, device=device) if isinstance(v, np.ndarray) else v
           for k, v in kw.items()}
    return xo, to, kwo


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("case", range(len(CASES)), ids=_ids())
def test_loss_matches_torch(case, reduction):
    real = pytest.importorskip("torch")
    name, x, t, kw, float_t = CASES[case]
    if reduction == "batchmean" and name != "kl_div":
        pytest.skip("batchmean is kl_div only")
    xo, to, kwo = _ours(name, x, t, kw, float_t)
    xt = real.tensor(x, dtype=real.float64, requires_grad=True)
    tt = real.tensor(t, dtype=real.float64 if float_t else real.int64)
    kwt = {k: real.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    lo = getattr(F, name)(xo, to, reduction=reduction, **kwo)
    lt = getattr(real.nn.functional, name)(xt, tt, reduction=reduction, **kwt)
    assert tuple(lo.shape) == tuple(lt.shape)
    assert np.allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(lt.shape))
    lo.backward(torch.tensor(g))
    lt.backward(real.tensor(g))
    assert np.allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", range(len(CASES)), ids=_ids())
def test_loss_gradcheck(case, reduction, device):
    name, x, t, kw, float_t = CASES[case]
    xo, to, kwo = _ours(name, x, t, kw, float_t, device)
    inputs = [xo]
    if float_t and name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy_with_logits",
                            "kl_div", "cross_entropy"):
        to = to.detach().requires_grad_()  # gradients w.r.t. the target too
        inputs.append(to)
    fn = getattr(F, name)

    def f(a, *rest):
        return fn(a, rest[0] if rest else to, reduction=reduction, **kwo)

    assert gradcheck(f, tuple(inputs))
    if name in ("cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "nll_loss", "kl_div"):
        assert gradgradcheck(f, tuple(inputs))


def test_loss_modules_match_functional_and_store_weights():
    x = torch.tensor(LOGITS)
    t = torch.tensor(LABELS)
    w = torch.tensor(W)
    m = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, reduction="sum")
    assert np.allclose(m(x, t).numpy(), F.cross_entropy(x, t, weight=w, label_smoothing=0.1, reduction="sum").numpy())
    assert list(m.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=torch.tensor(PW)).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    pairs = [(nn.MSELoss(), "mse_loss"), (nn.L1Loss(), "l1_loss"), (nn.SmoothL1Loss(), "smooth_l1_loss"),
             (nn.HuberLoss(), "huber_loss"), (nn.BCEWithLogitsLoss(), "binary_cross_entropy_with_logits"),
             (nn.KLDivLoss(), "kl_div"), (nn.HingeEmbeddingLoss(), "hinge_embedding_loss"),
             (nn.SoftMarginLoss(), "soft_margin_loss")]
    a, b = torch.tensor(X), torch.tensor(PM1)
    for mod, fname in pairs:
        assert np.allclose(mod(a, b).numpy(), getattr(F, fname)(a, b).numpy()), fname
    assert np.allclose(nn.NLLLoss()(torch.tensor(LOGP_IN), t).numpy(), F.nll_loss(torch.tensor(LOGP_IN), t).numpy())
    assert np.allclose(nn.MultiMarginLoss()(x, t).numpy(), F.multi_margin_loss(x, t).numpy())
    assert np.allclose(nn.BCELoss()(torch.tensor(P), torch.tensor(B)).numpy(),
                       F.binary_cross_entropy(torch.tensor(P), torch.tensor(B)).numpy())
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_losses_stable_for_extreme_logits(device):
    big = torch.tensor([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 5.0]], dtype=torch.float64, device=device,
                       requires_grad=True)
    t = torch.tensor([1, 1], device=device)
    loss = F.cross_entropy(big, t)
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 1000.0) < 1e-9
    assert np.all(np.isfinite(big.grad.numpy()))
    z = torch.tensor([-1000.0, 1000.0, 0.0, 50.0], dtype=torch.float64, device=device, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=torch.float64, device=device)
    bl = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    assert np.allclose(bl.detach().numpy(), [1000.0, 1000.0, np.log(2.0), np.log1p(np.exp(-50.0))], rtol=1e-12)
    bl.sum().backward()
    assert np.allclose(z.grad.numpy(), [-1.0, 1.0, -0.5, -1 / (1 + np.exp(50.0))])
    # BCE on saturated probabilities: the log is clamped at -100, as PyTorch
    p = torch.tensor([0.0, 1.0], dtype=torch.float64, device=device)
    assert np.allclose(F.binary_cross_entropy(p, torch.tensor([1.0, 0.0], dtype=torch.float64, device=device),
                                              reduction="none").numpy(), [100.0, 100.0])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_cross_entropy_hand_computed():
    x = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    lse = np.log(np.exp(1) + np.exp(2) + np.exp(3))
    assert np.isclose(F.cross_entropy(x, torch.tensor([2])).item(), lse - 3)
    # label smoothing 0.3 over 3 classes: (1 - 0.3) * nll + 0.1 * sum_c (lse - x_c)
    expected = 0.7 * (lse - 3) + 0.1 * (3 * lse - 6)
    assert np.isclose(F.cross_entropy(x, torch.tensor([2]), label_smoothing=0.3).item(), expected)
    # all targets ignored -> mean is 0/0 = nan as PyTorch
    assert np.isnan(F.cross_entropy(x, torch.tensor([-100])).item())


def test_bad_targets_give_clear_errors():
    x = torch.tensor(LOGITS)
    with pytest.raises(IndexError, match=r"target 7 is out of bounds for 4 classes \(input shape \(5, 4\), "
                                         r"target shape \(5,\)\)"):
        F.cross_entropy(x, torch.tensor([0, 1, 7, 2, 1]))
    with pytest.raises(IndexError, match="target -3 is out of bounds"):
        F.nll_loss(x, torch.tensor([0, 1, -3, 2, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(4,\) does not match input of shape \(5, 4\)"):
        F.cross_entropy(x, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="must be an integer tensor"):
        F.nll_loss(x, torch.tensor([0.0, 1.0, 2.0, 3.0, 1.0]))
    with pytest.raises(ValueError, match=r"probability target of shape \(5, 3\) must have the input's shape \(5, 4\)"):
        F.cross_entropy(x, torch.zeros(5, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"target shape \(5,\) differs from input shape \(5, 1\)"):
        F.mse_loss(torch.zeros(5, 1), torch.zeros(5))
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="weight of shape \\(3,\\) must have one entry per class"):
        F.cross_entropy(x, torch.tensor(LABELS), weight=torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(x, x, reduction="avg")
