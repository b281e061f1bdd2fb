"""MNIST-1D, generated locally (no download): an equivalent of Greydanus' ``mnist1d.make_dataset``.

Ten hand-drawn 1-D "digit" templates of length 12 are turned into length-40 signals by the
published recipe, applied per sample in this order:

1. append a random number of zeros, ``p ~ U{36..60}`` (padding), after adding a tiny ``eps`` to the
   template so that the template part stays non-zero;
2. linearly resample the padded signal to ``template_len + padding[1]`` = 72 points (dilation);
3. scale by ``1 + scale_coeff * (u - 0.5)``;
4. roll right by ``k ~ U{0..max_translation-1}`` (translation, circular);
5. where the signal is exactly zero (the padding), put correlated noise: Gaussian noise of std
   ``corr_noise_scale`` smoothed by a Gaussian filter (sigma 2, reflect boundary, truncated at 4 sigma);
6. add iid Gaussian noise of std ``iid_noise_scale`` everywhere;
7. shear: subtract ``c * linspace(-0.5, 0.5, 72)`` with ``c = shear_scale * (u - 0.5)``;
8. linearly resample to ``final_seq_length`` = 40 points.

``num_samples // 10`` samples are made per class, the rows are shuffled, the whole set is centred
and scaled to unit standard deviation, and the first ``train_split`` of it is the training set.

Random numbers are drawn from ``numpy.random.RandomState(seed)`` in the reference generator's order
(pad, scale, translation, correlated noise, iid noise, shear; then the row permutation), so with
the defaults the arrays match the published generator's output up to floating-point rounding.
"""
from __future__ import annotations

import functools

import numpy as np

# The ten templates (digits 0..9), 12 samples each, as published with MNIST-1D.
_TEMPLATES = np.asarray([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
], dtype=np.float64)

DEFAULTS = dict(num_samples=5000, train_split=0.8, template_len=12, padding=(36, 60), scale_coeff=0.4,
                max_translation=48, corr_noise_scale=0.25, iid_noise_scale=2e-2, shear_scale=0.75,
                shuffle_seq=False, final_seq_length=40, seed=42)


def mnist1d_templates():
    """The normalized templates: dict with ``x`` (10, 12), ``t`` (12,) and ``y`` (10,).

    Each template is standardized (mean 0, std 1), shifted to start at 0 and divided by 6.
    """
    x = _TEMPLATES - _TEMPLATES.mean(1, keepdims=True)
    x = x / x.std(1, keepdims=True)
    x = x - x[:, :1]
    return {"x": x / 6.0, "t": np.linspace(-5, 5, _TEMPLATES.shape[1]) / 6.0, "y": np.arange(10)}


def _resample(x, n):
    """Linear interpolation of ``x`` (sampled uniformly on [0, 1]) at ``n`` uniform points."""
    return np.interp(np.linspace(0.0, 1.0, n), np.linspace(0.0, 1.0, len(x)), x)


def _gaussian_smooth(x, sigma=2.0, truncate=4.0):
    """1-D Gaussian filter with 'reflect' (half-sample symmetric) boundaries, as scipy's default."""
    r = int(truncate * sigma + 0.5)
    k = np.arange(-r, r + 1, dtype=np.float64)
    w = np.exp(-0.5 * (k / sigma) ** 2)
    w /= w.sum()
    xp = np.pad(x, r, mode="symmetric")
    return np.convolve(xp, w[::-1], mode="valid")


def _transform_one(x, rs, a, eps=1e-8):
    lo, hi = a["padding"]
    mid_len = a["template_len"] + hi
    p = lo + int(rs.rand() * (hi - lo + 1))
    s = np.concatenate([x + eps, np.zeros(p)])
    s = _resample(s, mid_len)
    s = s * (1 + a["scale_coeff"] * (rs.rand() - 0.5))
    k = rs.choice(a["max_translation"])
    s = np.concatenate([s[len(s) - k:], s[:len(s) - k]]) if k else s
    mask = s != 0
    corr = _gaussian_smooth(a["corr_noise_scale"] * rs.randn(mid_len))
    s = mask * s + (1 - mask) * corr
    s = s + a["iid_noise_scale"] * rs.randn(mid_len)
    c = a["shear_scale"] * (rs.rand() - 0.5)
    s = s - c * np.linspace(-0.5, 0.5, mid_len)
    return _resample(s, a["final_seq_length"])


@functools.lru_cache(maxsize=8)
def _make(items):
    a = dict(items)
    tpl = mnist1d_templates()
    rs = np.random.RandomState(a["seed"])
    per_class = a["num_samples"] // len(tpl["y"])
    xs, ys = [], []
    for label in range(len(tpl["y"])):
        for _ in range(per_class):
            xs.append(_transform_one(tpl["x"][label], rs, a))
            ys.append(label)
    order = rs.permutation(len(ys))
    xs = np.stack(xs)[order]
    ys = np.asarray(ys, dtype=np.int64)[order]
    if a["shuffle_seq"]:
        xs = xs[..., rs.permutation(a["final_seq_length"])]
    t = _resample(tpl["t"], a["final_seq_length"]) / xs.std()
    xs = (xs - xs.mean()) / xs.std()
    split = int(len(ys) * a["train_split"])
    out = {"x": xs[:split], "y": ys[:split], "x_test": xs[split:], "y_test": ys[split:], "t": t}
    for v in out.values():
        v.setflags(write=False)
    return out


def make_mnist1d(**kwargs):
    """Generate MNIST-1D on the host; returns a dict of read-only float64/int64 NumPy arrays.

    Keys: ``x`` (4000, 40), ``y`` (4000,), ``x_test`` (1000, 40), ``y_test`` (1000,) and ``t`` (40,),
    the sample positions (for plotting). Keyword arguments override :data:`DEFAULTS`
    (``num_samples``, ``train_split``, ``template_len``, ``padding``, ``scale_coeff``,
    ``max_translation``, ``corr_noise_scale``, ``iid_noise_scale``, ``shear_scale``, ``shuffle_seq``,
    ``final_seq_length``, ``seed``). Results are cached per set of arguments.
    """
    unknown = set(kwargs) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"make_mnist1d: unknown argument(s) {sorted(unknown)}; valid: {sorted(DEFAULTS)}")
    a = dict(DEFAULTS, **kwargs)
    a["padding"] = tuple(int(v) for v in a["padding"])
    if a["num_samples"] < 10:
        raise ValueError(f"make_mnist1d: num_samples must be >= 10 (one per class), got {a['num_samples']}")
    if not 0.0 < a["train_split"] <= 1.0:
        raise ValueError(f"make_mnist1d: train_split must be in (0, 1], got {a['train_split']}")
    return _make(tuple(sorted(a.items())))
