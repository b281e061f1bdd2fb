"""The distributed pieces that need no MPI: DistributedSampler against torch's partition,
the post-accumulate-grad hook, and the errors raised without a process group."""
import pytest

import tinygrad_dnn as td
import tinygrad_dnn.distributed as dist
from tinygrad_dnn.data import DistributedSampler


@pytest.mark.parametrize("n", [1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_partition_equals_torch(n, replicas, drop_last):
    tdata = pytest.importorskip("torch.utils.data")
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        ref = tdata.DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(ref)
        assert len(ours) == len(ref)


@pytest.mark.parametrize("n,replicas", [(10, 2), (11, 3), (5, 8)])
def test_sampler_covers_once_and_reshuffles_with_the_epoch(n, replicas):
    samplers = [DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=3) for r in range(replicas)]
    epochs = []
    for epoch in range(3):
        for s in samplers:
            s.set_epoch(epoch)
        parts = [list(s) for s in samplers]
        flat = [i for p in parts for i in p]
        assert sorted(set(flat)) == list(range(n))  # every index visited
        assert len(flat) == max(n, replicas) + (-max(n, replicas)) % replicas  # padded to a multiple
        epochs.append(parts)
    assert epochs[0] != epochs[1]  # set_epoch reshuffles
    again = [DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=3) for r in range(replicas)]
    assert [list(s) for s in again] == epochs[0]  # the same seed and epoch give the same permutation


def test_sampler_drop_last_visits_each_index_at_most_once():
    parts = [list(DistributedSampler(range(11), num_replicas=3, rank=r, drop_last=True, seed=1)) for r in range(3)]
    flat = [i for p in parts for i in p]
    assert len(flat) == 9 and len(set(flat)) == 9


def test_sampler_errors():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


def test_post_accumulate_grad_hook_runs_once_after_all_contributions():
    w = td.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    ((w * 3).sum() + (w * w).sum()).backward()  # two edges into w
    assert seen == [[5.0, 7.0]]
    (w * 2).sum().backward()
    assert seen[-1] == [7.0, 9.0] and len(seen) == 2
    td.grad((w * 2).sum(), [w])  # does not accumulate: no hook
    assert len(seen) == 2
    h.remove()
    (w * 2).sum().backward()
    assert len(seen) == 2
    leaf = td.tensor(1.0, requires_grad=True)
    calls = []
    leaf.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.item()))
    leaf.backward()  # a root that is a leaf
    assert calls == [1.0]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)


@pytest.mark.torch
def test_post_accumulate_grad_hook_order_matches_torch():
    torch = pytest.importorskip("torch")
    orders = []
    for lib in (td, torch):
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0], requires_grad=True)
        order = []
        a.register_post_accumulate_grad_hook(lambda t, o=order: o.append("a"))
        b.register_post_accumulate_grad_hook(lambda t, o=order: o.append("b"))
        ((a * 2).exp() * b).sum().backward()
        orders.append(order)
    assert sorted(orders[0]) == sorted(orders[1]) == ["a", "b"]


def test_errors_without_process_group():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(td.ones(2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        td.nn.parallel.DistributedDataParallel(td.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="backend 'gloo' is not supported"):
        dist.init_process_group("gloo")


def test_missing_mpi4py_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import fails as if not installed
    with pytest.raises(RuntimeError, match=r'pip install "tinygrad-dnn\[distributed\]"'):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


@pytest.mark.torch
def test_grad_does_not_alias_the_callers_gradient_tensor():
    """DDP (and zero_grad) write ``.grad`` in place: it must not be the caller's ``backward(gradient)``
    tensor, which it was when the gradient reached a leaf unchanged (a leaf root, ``p + 0``, a retained root)."""
    torch = pytest.importorskip("torch")
    for lib in (td, torch):
        p = lib.ones(3, requires_grad=True)
        gs = [lib.ones(3) for _ in range(3)]
        p.backward(gs[0])
        p.grad.zero_()
        (p + 0).backward(gs[1])
        p.grad.zero_()
        y = p * 2
        y.retain_grad()
        y.backward(gs[2])
        y.grad.zero_()
        assert [g.tolist() for g in gs] == [[1.0] * 3] * 3, lib.__name__
        assert p.grad.tolist() == [2.0] * 3
