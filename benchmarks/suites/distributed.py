"""Data parallelism on the CPU: all-reduce cost against message size, and the MLP / CNN training
steps on 1 and 2 processes (``mpiexec``, one BLAS thread per process), with the global batch fixed.

Rows (device cpu):
- ``all_reduce N floats, 2 ranks``: ``tinygrad_dnn`` = ``distributed.all_reduce`` of a Tensor (host
  copy, MPI, in-place write back), ``mpi4py`` = raw ``Allreduce`` in place on a NumPy buffer,
  ``numpy`` = one ``np.copyto`` of the same bytes in one process (the memory floor). Bandwidth =
  bytes / time is in the notes.
- ``mlp step B=256, P ranks`` / ``cnn step B=64, P ranks``: one SGD step of the DDP-wrapped model,
  each rank on B/P samples (time of rank 0; the ranks are in lockstep); ``numpy`` = the hand-written
  one-process step on the whole batch (models.HandMLP / cnn.HandCNN). Scaling efficiency
  T(1) / (P T(P)) is in the notes.

What 2 cores can show: whether the per-step communication (one all-reduce of the gradients in
buckets) is small next to the compute, i.e. the overhead of data parallelism. What they cannot:
real speed-ups (2 processes already fill both cores, and any other load on the machine — or
MPICH's busy-polling while a rank waits — takes from the compute), network effects between
machines, or NCCL on GPUs (the suite does not run on GPUs).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _mpiexec():
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return local if os.path.exists(local) else shutil.which("mpiexec")


def _launch(nproc, quick, mpiexec):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               TINYGRAD_DNN_THREADS="1", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "benchmarks.distributed_worker", path, "1" if quick else "0"]
    if mpiexec is not None:
        cmd = [mpiexec, "-n", str(nproc)] + cmd
    try:
        subprocess.run(cmd, check=True, cwd=ROOT, env=env, timeout=900, capture_output=True, text=True)
        with open(path) as f:
            return json.load(f)
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"{' '.join(cmd)} failed ({e.returncode}):\n{e.stderr[-3000:]}") from None
    finally:
        os.unlink(path)


def run(ctx):
    mpiexec = _mpiexec()
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        mpiexec = None
    procs = [1, 2] if mpiexec else [1]
    if not mpiexec:
        ctx.note('mpi4py/mpiexec not installed (pip install "tinygrad-dnn[distributed]"): one process only, no DDP')
    results = {p: _launch(p, ctx.quick, mpiexec) for p in procs}
    kw = {"repeats": 3} if ctx.quick else {"repeats": 9}
    for row in results.get(2, {}).get("allreduce", []):
        case = f"all_reduce {row['elements']} floats, 2 ranks"
        x = np.ones(row["elements"], np.float32)
        dst = np.empty_like(x)
        ctx.record(case, "tinygrad_dnn", row["tinygrad_dnn"], ranks=2, blas_threads=1)
        ctx.record(case, "mpi4py", row["mpi4py"], ranks=2, blas_threads=1)
        ctx.record(case, "numpy", ctx.timeit(lambda d=dst, x=x: np.copyto(d, x), **kw), note="memcpy, 1 process")
        mb = row["bytes"] / 2 ** 20
        ctx.note(f"all_reduce {row['bytes']} B: tinygrad_dnn {row['tinygrad_dnn']['median'] * 1e6:.1f} us "
                 f"({mb / row['tinygrad_dnn']['median']:.0f} MiB/s), mpi4py {row['mpi4py']['median'] * 1e6:.1f} us "
                 f"({mb / row['mpi4py']['median']:.0f} MiB/s), memcpy {row['memcpy']['median'] * 1e6:.1f} us")
    hand = results[1]["hand"]  # hand-written one-process steps on the whole batch (measured by the P=1 worker)
    base = {}
    for p, res in results.items():
        for s in res["steps"]:
            case = f"{s['model']} step B={s['global_batch']}, {p} rank{'s' if p > 1 else ''}"
            ctx.record(case, "tinygrad_dnn", s["stats"], ranks=p, per_rank_batch=s["per_rank_batch"],
                       blas_threads=res["blas_threads"])
            ctx.record(case, "numpy", hand[s["model"]], note="hand-written, 1 process, whole batch")
            base.setdefault(s["model"], s["stats"]["median"])
            if p > 1:
                eff = base[s["model"]] / (p * s["stats"]["median"])
                ctx.note(f"{s['model']} step: {p} ranks {s['stats']['median'] * 1e3:.2f} ms vs 1 rank "
                         f"{base[s['model']] * 1e3:.2f} ms: speed-up {base[s['model']] / s['stats']['median']:.2f}x, "
                         f"scaling efficiency {eff:.0%} ({os.cpu_count()} cores, 1 BLAS thread per rank)")
