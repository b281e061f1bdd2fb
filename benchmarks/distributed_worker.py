"""Run by the ``distributed`` suite under ``mpiexec -n P python -m benchmarks.distributed_worker OUT QUICK``.

Every rank times the same things in lockstep (the same number of calls, agreed on before each
measurement; a sample's time is the slowest rank's); rank 0 writes ``OUT`` (JSON): per message size the all-reduce time through
``tinygrad_dnn.distributed.all_reduce`` (a Tensor, in place: host copy + MPI + write back) and through
raw ``mpi4py`` ``Allreduce`` on a NumPy buffer; and the data-parallel MLP and CNN training steps
(DistributedDataParallel, global batch split over the P ranks). Without an MPI launcher (P = 1 and
no mpi4py) the steps run without DDP.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import harness
from benchmarks.models import init_weights, make_batch
from benchmarks.suites import cnn as cnn_suite

MLP_SIZES, MLP_B = (784, 512, 512, 10), 256


def _mlp(tg, weights):
    nn = tg.nn
    layers = []
    for i, (w, b) in enumerate(weights):
        lin = nn.Linear(w.shape[1], w.shape[0])
        with tg.no_grad():
            lin.weight.copy_(tg.tensor(w))
            lin.bias.copy_(tg.tensor(b))
        layers += [lin] + ([nn.ReLU()] if i < len(weights) - 1 else [])
    return nn.Sequential(*layers)


def _cnn(tg, params):
    nn = tg.nn
    m = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))
    with tg.no_grad():
        for mod, (w, b) in zip([m[0], m[3], m[7]], [("w1", "b1"), ("w2", "b2"), ("w3", "b3")]):
            mod.weight.copy_(tg.tensor(params[w]))
            mod.bias.copy_(tg.tensor(params[b]))
    return m


def lockstep_measure(fn, repeats, warmup, min_sample):
    """``harness.measure`` for collectives: every rank must call ``fn`` equally often, so the inner-loop
    count is agreed on (the slowest rank's calibration time decides) before the samples are taken."""
    import statistics
    import time

    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    for _ in range(max(1, warmup)):
        fn()
    number = 1
    while True:
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
        if dt >= min_sample or number >= 100_000:
            break
        number = min(100_000, max(number * 2, int(number * min_sample / max(dt, 1e-9) * 1.2)))
    samples = []
    for _ in range(repeats):
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append(comm.allreduce(time.perf_counter() - t0, op=MPI.MAX) / number)
    q1, q3 = harness._quantiles(samples)
    return {"median": statistics.median(samples), "q1": q1, "q3": q3, "iqr": q3 - q1, "min": min(samples),
            "mean": statistics.fmean(samples), "repeats": repeats, "number": number, "warmup": warmup}


def main():
    out, quick = sys.argv[1], sys.argv[2] == "1"
    import tinygrad_dnn as tg

    dist = None
    if os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE"):
        import tinygrad_dnn.distributed as dist

        dist.init_process_group("mpi")
    rank, size = (dist.get_rank(), dist.get_world_size()) if dist else (0, 1)
    kw = {"repeats": 3, "warmup": 1, "min_sample": 0.002} if quick else {"repeats": 9, "warmup": 2, "min_sample": 0.05}

    def timeit(fn):
        if not dist:
            return harness.measure(fn, **kw)
        return lockstep_measure(fn, **kw)

    res = {"ranks": size, "blas_threads": harness.blas_threads()[0], "allreduce": [], "steps": []}
    if dist:
        from mpi4py import MPI

        sizes = [1, 1 << 14] if quick else [1, 1 << 8, 1 << 12, 1 << 16, 1 << 18, 1 << 20, 1 << 22]
        for n in sizes:
            t = tg.ones(n)
            buf = np.ones(n, np.float32)
            dst = np.empty_like(buf)
            row = {"elements": n, "bytes": 4 * n,
                   "tinygrad_dnn": timeit(lambda t=t: dist.all_reduce(t)),
                   "mpi4py": timeit(lambda b=buf: MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, b, op=MPI.SUM)),
                   "memcpy": timeit(lambda d=dst, b=buf: np.copyto(d, b))}
            res["allreduce"].append(row)
    # training steps, global batch fixed (strong scaling): each rank takes its 1/size of it
    xm, ym = make_batch(MLP_B, MLP_SIZES[0], MLP_SIZES[-1])
    xc, yc = cnn_suite.batch()
    cases = [("mlp", _mlp(tg, init_weights(MLP_SIZES)), xm, ym, 0.1),
             ("cnn", _cnn(tg, cnn_suite.init()), xc, yc, cnn_suite.LR)]
    for name, model, x, y, lr in cases:
        if dist:
            from tinygrad_dnn.nn.parallel import DistributedDataParallel

            model = DistributedDataParallel(model)
        opt = tg.optim.SGD(model.parameters(), lr=lr)
        h = len(x) // size
        xs, ys = tg.tensor(x[rank * h:(rank + 1) * h]), tg.tensor(y[rank * h:(rank + 1) * h].astype(np.int64))

        def step(opt=opt, model=model, xs=xs, ys=ys):
            opt.zero_grad()
            loss = tg.nn.functional.cross_entropy(model(xs), ys)
            loss.backward()
            opt.step()
        res["steps"].append({"model": name, "global_batch": len(x), "per_rank_batch": h, "stats": timeit(step)})
    if size == 1:  # the hand-written one-process steps on the whole batch, under the same thread settings
        from benchmarks.models import HandMLP

        hm = HandMLP(init_weights(MLP_SIZES), np)
        hm.set_batch(xm, ym)
        hc = cnn_suite.HandCNN(cnn_suite.init(), np)
        hc.set_batch(xc, yc)
        res["hand"] = {"mlp": harness.measure(hm.step, **kw), "cnn": harness.measure(hc.step, **kw)}
    if rank == 0:
        with open(out, "w") as f:
            json.dump(res, f)
    if dist:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
