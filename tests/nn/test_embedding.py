"""nn.Embedding / F.embedding against PyTorch: values, weight gradient (repeated indices accumulate),
padding_idx (zero row at init, no gradient), from_pretrained, _weight, errors as torch."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("idx_shape", [(5,), (2, 3), (2, 2, 3), ()])
def test_functional_matches_torch_values_and_weight_grad(padding_idx, idx_shape, device):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 4))
    idx = rng.integers(0, 6, size=idx_shape)
    if idx.ndim:
        idx.reshape(-1)[0] = 2  # the padding row is looked up at least once...
        idx.reshape(-1)[-1] = 5  # ... and so is the last row (padding_idx=-1)
    tw = torch.tensor(w, requires_grad=True)
    gw = tg.tensor(w, device=device, requires_grad=True)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=padding_idx)
    gy = F.embedding(tg.tensor(idx, device=device), gw, padding_idx=padding_idx)
    assert tuple(gy.shape) == tuple(ty.shape) == idx_shape + (4,)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), **TOL)
    v = rng.standard_normal(tuple(ty.shape))
    (ty * torch.tensor(v)).sum().backward()
    (gy * tg.tensor(v, device=device)).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), **TOL)
    if padding_idx is not None and idx.ndim:
        assert np.all(gw.grad.numpy()[padding_idx] == 0)


def test_int32_indices_and_dtype(device):
    w = tg.randn(5, 3, device=device)
    y = F.embedding(tg.tensor([1, 4], dtype=tg.int32, device=device), w)
    assert y.dtype is tg.float32 and tuple(y.shape) == (2, 3)
    np.testing.assert_array_equal(y.numpy(), w.numpy()[[1, 4]])


def test_gradcheck_and_gradgradcheck(device):
    idx = tg.tensor([[0, 3, 3], [1, 0, 2]], device=device)
    w = tg.tensor(np.random.default_rng(1).standard_normal((4, 3)), device=device, requires_grad=True)

    def fn(w):
        return F.embedding(idx, w) * F.embedding(idx, w)  # nonlinear in w, so second order is not zero

    assert gradcheck(fn, (w,))
    assert gradgradcheck(fn, (w,))


def test_module_init_padding_row_and_training_step(device):
    tg.manual_seed(0)
    e = nn.Embedding(50, 8, padding_idx=0).to(device)
    w = e.weight.detach().numpy().copy()
    assert e.weight.dtype is tg.float32 and tuple(e.weight.shape) == (50, 8)
    assert np.all(w[0] == 0)  # the padding row starts at zero
    rest = w[1:].ravel()
    assert abs(rest.mean()) < 0.15 and 0.85 < rest.std() < 1.15  # N(0, 1) as torch
    opt = tg.optim.SGD(e.parameters(), lr=0.1)
    x = tg.tensor([[0, 1, 2], [0, 0, 3]], device=device)
    (e(x) ** 2).sum().backward()
    opt.step()
    after = e.weight.detach().numpy()
    assert np.all(after[0] == 0)  # no gradient, so SGD leaves it at zero
    assert not np.allclose(after[1], w[1])
    np.testing.assert_array_equal(after[4:], w[4:])  # rows not looked up have zero gradient


def test_negative_padding_idx_and_repr():
    e, te = nn.Embedding(4, 3, padding_idx=-1), torch.nn.Embedding(4, 3, padding_idx=-1)
    assert e.padding_idx == te.padding_idx == 3
    assert np.all(e.weight.detach().numpy()[3] == 0)
    assert repr(e) == repr(te)
    assert repr(nn.Embedding(10, 2)) == repr(torch.nn.Embedding(10, 2))


def test_from_pretrained_freeze_and_shared_weight():
    table = tg.tensor(np.arange(12.0).reshape(4, 3), dtype=tg.float32)
    e = nn.Embedding.from_pretrained(table)
    assert e.weight.requires_grad is False
    np.testing.assert_array_equal(e(tg.tensor([2])).numpy(), [[6.0, 7.0, 8.0]])
    e2 = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert e2.weight.requires_grad is True
    np.testing.assert_array_equal(e2(tg.tensor([1])).detach().numpy(), [[3.0, 4.0, 5.0]])  # not zeroed (as torch)
    e2(tg.tensor([1, 2])).sum().backward()
    np.testing.assert_array_equal(e2.weight.grad.numpy()[1], 0)
    np.testing.assert_array_equal(e2.weight.grad.numpy()[2], 1)
    w = tg.randn(5, 2)
    e3 = nn.Embedding(5, 2, _weight=w)
    np.testing.assert_array_equal(e3.weight.detach().numpy(), w.numpy())
    assert e3.weight.requires_grad


def test_state_dict_from_torch_gives_same_output():
    te = torch.nn.Embedding(7, 3)
    e = nn.Embedding(7, 3)
    e.load_state_dict({k: tg.tensor(v.numpy()) for k, v in te.state_dict().items()})
    idx = np.array([[6, 0, 2]])
    np.testing.assert_array_equal(e(tg.tensor(idx)).detach().numpy(), te(torch.tensor(idx)).detach().numpy())


def _both_raise(exc, match, ours, theirs):
    with pytest.raises(exc):
        theirs()
    with pytest.raises(exc, match=match):
        ours()


def test_errors_as_torch():
    w, tw = tg.randn(4, 3), torch.randn(4, 3)
    _both_raise(IndexError, "index out of range in self", lambda: F.embedding(tg.tensor([5]), w),
                lambda: torch.nn.functional.embedding(torch.tensor([5]), tw))
    _both_raise(IndexError, "index out of range in self", lambda: F.embedding(tg.tensor([-1]), w),
                lambda: torch.nn.functional.embedding(torch.tensor([-1]), tw))
    _both_raise(RuntimeError, "'indices' to have one of the following scalar types: Long, Int",
                lambda: F.embedding(tg.tensor([1.0]), w),
                lambda: torch.nn.functional.embedding(torch.tensor([1.0]), tw))
    _both_raise(AssertionError, "Padding_idx must be within num_embeddings", lambda: nn.Embedding(4, 3, padding_idx=4),
                lambda: torch.nn.Embedding(4, 3, padding_idx=4))
    _both_raise(AssertionError, "Padding_idx must be within num_embeddings",
                lambda: F.embedding(tg.tensor([1]), w, padding_idx=-5),
                lambda: torch.nn.functional.embedding(torch.tensor([1]), tw, padding_idx=-5))
    _both_raise(RuntimeError, "'weight' must be 2-D", lambda: F.embedding(tg.tensor([1]), tg.randn(4, 3, 2)),
                lambda: torch.nn.functional.embedding(torch.tensor([1]), torch.randn(4, 3, 2)))
    _both_raise(AssertionError, "Embeddings parameter is expected to be 2-dimensional",
                lambda: nn.Embedding.from_pretrained(tg.randn(4)),
                lambda: torch.nn.Embedding.from_pretrained(torch.randn(4)))
    _both_raise(AssertionError, "Shape of weight does not match num_embeddings and embedding_dim",
                lambda: nn.Embedding(4, 3, _weight=tg.randn(3, 3)),
                lambda: torch.nn.Embedding(4, 3, _weight=torch.randn(3, 3)))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_max_norm_renormalises_looked_up_rows_in_place_as_torch(norm_type, device):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((6, 3)) * 2
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    te = torch.nn.Embedding(6, 3, max_norm=1.5, norm_type=norm_type).double()
    with torch.no_grad():
        te.weight.copy_(torch.tensor(w))
    e = nn.Embedding(6, 3, max_norm=1.5, norm_type=norm_type).to(device).double()
    e.load_state_dict({"weight": tg.tensor(w, device=device)})
    assert repr(e) == repr(te)
    ty, gy = te(torch.tensor(idx)), e(tg.tensor(idx, device=device))
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(e.weight.detach().numpy(), te.weight.detach().numpy(), **TOL)  # rows 3, 4 untouched
    np.testing.assert_array_equal(e.weight.detach().numpy()[[3, 4]], w[[3, 4]])
    v = rng.standard_normal(tuple(ty.shape))
    (ty * torch.tensor(v)).sum().backward()
    (gy * tg.tensor(v, device=device)).sum().backward()
    np.testing.assert_allclose(e.weight.grad.numpy(), te.weight.grad.numpy(), **TOL)


def test_unimplemented_options_raise_clearly():
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        nn.Embedding(4, 3, scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(tg.tensor([1]), tg.randn(4, 3), sparse=True)
