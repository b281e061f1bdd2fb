"""Transforms: the math (standardize, PCA, whitening, channel means, mixup, CutMix), randomness, devices."""
import math

import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.data import (PCA, Compose, CutMix, DataLoader, GaussianNoise, Generator, Lambda, Mixup,
                               RandomCrop, RandomFlip, Standardize, SubtractChannelMean, TensorDataset,
                               Whitening, load_digits, soft_target_cross_entropy)


def _corr_data(n=500, d=5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, d))
    return (rng.standard_normal((n, d)) @ a + rng.standard_normal(d) * 3).astype(np.float32)


def test_standardize_mean0_std1_fit_on_train_only(device):
    x = torch.tensor(_corr_data(), device=device)
    st = Standardize().fit(x)
    z = st(x).numpy()
    assert np.allclose(z.mean(0), 0, atol=1e-5) and np.allclose(z.std(0), 1, atol=1e-4)
    assert st(x).device == torch.device(device) and st(x).dtype == torch.float32
    back = st.inverse_transform(st(x)).numpy()
    assert np.allclose(back, x.numpy(), atol=1e-4)
    # applied to other data with the training statistics
    other = torch.tensor(_corr_data(seed=1), device=device)
    assert np.allclose(st(other).numpy(), (other.numpy() - st.mean_) / st.std_, atol=1e-4)


def test_standardize_constant_features_and_errors():
    s = load_digits()
    st = Standardize().fit(s.x_train)
    z = st(s.x_train).numpy()
    assert np.isfinite(z).all()  # always-blank pixels are only centred
    const = st.std_.ravel() == 1.0
    assert const.any() and np.allclose(z[:, const], 0)
    with pytest.raises(RuntimeError, match="fit"):
        Standardize()(s.x_train)
    with pytest.raises(TypeError, match="floating"):
        st(s.y_train)
    x, y = st.fit_transform(s.x_train, s.y_train)
    assert y is s.y_train


def test_subtract_channel_mean(device):
    rng = np.random.default_rng(0)
    imgs = (rng.standard_normal((8, 3, 4, 4)) + np.array([1.0, -2.0, 5.0])[None, :, None, None]).astype(np.float32)
    t = SubtractChannelMean().fit(imgs)
    assert t.mean_.shape == (3, 1, 1)
    out = t(torch.tensor(imgs, device=device)).numpy()
    assert np.allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert np.allclose(out[:, 1] - imgs[:, 1], -imgs[:, 1].mean(), atol=1e-5)


def test_pca_matches_svd_and_sklearn():
    x = _corr_data(300, 6)
    p = PCA(n_components=3).fit(x)
    z = p(x).numpy()
    assert z.shape == (300, 3)
    var = z.var(0, ddof=1)
    assert np.allclose(var, p.explained_variance_, rtol=1e-4) and np.all(np.diff(var) <= 0)
    sk = pytest.importorskip("sklearn.decomposition")
    ref = sk.PCA(n_components=3).fit(x.astype(np.float64))
    assert np.allclose(p.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-6)
    assert np.allclose(np.abs(z), np.abs(ref.transform(x)), atol=1e-3)  # same up to the sign of each axis
    full = PCA().fit(x)
    assert np.allclose(full.inverse_transform(full(x)).numpy(), x, atol=1e-4)
    with pytest.raises(ValueError, match="n_components"):
        PCA(n_components=7).fit(x)


def test_whitening_covariance_is_identity(device):
    x = torch.tensor(_corr_data(2000, 5), device=device)
    w = Whitening().fit(x)
    z = w(x).numpy().astype(np.float64)
    assert np.allclose(z.mean(0), 0, atol=1e-4)
    assert np.allclose(z.T @ z / len(z), np.eye(5), atol=1e-3)
    # the literal formula X @ VT.T / (S + eps) with raw singular values
    xc = x.numpy() - x.numpy().mean(0)
    u, s, vt = np.linalg.svd(xc.astype(np.float64), full_matrices=False)
    raw = Whitening(scale="singular").fit(x)(x).numpy()
    assert np.allclose(raw, xc @ vt.T / (s + 1e-5), atol=1e-4)
    zca = Whitening(zca=True).fit(x)
    zz = zca(x).numpy().astype(np.float64)
    assert np.allclose(zz.T @ zz / len(zz), np.eye(5), atol=1e-3)
    assert np.allclose(zca.inverse_transform(zca(x)).numpy(), x.numpy(), atol=1e-3)


def test_gaussian_noise_statistics_and_seed(device):
    x = torch.zeros(200, 50, device=device)
    n1 = GaussianNoise(0.5, seed=0)(x)
    assert n1.device == torch.device(device) and n1.dtype == torch.float32
    v = n1.numpy()
    assert abs(v.mean()) < 0.02 and abs(v.std() - 0.5) < 0.02
    assert np.array_equal(v, GaussianNoise(0.5, seed=0)(x).numpy())
    g = GaussianNoise(0.5, generator=Generator(0))
    assert not np.array_equal(g(x).numpy(), g(x).numpy())  # the generator advances
    h = GaussianNoise(0.5, generator=7)  # an int seed too (not restarted on every call)
    assert not np.array_equal(h(x).numpy(), h(x).numpy())
    torch.manual_seed(3)
    a = GaussianNoise(1.0)(x).numpy()
    torch.manual_seed(3)
    assert np.array_equal(a, GaussianNoise(1.0)(x).numpy())


def test_random_crop(device):
    imgs = torch.arange(6 * 2 * 5 * 5).reshape(6, 2, 5, 5).float().to(device)
    out = RandomCrop(5, padding=2, seed=0)(imgs)
    assert tuple(out.shape) == (6, 2, 5, 5) and out.device == torch.device(device)
    o, src = out.numpy(), imgs.numpy()
    padded = np.pad(src, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(6):  # each sample is some 5x5 window of its own padded image, same for all channels
        hits = [(a, b) for a in range(5) for b in range(5) if np.array_equal(padded[i, :, a:a + 5, b:b + 5], o[i])]
        assert hits, f"sample {i} is not a crop of its padded image"
    small = RandomCrop(3, seed=1)(imgs)
    assert tuple(small.shape) == (6, 2, 3, 3)
    assert tuple(RandomCrop(4, seed=0)(imgs[0]).shape) == (2, 4, 4)  # single image
    assert np.array_equal(RandomCrop(5, padding=2, seed=0)(imgs).numpy(), o)
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(8)(imgs)


def test_random_flip(device):
    imgs = torch.randn(16, 1, 3, 4, device=device)
    out = RandomFlip(p=0.5, seed=0)(imgs).numpy()
    src = imgs.numpy()
    flipped = [np.array_equal(out[i], src[i, :, :, ::-1]) for i in range(16)]
    kept = [np.array_equal(out[i], src[i]) for i in range(16)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    assert np.array_equal(RandomFlip(p=1.0)(imgs).numpy(), src[..., ::-1])
    assert np.array_equal(RandomFlip(p=1.0, dim=-2)(imgs).numpy(), src[:, :, ::-1, :])
    assert np.array_equal(RandomFlip(p=0.0)(imgs).numpy(), src)


def test_mixup_is_convex_combination(device):
    x = torch.randn(10, 4, device=device)
    y = torch.tensor([i % 3 for i in range(10)], device=device)
    m = Mixup(alpha=0.4, num_classes=3, seed=0)
    xm, ym = m(x, y)
    lam, perm = m.last_lam, m.last_perm
    assert 0.0 <= lam <= 1.0 and sorted(perm.tolist()) == list(range(10))
    assert np.allclose(xm.numpy(), lam * x.numpy() + (1 - lam) * x.numpy()[perm], atol=1e-6)
    oh = np.eye(3)[y.numpy()]
    assert np.allclose(ym.numpy(), lam * oh + (1 - lam) * oh[perm], atol=1e-6)
    assert np.allclose(ym.numpy().sum(1), 1.0, atol=1e-6) and ym.device == torch.device(device)
    with pytest.raises(ValueError, match="num_classes"):
        Mixup()(x, y)


def test_mixup_lambda_follows_beta():
    m = Mixup(alpha=0.5, num_classes=2, seed=1)
    x, y = torch.zeros(2, 1), torch.tensor([0, 1])
    lams = []
    for _ in range(2000):
        m(x, y)
        lams.append(m.last_lam)
    lams = np.array(lams)
    # Beta(0.5, 0.5): mean 1/2, variance 1/8, U-shaped
    assert abs(lams.mean() - 0.5) < 0.03 and abs(lams.var() - 0.125) < 0.01
    assert (lams < 0.1).mean() > 0.15 and (lams > 0.9).mean() > 0.15


def test_cutmix_box_and_label_weights(device):
    x = torch.ones(4, 2, 8, 8, device=device)
    x2 = x * torch.arange(4, device=device).float().reshape(4, 1, 1, 1)
    y = torch.tensor([0, 1, 2, 3], device=device)
    c = CutMix(alpha=1.0, num_classes=4, seed=0)
    for _ in range(5):
        xm, ym = c(x2, y)
        y0, y1, x0, x1 = c.last_box
        perm, lam = c.last_perm, c.last_lam
        src = x2.numpy()
        expect = src.copy()
        expect[:, :, y0:y1, x0:x1] = src[perm][:, :, y0:y1, x0:x1]
        assert np.allclose(xm.numpy(), expect)
        assert math.isclose(lam, 1 - (y1 - y0) * (x1 - x0) / 64)
        oh = np.eye(4)[y.numpy()]
        assert np.allclose(ym.numpy(), lam * oh + (1 - lam) * oh[perm], atol=1e-6)


def test_soft_target_cross_entropy_matches_hard_labels():
    logits = torch.randn(5, 3)
    y = torch.tensor([0, 2, 1, 1, 0])
    hard = -(logits.log_softmax(1).numpy()[np.arange(5), y.numpy()]).mean()
    soft = soft_target_cross_entropy(logits, torch.one_hot(y, 3).float()).item()
    assert math.isclose(soft, hard, rel_tol=1e-5)


def test_compose_and_loader_batch_transform():
    x = torch.tensor(_corr_data(64, 4))
    y = torch.tensor([i % 2 for i in range(64)])
    pipe = Compose([Standardize(), GaussianNoise(0.0, seed=0), Lambda(lambda t: t * 2)]).fit(x)
    z = pipe(x).numpy()
    assert np.allclose(z.std(0), 2.0, atol=1e-3)
    z2, y2 = pipe(x, y)
    assert y2 is y
    aug = Compose([Standardize().fit(x), Mixup(alpha=0.2, num_classes=2, seed=0)])
    dl = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0, batch_transform=aug)
    xb, yb = next(iter(dl))
    assert tuple(xb.shape) == (16, 4) and tuple(yb.shape) == (16, 2) and yb.dtype == torch.float32
    assert "Mixup" in repr(aug)
