"""Ready-made datasets (all generated or bundled locally; nothing is ever downloaded).

Classification datasets return a :class:`Splits` object: ``x_train, y_train, x_test, y_test``
as Tensors (inputs float32, labels int64; NumPy arrays with ``as_numpy=True``), plus
``num_classes`` and ``name``. It unpacks like a tuple::

    x_train, y_train, x_test, y_test = load_digits()
    train_ds, test_ds = load_mnist1d().datasets()

Every generator takes a ``seed``; the same seed gives the same arrays on every machine.
The data are made on the host with NumPy (this package is the documented host-side boundary)
and converted explicitly with ``tinygrad_dnn.tensor``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import autograd as _ag
from .mnist1d import make_mnist1d


def _np_dtype(dtype):
    return np.dtype("float32" if dtype is None else getattr(dtype, "name", dtype))


def _to_tensor(arr, device=None, dtype=None):
    return _ag.tensor(np.ascontiguousarray(arr), dtype=dtype, device=device)


@dataclass
class Splits:
    """A train/test split. Attributes: ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``num_classes``,
    ``name`` and ``extras`` (dataset-specific arrays, e.g. MNIST-1D's sample positions ``t``)."""

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    num_classes: int = 0
    name: str = ""
    extras: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return tuple(self)[i]

    @property
    def input_shape(self):
        """Shape of one input (without the batch dimension)."""
        return tuple(self.x_train.shape[1:])

    def datasets(self):
        """``(TensorDataset(x_train, y_train), TensorDataset(x_test, y_test))``."""
        from .dataset import TensorDataset

        return TensorDataset(self.x_train, self.y_train), TensorDataset(self.x_test, self.y_test)

    def to(self, device):
        """A copy with every Tensor moved to ``device``."""
        mv = lambda a: a.to(device) if isinstance(a, _ag.Tensor) else a  # noqa: E731
        return Splits(mv(self.x_train), mv(self.y_train), mv(self.x_test), mv(self.y_test),
                      self.num_classes, self.name, {k: mv(v) for k, v in self.extras.items()})

    def __repr__(self):
        return (f"Splits({self.name!r}, train={tuple(self.x_train.shape)}, test={tuple(self.x_test.shape)}, "
                f"num_classes={self.num_classes})")


def _splits(x_tr, y_tr, x_te, y_te, num_classes, name, as_numpy, device, extras=None):
    x_tr, x_te = x_tr.astype(np.float32), x_te.astype(np.float32)
    y_tr, y_te = y_tr.astype(np.int64), y_te.astype(np.int64)
    extras = dict(extras or {})
    if not as_numpy:
        x_tr, y_tr, x_te, y_te = (_to_tensor(a, device) for a in (x_tr, y_tr, x_te, y_te))
        extras = {k: _to_tensor(np.asarray(v, dtype=np.float32), device) for k, v in extras.items()}
    return Splits(x_tr, y_tr, x_te, y_te, num_classes, name, extras)


def _split_indices(n, test_size, seed, stratify=None):
    """Seeded (optionally stratified) train/test index split; ``test_size`` is a fraction or a count."""
    n_test = int(math.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} leaves no train or no test samples out of {n}")
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        return np.sort(perm[n_test:]), np.sort(perm[:n_test])
    # stratified: each class contributes test samples in proportion, rounding fixed up to n_test
    classes, counts = np.unique(stratify, return_counts=True)
    want = counts * n_test / n
    take = np.floor(want).astype(int)
    for i in np.argsort(-(want - take), kind="stable")[: n_test - take.sum()]:
        take[i] += 1
    test = []
    for c, k in zip(classes, take):
        idx = np.flatnonzero(stratify == c)
        test.append(rng.permutation(idx)[:k])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(n), test)
    return train, test


# ------------------------------------------------------------------ real data
def load_digits(test_size=0.2, seed=0, flatten=True, scale=True, stratify=True, as_numpy=False, device=None):
    """scikit-learn's bundled handwritten digits: 1797 grayscale 8x8 images of 0..9 (no download).

    Returns :class:`Splits` with ``x_train`` (1437, 64) and ``x_test`` (360, 64) for the default
    ``test_size=0.2`` (``flatten=False`` gives (N, 1, 8, 8) images), float32 pixels divided by 16
    into [0, 1] when ``scale`` (raw 0..16 otherwise), int64 labels. The split is a seeded shuffle,
    stratified by class when ``stratify``.
    """
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError as e:  # pragma: no cover
        raise ImportError("load_digits needs scikit-learn (it ships the digits data): "
                          "pip install 'tinygrad-dnn[train]' or pip install scikit-learn") from e

    d = _sk_digits()
    x = d.data.astype(np.float64)
    y = d.target.astype(np.int64)
    if scale:
        x = x / 16.0
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    tr, te = _split_indices(len(y), test_size, seed, y if stratify else None)
    return _splits(x[tr], y[tr], x[te], y[te], 10, "digits", as_numpy, device)


def load_mnist1d(channel_dim=False, as_numpy=False, device=None, **kwargs):
    """MNIST-1D generated locally with the reference defaults (see :mod:`tinygrad_dnn.data.mnist1d`).

    5000 samples of length 40, 10 classes, seed 42: ``x_train`` (4000, 40), ``x_test`` (1000, 40),
    float32 standardized over the whole set; int64 labels. ``channel_dim=True`` gives (N, 1, 40)
    for a 1-D CNN. ``extras['t']`` holds the 40 sample positions. Keyword arguments go to
    :func:`~tinygrad_dnn.data.mnist1d.make_mnist1d` (e.g. ``seed``, ``num_samples``).
    Published test accuracies: logistic regression 32%, MLP 68%, CNN 94%.
    """
    d = make_mnist1d(**kwargs)
    x, xt = d["x"], d["x_test"]
    if channel_dim:
        x, xt = x[:, None, :], xt[:, None, :]
    return _splits(x, d["y"], xt, d["y_test"], 10, "mnist1d", as_numpy, device, {"t": d["t"]})


# ------------------------------------------------------------------ synthetic classification
def _xy(x, y, as_numpy, device):
    x, y = x.astype(np.float32), y.astype(np.int64)
    return (x, y) if as_numpy else (_to_tensor(x, device), _to_tensor(y, device))


def make_spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0, as_numpy=False, device=None):
    """The CS231n spiral: ``n_classes`` interleaved arms of ``n_per_class`` 2-D points each.

    Point i of class j has radius ``r = i / (n_per_class - 1)`` and angle
    ``theta = 4 j + 4 r + noise * N(0, 1)``; ``x = r * (sin theta, cos theta)``. Returns
    ``(x, y)``: float32 (n_per_class * n_classes, 2) and int64 labels, ordered by class (shuffle
    in the DataLoader).
    """
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for j in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(j * 4.0, (j + 1) * 4.0, n_per_class) + rng.standard_normal(n_per_class) * noise
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, j))
    return _xy(np.concatenate(xs), np.concatenate(ys), as_numpy, device)


def make_moons(n_samples=200, noise=0.1, seed=0, as_numpy=False, device=None):
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``), shuffled.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 0.5 - sin t)``, ``t`` in [0, pi]; plus
    Gaussian noise of std ``noise``. Returns ``(x, y)``: float32 (n_samples, 2), int64 labels.
    """
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    x = x + noise * rng.standard_normal(x.shape)
    perm = rng.permutation(n_samples)
    return _xy(x[perm], y[perm], as_numpy, device)


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=0, as_numpy=False, device=None):
    """A large circle (class 0, radius 1) around a small one (class 1, radius ``factor``), shuffled.

    Returns ``(x, y)``: float32 (n_samples, 2), int64 labels.
    """
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    x = x + noise * rng.standard_normal(x.shape)
    perm = rng.permutation(n_samples)
    return _xy(x[perm], y[perm], as_numpy, device)


# ------------------------------------------------------------------ regression
def make_sin_data(n=2000, as_numpy=False, dtype=None, device=None):
    """The lectures' cubic-fit data: ``x = linspace(-pi, pi, n)``, ``y = sin(x)`` (no noise, no seed needed).

    Returns ``(x, y)``, each of shape (n,), float32 by default (``dtype=torch.float64`` for the
    double-precision variant). Fit ``y ~ a + b x + c x^2 + d x^3``.
    """
    x = np.linspace(-np.pi, np.pi, n)
    y = np.sin(x)
    if as_numpy:
        np_dt = _np_dtype(dtype)
        return x.astype(np_dt), y.astype(np_dt)
    return _ag.tensor(x, dtype=dtype or _ag.float32, device=device), _ag.tensor(y, dtype=dtype or _ag.float32, device=device)


cubic_fit_data = make_sin_data


def make_least_squares(n_samples=10000, n_features=500, noise=0.0, seed=0, as_numpy=False, dtype=None,
                       device=None):
    """A linear least-squares problem ``min_w ||X w - y||^2 / n`` with a known solution.

    ``X ~ N(0, 1)`` of shape (n_samples, n_features), ``w_true ~ N(0, 1)`` of shape (n_features,),
    ``y = X w_true + noise * N(0, 1)``. Returns a dict: ``X``, ``y``, ``w_true``, ``w_star`` (the exact
    minimizer: ``w_true`` when ``noise == 0``, else the least-squares solution computed in float64)
    and ``loss_star`` (the mean squared residual at ``w_star``, a float). Tensors are float32 unless
    ``dtype`` is given.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w_true = rng.standard_normal(n_features)
    y = X @ w_true
    if noise:
        y = y + noise * rng.standard_normal(n_samples)
        w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    else:
        w_star = w_true.copy()
    loss_star = float(np.mean((X @ w_star - y) ** 2))
    out = {"X": X, "y": y, "w_true": w_true, "w_star": w_star}
    if as_numpy:
        np_dt = _np_dtype(dtype)
        out = {k: v.astype(np_dt) for k, v in out.items()}
    else:
        out = {k: _ag.tensor(v, dtype=dtype or _ag.float32, device=device) for k, v in out.items()}
    out["loss_star"] = loss_star
    return out
