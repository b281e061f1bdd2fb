"""nn.utils.parametrize, nn.utils.parametrizations.weight_norm and the legacy nn.utils.weight_norm against
PyTorch: values, gradients with respect to g and v, state_dict keys/shapes/order, removal, errors.

Tolerances: float64 on both sides, the same formula (w = g v / ||v||) evaluated in the same order up to
BLAS summation order, measured differences ~1e-16; rtol 1e-10 leaves room for any BLAS."""
import copy
import warnings

import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.nn.utils import parametrize

torch = pytest.importorskip("torch")
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _np(t):
    return t.detach().cpu().numpy() if not isinstance(t, tg.Tensor) else t.detach().numpy()


def _pair(kind, device="cpu"):
    """The same float64 module in both libraries (weights copied from ours)."""
    if kind == "linear":
        ours, theirs = nn.Linear(5, 4), torch.nn.Linear(5, 4)
        x = np.random.default_rng(1).standard_normal((3, 5))
    else:
        ours, theirs = nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
        x = np.random.default_rng(1).standard_normal((2, 2, 6, 6))
    ours = ours.double().to(device)
    theirs = theirs.double()
    theirs.load_state_dict({k: torch.tensor(_np(v)) for k, v in ours.state_dict().items()})
    return ours, theirs, x


@pytest.mark.torch
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None), ("conv", 0), ("conv", 1),
                                      ("conv", -2), ("conv", None)])
def test_weight_norm_parametrization_matches_torch(kind, dim, device):
    ours, theirs, x = _pair(kind, device)
    w_before = _np(ours.weight).copy()
    nn.utils.parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert type(ours).__name__ == type(theirs).__name__ == f"Parametrized{'Linear' if kind == 'linear' else 'Conv2d'}"
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)  # bias, parametrizations.weight.original0, ...original1
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for k in sd:
        np.testing.assert_allclose(_np(sd[k]), _np(tsd[k]), **TOL)
    np.testing.assert_allclose(_np(ours.weight), w_before, **TOL)  # registration keeps the function
    # change g and v so that w is not the original weight, then compare values and gradients
    rng = np.random.default_rng(2)
    g0, v0 = (rng.standard_normal(tuple(sd[k].shape)) for k in list(sd)[1:])
    theirs.load_state_dict({"bias": tsd["bias"], "parametrizations.weight.original0": torch.tensor(g0),
                            "parametrizations.weight.original1": torch.tensor(v0)})
    ours.load_state_dict({k: _np(v) for k, v in theirs.state_dict().items()})
    y, ty = ours(tg.tensor(x, device=device)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(y), _np(ty), **TOL)
    gout = rng.standard_normal(tuple(ty.shape))
    y.backward(tg.tensor(gout, device=device))
    ty.backward(torch.tensor(gout))
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(tp.grad), err_msg=n, **TOL)


def test_weight_norm_formula_and_direction_invariance():
    """w = g v / ||v|| (rows for dim=0): scaling v leaves w unchanged, and each row of w has norm |g|."""
    m = nn.utils.parametrizations.weight_norm(nn.Linear(6, 3).double())
    p = m.parametrizations.weight
    g, v = _np(p.original0), _np(p.original1)
    np.testing.assert_allclose(_np(m.weight), g * v / np.linalg.norm(v, axis=1, keepdims=True), **TOL)
    np.testing.assert_allclose(np.linalg.norm(_np(m.weight), axis=1), np.abs(g[:, 0]), **TOL)
    w = _np(m.weight).copy()
    with tg.no_grad():
        p.original1.mul_(3.7)
    np.testing.assert_allclose(_np(m.weight), w, **TOL)


def test_assigning_the_weight_goes_through_right_inverse_and_removal():
    m = nn.utils.parametrizations.weight_norm(nn.Linear(4, 2).double())
    new = tg.tensor(np.arange(8.0).reshape(2, 4) - 3.0, dtype=tg.float64)
    m.weight = new  # right_inverse: g = ||new|| per row, v = new
    np.testing.assert_allclose(_np(m.weight), _np(new), **TOL)
    np.testing.assert_allclose(_np(m.parametrizations.weight.original0)[:, 0], np.linalg.norm(_np(new), axis=1))
    with parametrize.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not parametrize.is_parametrized(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(_np(m.weight), _np(new), **TOL)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(m, "weight")


def test_parametrize_single_tensor_keeps_the_parameter_object_and_checks():
    class Symmetric(nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(0, 1)

    m = nn.Linear(3, 3)
    w = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert m.parametrizations.weight.original is w  # an optimizer built before still holds it
    a = _np(m.weight)
    np.testing.assert_array_equal(a, a.T)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    copy.deepcopy(m)  # the dynamic class does not break deepcopy

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="shape or dtype"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(nn.Linear(3, 3), "nope", Symmetric())
    m2 = nn.utils.parametrizations.weight_norm(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="leave_parametrized"):
        parametrize.remove_parametrizations(m2, "weight", leave_parametrized=False)


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, None])
def test_legacy_weight_norm_matches_torch(dim):
    ours, theirs, x = _pair("linear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(theirs, dim=dim)
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(ours, dim=dim)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd) == ["bias", "weight_g", "weight_v"]
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]
    with torch.no_grad():
        theirs.weight_g.mul_(2.5)
    with tg.no_grad():
        ours.weight_g.mul_(2.5)
    y, ty = ours(tg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(y), _np(ty), **TOL)
    y.sum().backward()
    ty.sum().backward()
    for n in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(_np(getattr(ours, n).grad), _np(getattr(theirs, n).grad), err_msg=n, **TOL)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), **TOL)
