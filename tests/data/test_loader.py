"""Dataset, random_split and DataLoader: sizes, batching, shuffling, devices, resumable state."""
import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.data import (ConcatDataset, DataLoader, Dataset, Generator, Subset, TensorDataset,
                               default_collate, random_split)


def _ds(n=10, d=3):
    x = torch.arange(n * d).reshape(n, d).float()
    return TensorDataset(x, torch.arange(n))


class Squares(Dataset):
    """A plain map-style dataset (exercises the generic stacking path)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i), float(i * i)]), i


def test_tensor_dataset_and_subset():
    ds = _ds()
    x, y = ds[3]
    assert x.tolist() == [9.0, 10.0, 11.0] and y.item() == 3 and len(ds) == 10
    sub = Subset(ds, [7, 2])
    assert len(sub) == 2 and sub[0][1].item() == 7
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(torch.zeros(3), torch.zeros(4))
    with pytest.raises(IndexError):
        Subset(ds, [10])
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 12 and both[11][1].item() == 2


@pytest.mark.parametrize("lengths", [[7, 3], [0.7, 0.3], [0.5, 0.25, 0.25]])
def test_random_split_sizes_and_disjoint(lengths):
    ds = _ds(10)
    parts = random_split(ds, lengths, seed=0)
    sizes = [len(p) for p in parts]
    assert sum(sizes) == 10
    if lengths == [0.5, 0.25, 0.25]:
        assert sizes == [6, 2, 2]  # floors 5, 2, 2 and the remainder round-robin from the first
    idx = [i for p in parts for i in p.indices]
    assert sorted(idx) == list(range(10))


def test_random_split_determinism_and_errors():
    ds = _ds(20)
    a = random_split(ds, [15, 5], seed=3)[1].indices
    assert a == random_split(ds, [15, 5], generator=Generator(3))[1].indices
    assert a != random_split(ds, [15, 5], seed=4)[1].indices
    torch.manual_seed(7)
    b = random_split(ds, [15, 5])[1].indices
    torch.manual_seed(7)
    assert b == random_split(ds, [15, 5])[1].indices
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [10, 5])


@pytest.mark.parametrize("n,bs,drop_last,expected", [(10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3),
                                                     (9, 3, False, 3), (2, 5, True, 0), (2, 5, False, 1)])
def test_batch_counts(n, bs, drop_last, expected):
    for ds in (_ds(n), Squares(n)):
        dl = DataLoader(ds, batch_size=bs, drop_last=drop_last)
        batches = list(dl)
        assert len(dl) == expected == len(batches)
        sizes = [len(b[1]) for b in batches]
        assert all(s == bs for s in sizes[:-1])
        if drop_last:
            assert all(s == bs for s in sizes)
        else:
            assert sum(sizes) == n


def test_sequential_order_and_stacking():
    ds = _ds(7)
    xs, ys = zip(*DataLoader(ds, batch_size=3))
    assert torch.cat(list(ys)).tolist() == list(range(7))
    assert tuple(xs[0].shape) == (3, 3) and xs[0].dtype == torch.float32
    x, y = next(iter(DataLoader(Squares(5), batch_size=4)))
    assert tuple(x.shape) == (4, 2) and y.dtype == torch.int64 and y.tolist() == [0, 1, 2, 3]
    assert x[:, 1].tolist() == [0.0, 1.0, 4.0, 9.0]


@pytest.mark.parametrize("make", [lambda: _ds(23), lambda: Squares(23), lambda: random_split(_ds(30), [23, 7], seed=1)[0]])
def test_shuffle_covers_each_sample_once_per_epoch(make):
    ds = make()
    dl = DataLoader(ds, batch_size=5, shuffle=True, seed=0)
    epochs = []
    for _ in range(3):
        labels = [v for _, y in dl for v in y.tolist()]
        assert len(labels) == 23 and len(set(labels)) == 23
        epochs.append(labels)
    assert epochs[0] != epochs[1] != epochs[2]  # a new order every epoch
    if isinstance(ds, Subset):
        assert set(epochs[0]) == set(ds.indices)


def test_shuffle_is_deterministic_given_seed_or_manual_seed():
    order = lambda dl: [v for _, y in dl for v in y.tolist()]  # noqa: E731
    assert order(DataLoader(_ds(50), 8, shuffle=True, seed=5)) == order(DataLoader(_ds(50), 8, shuffle=True, seed=5))
    assert order(DataLoader(_ds(50), 8, shuffle=True, seed=5)) != order(DataLoader(_ds(50), 8, shuffle=True, seed=6))
    torch.manual_seed(1)
    a = order(DataLoader(_ds(50), 8, shuffle=True))
    torch.manual_seed(1)
    assert a == order(DataLoader(_ds(50), 8, shuffle=True))
    # the fast TensorDataset path and the generic stacking path give the same batches
    fast = [y.tolist() for _, y in DataLoader(_ds(20), 6, shuffle=True, seed=2)]
    slow = [y.tolist() for _, y in DataLoader(Squares(20), 6, shuffle=True, seed=2)]
    assert fast == slow


def test_fast_path_values_match_items():
    ds = _ds(12)
    for x, y in DataLoader(ds, batch_size=5, shuffle=True, seed=0):
        for xi, yi in zip(x.tolist(), y.tolist()):
            assert xi == ds[yi][0].tolist()


def test_resume_mid_epoch_matches_uninterrupted():
    ds = _ds(40)
    ref = DataLoader(ds, batch_size=6, shuffle=True, seed=11)
    full = [[y.tolist() for _, y in ref] for _ in range(3)]
    dl = DataLoader(ds, batch_size=6, shuffle=True, seed=11)
    _ = [y.tolist() for _, y in dl]  # epoch 0
    it = iter(dl)
    first = [next(it)[1].tolist() for _ in range(3)]  # 3 batches of epoch 1, then "crash"
    state = dl.state_dict()
    assert state["epoch"] == 1 and state["batch"] == 3
    import json
    state = json.loads(json.dumps(state))  # checkpoint-friendly
    resumed = DataLoader(ds, batch_size=6, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    rest = [y.tolist() for _, y in resumed]
    assert first + rest == full[1]
    assert [y.tolist() for _, y in resumed] == full[2] and resumed.epoch == 3


def test_state_between_epochs():
    dl = DataLoader(_ds(10), batch_size=4, shuffle=True, seed=0)
    list(dl)
    st = dl.state_dict()
    nxt = [y.tolist() for _, y in dl]
    other = DataLoader(_ds(10), batch_size=4, shuffle=True, seed=1)
    other.load_state_dict(st)
    assert [y.tolist() for _, y in other] == nxt


def test_device_placement(device):
    ds = _ds(9)
    for x, y in DataLoader(ds, batch_size=4, shuffle=True, seed=0, device=device):
        assert x.device == torch.device(device) and y.device == torch.device(device)
    ds_dev = TensorDataset(torch.randn(9, 2, device=device), torch.arange(9, device=device))
    for x, y in DataLoader(ds_dev, batch_size=4, shuffle=True, seed=0):
        assert x.device == torch.device(device) and tuple(x.shape)[1:] == (2,)
    x, y = next(iter(DataLoader(Squares(4), batch_size=2, device=device)))
    assert x.device == torch.device(device) and y.device == torch.device(device)


def test_batch_transform_and_errors():
    dl = DataLoader(_ds(6), batch_size=3, batch_transform=lambda x, y: (x * 0, y))
    x, y = next(iter(dl))
    assert x.sum().item() == 0 and y.tolist() == [0, 1, 2]
    single = DataLoader(TensorDataset(torch.ones(4, 2)), batch_size=2, batch_transform=lambda x: x * 2)
    (x,) = next(iter(single))
    assert x.tolist() == [[2.0, 2.0]] * 2
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=0)
    assert "batches=4" in repr(DataLoader(_ds(), batch_size=3))


def test_default_collate_kinds():
    b = default_collate([{"a": 1.0, "b": np.ones(2)}, {"a": 2.0, "b": np.zeros(2)}])
    assert b["a"].tolist() == [1.0, 2.0] and tuple(b["b"].shape) == (2, 2)
    assert default_collate([True, False]).dtype == torch.bool
