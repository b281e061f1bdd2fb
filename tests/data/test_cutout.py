"""Cutout (DeVries & Taylor 2017): hole size and clipping at the borders, per-image holes, seeds, the rest unchanged."""
import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.data import Compose, Cutout, Generator, RandomFlip


def test_hole_size_clipping_and_rest_unchanged(device):
    rng = np.random.default_rng(0)
    x = rng.uniform(1.0, 2.0, size=(64, 3, 12, 10)).astype(np.float32)  # no zeros in the input
    t = Cutout(size=5, n_holes=1, seed=3)
    out = t(torch.tensor(x, device=device)).numpy()
    assert out.shape == x.shape and out.dtype == x.dtype
    boxes = t.last_boxes
    assert boxes.shape == (64, 1, 4)
    interior = 0
    for i in range(64):
        y0, y1, x0, x1 = boxes[i, 0]
        expect = x[i].copy()
        expect[:, y0:y1, x0:x1] = 0
        np.testing.assert_array_equal(out[i], expect)  # the hole is zero in every channel, the rest unchanged
        # side `size`, clipped at the borders: the unclipped square starts at centre - size//2
        assert 0 <= y0 <= y1 <= 12 and 0 <= x0 <= x1 <= 10
        assert y1 - y0 <= 5 and x1 - x0 <= 5
        if y0 > 0 and y1 < 12:  # not clipped: exactly `size`
            assert y1 - y0 == 5
        if x0 > 0 and x1 < 10:
            assert x1 - x0 == 5
        assert y1 - y0 >= 5 // 2 + 1 and x1 - x0 >= 5 // 2 + 1  # the centre is a pixel: at least half remains
        interior += (y1 - y0 == 5) and (x1 - x0 == 5)
    # with 64 uniform centres on a 12 x 10 image some holes are clipped and some are whole
    assert 0 < interior < 64


def test_clipped_hole_at_a_corner_and_centre_distribution():
    # size 3 on a 4 x 4 image: a centre at (0, 0) gives the box [0, 2) x [0, 2); every centre is hit
    t = Cutout(size=3, seed=0)
    x = torch.ones(4000, 1, 4, 4)
    t(x)
    b = t.last_boxes[:, 0]
    cy, cx = b[:, 0].copy(), b[:, 2].copy()
    cy[b[:, 0] > 0] += 1  # unclipped: y0 = cy - 1
    cx[b[:, 2] > 0] += 1
    cy[(b[:, 0] == 0) & (b[:, 1] == 3)] = 1
    cx[(b[:, 2] == 0) & (b[:, 3] == 3)] = 1
    counts = np.bincount(cy * 4 + cx, minlength=16)
    assert counts.min() > 0  # every pixel can be a centre
    # uniform centres: each of the 16 cells has 4000/16 = 250 expected, binomial sd ~15.3; 5 sd
    assert np.abs(counts - 250).max() < 5 * np.sqrt(4000 * (1 / 16) * (15 / 16))
    corner = (b[:, 0] == 0) & (b[:, 1] == 2) & (b[:, 2] == 0) & (b[:, 3] == 2)
    assert corner.any()


def test_reproducible_with_seed_and_generator_and_global_seed():
    x = torch.rand(8, 2, 9, 9) + 1
    a = Cutout(4, n_holes=2, seed=7)(x).numpy()
    b = Cutout(4, n_holes=2, seed=7)(x).numpy()
    c = Cutout(4, n_holes=2, seed=8)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g1, g2 = Generator(5), Generator(5)
    np.testing.assert_array_equal(Cutout(4, generator=g1)(x).numpy(), Cutout(4, generator=g2)(x).numpy())
    torch.manual_seed(11)
    d = Cutout(4)(x).numpy()
    torch.manual_seed(11)
    np.testing.assert_array_equal(d, Cutout(4)(x).numpy())
    t = Cutout(4, seed=1)  # an owned stream: two calls draw different holes
    assert not np.array_equal(t(x).numpy(), t(x).numpy())


def test_n_holes_single_image_labels_and_errors():
    x = torch.ones(1, 1, 20, 20)
    t = Cutout(2, n_holes=3, seed=0)
    out = t(x).numpy()
    mask = np.zeros((20, 20), bool)
    for y0, y1, x0, x1 in t.last_boxes[0]:
        mask[y0:y1, x0:x1] = True
    np.testing.assert_array_equal(out[0, 0] == 0, mask)
    assert 0 < mask.sum() <= 12
    single = Cutout(3, seed=0)(torch.ones(2, 5, 5))
    assert tuple(single.shape) == (2, 5, 5)
    y = torch.tensor([1])
    xo, yo = Compose([RandomFlip(seed=0), Cutout(2, seed=0)])(x, y)
    assert yo is y
    assert np.array_equal(Cutout(0, seed=0)(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="Cutout: size"):
        Cutout(-1)
    with pytest.raises(ValueError, match=r"Cutout: expected images \(N, C, H, W\)"):
        Cutout(2)(torch.ones(4, 4))
