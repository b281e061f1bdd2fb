"""Datasets: shapes, dtypes, determinism, the MNIST-1D recipe, test functions."""
import math

import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.data import (TEST_FUNCTIONS, get_test_function, load_digits, load_mnist1d, make_circles,
                               make_least_squares, make_mnist1d, make_moons, make_sin_data, make_spirals,
                               mnist1d_templates, quadratic, rosenbrock, saddle)
from tinygrad_dnn.data.mnist1d import _gaussian_smooth


def test_digits_shapes_dtypes_and_split():
    s = load_digits()
    x_tr, y_tr, x_te, y_te = s
    assert tuple(x_tr.shape) == (1437, 64) and tuple(x_te.shape) == (360, 64)
    assert x_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    assert s.num_classes == 10 and s.input_shape == (64,)
    xn = x_tr.numpy()
    assert xn.min() >= 0.0 and xn.max() <= 1.0
    # stratified: every class in the test set with about its share
    counts = np.bincount(y_te.numpy(), minlength=10)
    assert counts.min() >= 33 and counts.max() <= 38
    imgs = load_digits(flatten=False, scale=False)
    assert tuple(imgs.x_train.shape) == (1437, 1, 8, 8) and imgs.x_train.numpy().max() == 16.0


def test_digits_split_is_seeded_and_disjoint():
    a, b, c = load_digits(seed=0, as_numpy=True), load_digits(seed=0, as_numpy=True), load_digits(seed=1, as_numpy=True)
    assert np.array_equal(a.x_test, b.x_test) and not np.array_equal(a.x_test, c.x_test)
    rows = {r.tobytes() for r in a.x_train}
    assert len(a.x_train) + len(a.x_test) == 1797
    assert sum(r.tobytes() in rows for r in a.x_test) < 10  # only genuine duplicate images can repeat


def test_digits_on_device(device):
    s = load_digits(device=device)
    assert s.x_train.device == torch.device(device)
    assert s.to("cpu").x_test.device == torch.device("cpu")


def test_mnist1d_default_shapes_and_split():
    s = load_mnist1d()
    assert tuple(s.x_train.shape) == (4000, 40) and tuple(s.x_test.shape) == (1000, 40)
    assert tuple(s.y_train.shape) == (4000,) and s.y_test.dtype == torch.int64
    assert tuple(s.extras["t"].shape) == (40,)
    d = make_mnist1d()
    allx = np.concatenate([d["x"], d["x_test"]])
    assert abs(allx.mean()) < 1e-9 and abs(allx.std() - 1) < 1e-9  # standardized over the whole set
    assert np.array_equal(np.bincount(np.concatenate([d["y"], d["y_test"]])), [500] * 10)
    assert tuple(load_mnist1d(channel_dim=True).x_train.shape) == (4000, 1, 40)


def test_mnist1d_seeded_and_cached():
    a = make_mnist1d()
    assert make_mnist1d() is a  # cached
    small = make_mnist1d(num_samples=200, seed=1)
    small2 = make_mnist1d(num_samples=200, seed=1)
    other = make_mnist1d(num_samples=200, seed=2)
    assert np.array_equal(small["x"], small2["x"]) and not np.array_equal(small["x"], other["x"])
    assert small["x"].shape == (160, 40) and small["x_test"].shape == (40, 40)
    with pytest.raises(TypeError, match="unknown argument"):
        make_mnist1d(bogus=1)


def test_mnist1d_templates_and_smoothing():
    t = mnist1d_templates()
    assert t["x"].shape == (10, 12) and np.allclose(t["x"][:, 0], 0)
    scipy_ndimage = pytest.importorskip("scipy.ndimage")
    z = np.random.default_rng(0).standard_normal(72)
    assert np.allclose(_gaussian_smooth(z), scipy_ndimage.gaussian_filter(z, 2), atol=1e-12)


def test_mnist1d_is_learnable_but_not_linearly():
    """A linear model is far from solving it (published logistic regression: 32%), chance is 10%."""
    lm = pytest.importorskip("sklearn.linear_model")
    s = load_mnist1d(as_numpy=True)
    acc = lm.LogisticRegression(max_iter=300).fit(s.x_train, s.y_train).score(s.x_test, s.y_test)
    assert 0.2 < acc < 0.5


def test_spirals_moons_circles():
    x, y = make_spirals(n_per_class=50, n_classes=4)
    assert tuple(x.shape) == (200, 2) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert np.array_equal(np.bincount(y.numpy()), [50] * 4)
    assert np.array_equal(make_spirals(seed=3, as_numpy=True)[0], make_spirals(seed=3, as_numpy=True)[0])
    for make in (make_moons, make_circles):
        x, y = make(n_samples=101, seed=0, as_numpy=True)
        assert x.shape == (101, 2) and set(np.unique(y)) == {0, 1}
        assert np.array_equal(x, make(n_samples=101, seed=0, as_numpy=True)[0])
        assert not np.array_equal(x, make(n_samples=101, seed=1, as_numpy=True)[0])
    x, y = make_circles(n_samples=400, noise=0.0, factor=0.3, as_numpy=True)
    r = np.linalg.norm(x, axis=1)
    assert np.allclose(r[y == 0], 1.0, atol=1e-6) and np.allclose(r[y == 1], 0.3, atol=1e-6)


def test_sin_data():
    x, y = make_sin_data()
    assert tuple(x.shape) == (2000,) and x.dtype == torch.float32
    assert math.isclose(x[0].item(), -math.pi, rel_tol=1e-6) and math.isclose(x[-1].item(), math.pi, rel_tol=1e-6)
    assert np.allclose(y.numpy(), np.sin(x.numpy()), atol=1e-6)
    x64, _ = make_sin_data(dtype=torch.float64)
    assert x64.dtype == torch.float64


def test_least_squares_known_solution():
    p = make_least_squares(n_samples=300, n_features=20, dtype=torch.float64)
    assert tuple(p["X"].shape) == (300, 20) and tuple(p["w_true"].shape) == (20,)
    assert np.allclose(p["X"].numpy() @ p["w_star"].numpy(), p["y"].numpy()) and p["loss_star"] < 1e-20
    q = make_least_squares(n_samples=300, n_features=20, noise=0.5, as_numpy=True, dtype=torch.float64)
    X, y, w = q["X"], q["y"], q["w_star"]
    assert np.allclose(X.T @ (X @ w - y), 0, atol=1e-8)  # normal equations hold at w_star
    assert q["loss_star"] > 0.1


def test_least_squares_default_shape():
    p = make_least_squares(as_numpy=True)
    assert p["X"].shape == (10000, 500) and p["X"].dtype == np.float32


def test_test_functions_values_and_grads(device):
    p = torch.tensor([-1.5, 2.0], device=device, requires_grad=True)
    f = rosenbrock(p)
    f.backward()
    assert math.isclose(f.item(), 2.5 ** 2 + 100 * 0.25 ** 2, rel_tol=1e-6)
    assert np.allclose(p.grad.numpy(), [-155.0, -50.0])
    assert quadratic(torch.tensor([1.0, 1.0], device=device)).item() == 5.0
    assert saddle(torch.tensor(2.0), torch.tensor(3.0)).item() == -5.0
    # also on NumPy grids (contour plots)
    g = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)), -1)
    assert quadratic(g).shape == (4, 5) and rosenbrock(np.array([1.0, 1.0])) == 0.0
    assert get_test_function("rosenbrock").minimum == (1.0, 1.0) and set(TEST_FUNCTIONS) >= {"quadratic", "saddle"}
    with pytest.raises(ValueError, match="choose from"):
        get_test_function("nope")
    with pytest.raises(ValueError, match="last dimension 2"):
        quadratic(torch.zeros(3))
