"""Run under ``mpiexec -n 2``: the multi-process checks of tests/distributed/test_mpi.py.

Each check measures (max differences, lists of indices...) and rank r writes its results to
``<out>/rank<r>.json``; the assertions are made by pytest in the parent process. An exception on
any rank aborts the job (the distributed package's excepthook), which the test reports with stderr.
"""
import json
import os
import sys

import numpy as np

import tinygrad_dnn as td
import tinygrad_dnn.distributed as dist
from tinygrad_dnn import nn
from tinygrad_dnn.data import DistributedSampler
from tinygrad_dnn.nn.parallel import DistributedDataParallel as DDP
from tinygrad_dnn.nn.parallel import consume_prefix_in_state_dict_if_present

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
OPS = {"SUM": np.sum, "PRODUCT": np.prod, "MIN": np.min, "MAX": np.max}


def rank_data(dtype, r, shape=(3, 4)):
    """Rank r's values: small, so sums and products fit every integer dtype."""
    a = (np.arange(int(np.prod(shape))).reshape(shape) * (r + 2) + r) % 5 + (0 if dtype == "bool" else 1)
    return (a % 2 == 0) if dtype == "bool" else a.astype(dtype)


def expected(dtype, op, n):
    stack = np.stack([rank_data(dtype, r) for r in range(n)])
    if dtype == "bool":
        return (stack.any(0) if op in ("SUM", "MAX") else stack.all(0)).tolist()
    return OPS[op](stack, axis=0).astype(dtype).tolist()


def check_collectives(r, n):
    bad = []
    for dt in DTYPES:
        for op in OPS:
            t = td.tensor(rank_data(dt, r))
            v = t._version
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
            if t.tolist() != expected(dt, op, n) or t._version != v + 1 or str(t.dtype) != f"tinygrad_dnn.{dt}":
                bad.append(f"all_reduce {dt} {op}: {t.tolist()} vs {expected(dt, op, n)}")
        if dt not in ("bool",):
            t = td.tensor(rank_data(dt, r))
            dist.all_reduce(t, op=dist.ReduceOp.AVG)
            ref = np.stack([rank_data(dt, q) for q in range(n)]).astype("float64").sum(0) / n
            ref = ref if dt.startswith("float") else np.trunc(ref)
            if not np.allclose(t.numpy().astype("float64"), ref, rtol=1e-3):
                bad.append(f"all_reduce {dt} AVG")
        t = td.tensor(rank_data(dt, r))
        dist.broadcast(t, src=1)
        if t.tolist() != rank_data(dt, 1).tolist():
            bad.append(f"broadcast {dt}")
        outs = [td.zeros(3, 4, dtype=getattr(td, dt if dt != "bool" else "bool_")) for _ in range(n)]
        dist.all_gather(outs, td.tensor(rank_data(dt, r)))
        if [o.tolist() for o in outs] != [rank_data(dt, q).tolist() for q in range(n)]:
            bad.append(f"all_gather {dt}")
        if dt != "bool":
            ins = [td.tensor(rank_data(dt, r) + k).to(getattr(td, dt)) for k in range(n)]
            out = td.zeros(3, 4, dtype=getattr(td, dt))
            dist.reduce_scatter(out, ins, op=dist.ReduceOp.SUM)
            ref = sum((rank_data(dt, q) + r).astype(dt) for q in range(n)).astype(dt)
            if out.tolist() != ref.tolist():
                bad.append(f"reduce_scatter {dt}")
    # non-contiguous (a transposed view written through to its base) and 0-d
    base = td.tensor(rank_data("float64", r))
    view = base.t()
    dist.all_reduce(view)
    if base.tolist() != expected("float64", "SUM", n):
        bad.append("all_reduce of a non-contiguous view")
    strided = td.tensor(rank_data("float32", r))[:, ::2]
    dist.all_reduce(strided, op=dist.ReduceOp.MAX)
    if strided.tolist() != np.array(expected("float32", "MAX", n))[:, ::2].tolist():
        bad.append("all_reduce of a strided slice")
    z = td.tensor(float(r + 2))
    dist.all_reduce(z, op=dist.ReduceOp.PRODUCT)
    if z.ndim != 0 or z.item() != float(np.prod([q + 2 for q in range(n)])):
        bad.append("all_reduce of a 0-d tensor")
    errors = {}
    try:
        dist.all_reduce(td.ones(2), op="sum")
    except TypeError as e:
        errors["op"] = str(e)
    return {"bad": bad, "errors": errors}


def mlp(dtype):
    td.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).to(dtype)


def check_equivalence(r, n, make_opt, dtype, steps=20, batch=8, accumulate=1):
    """max |p_ddp - p_single| after ``steps`` steps: DDP with batch/n per rank vs one process with the batch."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(steps, accumulate, batch, 6))
    Y = rng.integers(0, 3, size=(steps, accumulate, batch))
    ref, model = mlp(dtype), mlp(dtype)
    if r == 1:  # a different start on rank 1: the construction broadcast must undo it
        with td.no_grad():
            for p in model.parameters():
                p.add_(0.5)
    ddp = DDP(model, bucket_cap_mb=0.001)  # ~1 KB buckets: several buckets in flight
    opt_ref, opt = make_opt(ref.parameters()), make_opt(ddp.parameters())
    loss = nn.CrossEntropyLoss()
    h = batch // n
    for s in range(steps):
        opt_ref.zero_grad()
        opt.zero_grad()
        for a in range(accumulate):
            x, y = td.tensor(X[s, a]).to(dtype), td.tensor(Y[s, a])
            (loss(ref(x), y) / accumulate).backward()
            if a < accumulate - 1:
                with ddp.no_sync():
                    (loss(ddp(x[r * h:(r + 1) * h]), y[r * h:(r + 1) * h]) / accumulate).backward()
            else:
                (loss(ddp(x[r * h:(r + 1) * h]), y[r * h:(r + 1) * h]) / accumulate).backward()
        opt_ref.step()
        opt.step()
    return max(float((a - b).abs().max()) for a, b in zip(ref.parameters(), ddp.module.parameters())), len(ddp._buckets)


def check_unused(r, n):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.never = nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(3, 2)

        def forward(self, x, use_b):
            return self.a(x) + (self.b(x) if use_b else 0)

    td.manual_seed(0)
    out = {}
    ddp = DDP(Branchy(), find_unused_parameters=True)
    x = td.ones(2, 3) * (r + 1)
    ddp(x, use_b=(r == 0)).sum().backward()  # b used on rank 0 only, never on no rank
    out["b_grad"] = ddp.module.b.weight.grad.tolist()
    out["a_grad"] = ddp.module.a.weight.grad.tolist()
    out["never_grad_is_none"] = ddp.module.never.weight.grad is None
    strict = DDP(Branchy())
    strict(x, use_b=False).sum().backward()
    try:
        strict(x, use_b=False)
        out["strict_error"] = None
    except RuntimeError as e:
        out["strict_error"] = str(e)
    return out


def check_syncbn(r, n):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3, 4, 4)) * 2 + 1
    G = rng.normal(size=X.shape)
    bn = nn.BatchNorm2d(3).double()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3))).double()
    sbn = model[0]
    with td.no_grad():
        for m in (bn, sbn):
            m.weight.copy_(td.tensor([1.0, 2.0, 3.0]))
            m.bias.copy_(td.tensor([0.1, 0.2, 0.3]))
    x = td.tensor(X, requires_grad=True)
    for _ in range(2):  # two steps: the running statistics' update twice
        y = bn(x)
    (y * td.tensor(G)).sum().backward()
    sl = slice(0, 4) if r == 0 else slice(4, 6)  # uneven shares of the batch
    xs = td.tensor(X[sl], requires_grad=True)
    for _ in range(2):
        ys = sbn(xs)
    (ys * td.tensor(G[sl])).sum().backward()
    dw, db = sbn.weight.grad.clone(), sbn.bias.grad.clone()
    dist.all_reduce(dw)
    dist.all_reduce(db)
    sbn.eval()
    bn.eval()
    diff = {"type": type(sbn).__name__, "y": float((ys - y[sl]).abs().max()),
            "dx": float((xs.grad - x.grad[sl]).abs().max()), "dw": float((dw - bn.weight.grad).abs().max()),
            "db": float((db - bn.bias.grad).abs().max()),
            "running_mean": float((sbn.running_mean - bn.running_mean).abs().max()),
            "running_var": float((sbn.running_var - bn.running_var).abs().max()),
            "eval": float((sbn(xs) - bn(xs)).abs().max()), "nbt": int(sbn.num_batches_tracked.item())}
    return diff


def check_syncbn_variants(r, n):
    """SyncBatchNorm vs BatchNorm on the concatenated batch over 3 steps, for uneven shares (one rank with
    a single sample, one with none), momentum=None, affine=False, track_running_stats=False, (N, C) input."""
    res = {}
    cases = {"one_sample": ((3, 4), (1, 5), {}), "empty_rank": ((3, 4), (0, 4), {}),
             "momentum_none": ((3,), (3, 4), {"momentum": None}), "no_affine": ((3, 2, 2), (2, 3), {"affine": False}),
             "no_running_stats": ((3, 4), (2, 2), {"track_running_stats": False})}
    for name, (shape, sizes, kw) in cases.items():
        rng = np.random.default_rng(0)
        X = rng.normal(size=(sum(sizes),) + shape) * 2 + 1
        G = rng.normal(size=X.shape)
        bn = (nn.BatchNorm1d if len(shape) <= 2 else nn.BatchNorm2d)(shape[0], **kw).double()
        sbn = nn.SyncBatchNorm(shape[0], **kw).double()
        lo = sum(sizes[:r])
        sl = slice(lo, lo + sizes[r])
        d = {"y": 0.0, "dx": 0.0}
        for step in range(3):
            x = td.tensor(X * (step + 1), requires_grad=True)
            y = bn(x)
            (y * td.tensor(G)).sum().backward()
            xs = td.tensor(X[sl] * (step + 1), requires_grad=True)
            ys = sbn(xs)
            (ys * td.tensor(G[sl])).sum().backward()
            if sizes[r]:
                d["y"] = max(d["y"], float((ys - y[sl]).abs().max()))
                d["dx"] = max(d["dx"], float((xs.grad - x.grad[sl]).abs().max()))
        if sbn.weight is not None:
            dw = sbn.weight.grad.clone()
            dist.all_reduce(dw)
            d["dw"] = float((dw - bn.weight.grad).abs().max())
        if sbn.running_mean is not None:
            d["rm"] = float((sbn.running_mean - bn.running_mean).abs().max())
            d["rv"] = float((sbn.running_var - bn.running_var).abs().max())
        sbn.eval()
        bn.eval()
        if sizes[r]:
            d["eval"] = float((sbn(td.tensor(X[sl])) - bn(td.tensor(X[sl]))).abs().max())
        res[name] = d
    return res


def check_sampler(r, n):
    s = DistributedSampler(list(range(11)), seed=5)
    epochs = []
    for e in range(2):
        s.set_epoch(e)
        mine = list(s)
        allr = [None] * n
        dist.all_gather_object(allr, mine)
        epochs.append(allr)
    return {"epochs": epochs, "len": len(s)}


def check_checkpoint(r, n, path):
    ddp = DDP(mlp(td.float32))
    opt = td.optim.SGD(ddp.parameters(), lr=0.1)
    x = td.ones(4, 6) * (r + 1)
    ddp(x).sum().backward()
    opt.step()
    if r == 0:
        td.save(ddp.state_dict(), path)
    dist.barrier()
    sd = td.load(path)
    keys_prefixed = all(k.startswith("module.") for k in sd)
    consume_prefix_in_state_dict_if_present(sd, "module.")
    single = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    single.load_state_dict(sd)
    return {"prefixed": keys_prefixed, "same_keys": list(ddp.module.state_dict()) == list(single.state_dict()),
            "diff": max(float((a - b).abs().max()) for a, b in zip(single.parameters(), ddp.module.parameters()))}


def check_mismatch(r, n):
    td.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3 if r == 0 else 5), nn.Linear(3 if r == 0 else 5, 1))
    try:
        DDP(model)
    except RuntimeError as e:
        return str(e)
    return None


def check_torch_semantics(r, n):
    """Cases where DDP's timing rules matter; the values are those torch 2.13 (gloo, 2 ranks) gives."""
    out = {}
    x = td.ones(1, 2) * (r + 1)

    def lin():
        m = nn.Linear(2, 1, bias=False)
        with td.no_grad():
            m.weight.fill_(1.0)
        return m

    m = DDP(lin())
    with m.no_sync():  # the forward decides: forward inside no_sync, backward outside -> not averaged
        y = m(x).sum()
    y.backward()
    out["fwd_in_no_sync"] = m.module.weight.grad.tolist()
    m.zero_grad()
    y = m(x).sum()
    with m.no_sync():  # forward outside, backward inside -> averaged
        y.backward()
    out["bwd_in_no_sync"] = m.module.weight.grad.tolist()
    m = DDP(lin())
    y = m(x).sum()
    y.backward(retain_graph=True)
    y.backward()  # a second backward of the same forward is not averaged again
    out["retain_graph"] = m.module.weight.grad.tolist()
    m = DDP(lin())
    m.module(x).sum().backward()  # the wrapped module called directly: DDP does not take part
    out["bypass"] = m.module.weight.grad.tolist()

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = lin(), lin()

        def forward(self, x, use_b):
            return self.a(x) + (self.b(x) if use_b else 0)

    m = DDP(Two(), find_unused_parameters=True)
    m(x, True).sum().backward()
    m(x, r == 0).sum().backward()  # no zero_grad: b unused on rank 1 contributes its accumulated .grad
    out["unused_accumulated"] = m.module.b.weight.grad.tolist()
    m = DDP(Two(), find_unused_parameters=True)
    with m.no_sync():
        m(x, r == 0).sum().backward()  # b used on rank 0 in an accumulation step only
    m(x, False).sum().backward()  # ... and nowhere in the synchronized one: still counts as used
    b = m.module.b.weight.grad
    out["used_in_no_sync"] = [None if b is None else b.tolist(), m.module.a.weight.grad.tolist()]
    bn = nn.BatchNorm1d(2)
    m = DDP(bn)
    m(td.ones(4, 2) * td.tensor([[0.0], [1.0], [2.0], [3.0]]) + 10 * r)  # the ranks' running stats diverge
    m.eval()
    with td.no_grad():
        m(td.zeros(2, 2))  # first forward after a training one: buffers broadcast from rank 0
    out["eval_rm"] = bn.running_mean.tolist()
    m.train()
    with td.no_grad():
        m(td.ones(4, 2) * td.tensor([[0.0], [1.0], [2.0], [3.0]]) + 10 * r)  # after a no-grad forward: not
    out["nograd_rm"] = bn.running_mean.tolist()
    # the train CLI keeps the plain model and calls it directly: prepare_model still averages
    from tinygrad_dnn.train import distributed as D

    model, _ddp = D.prepare_model(nn.Sequential(lin(), nn.BatchNorm1d(1)))
    (model(td.cat([x, x * 3])) * td.tensor([[1.0], [2.0]])).sum().backward()  # rank-dependent local grads
    out["cli_bn_w"] = model[1].weight.grad.tolist()
    out["cli_w"] = model[0].weight.grad.tolist()
    return out


def main():
    out_dir = sys.argv[1]
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    res = {"rank": r, "world": n, "collectives": check_collectives(r, n)}
    sgd = lambda ps: td.optim.SGD(ps, lr=0.1, momentum=0.9)
    adam = lambda ps: td.optim.Adam(ps, lr=1e-2)
    res["sgd64"] = check_equivalence(r, n, sgd, td.float64)
    res["adam32"] = check_equivalence(r, n, adam, td.float32)
    res["no_sync64"] = check_equivalence(r, n, sgd, td.float64, steps=5, accumulate=3)
    res["unused"] = check_unused(r, n)
    res["syncbn"] = check_syncbn(r, n)
    res["syncbn_variants"] = check_syncbn_variants(r, n)
    res["sampler"] = check_sampler(r, n)
    res["checkpoint"] = check_checkpoint(r, n, os.path.join(out_dir, "ddp.pt"))
    res["mismatch"] = check_mismatch(r, n)
    res["torch_semantics"] = check_torch_semantics(r, n)
    with open(os.path.join(out_dir, f"rank{r}.json"), "w") as f:
        json.dump(res, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
