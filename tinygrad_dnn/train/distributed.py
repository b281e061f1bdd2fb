"""Data-parallel runs of ``tinygrad-dnn train``: ``mpiexec -n N tinygrad-dnn train ...`` or ``--nproc N``.

What a run on N processes does (every rank runs the same program):

- the model is built from the same seed on every rank, its BatchNorm layers become
  ``SyncBatchNorm`` (statistics over the global batch) and it is wrapped for gradient averaging
  (``DistributedDataParallel``: parameters broadcast from rank 0, gradients averaged after each
  backward). The trainer keeps the plain model, so checkpoints have the plain model's keys and a
  run resumes on any number of processes (1 included);
- ``--batch-size B`` is the global batch: each rank takes B/N samples per step from its
  ``DistributedSampler`` share (reshuffled each epoch with ``seed + epoch``, the same on every rank);
- ``--lr`` is the learning rate for that global batch, used as given: the run takes the steps of one
  process with batch B (up to the sample order), so it reaches the same accuracy. Raising B by k
  should come with k times the learning rate and a warmup (the linear scaling rule of Goyal et al.,
  2017); that is left to the user (``--lr``; the schedules' warmup where they have one);
- rank 0 alone prints progress and metrics and writes ``--out`` (checkpoints, metrics.json); the
  other ranks are quiet. The logged training loss/accuracy is rank 0's share of each batch; the
  validation and test metrics are over the whole sets (every rank evaluates them, on equal weights).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")


def launched_world_size():
    """The number of processes the MPI launcher started (1 when not under mpiexec)."""
    for k in _SIZE_VARS:
        if os.environ.get(k, "").isdigit():
            return int(os.environ[k])
    return 1


def find_mpiexec():
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return local if os.path.exists(local) else shutil.which("mpiexec")


def relaunch(nproc, argv=None):
    """Run this ``tinygrad-dnn train`` command again under ``mpiexec -n nproc``; returns its exit status."""
    from ..distributed import INSTALL_HINT

    argv = list(sys.argv if argv is None else argv)
    if "train" not in argv[1:]:
        print("error: --nproc needs the command line (run `tinygrad-dnn train --nproc N ...`, or start the "
              "processes yourself: `mpiexec -n N tinygrad-dnn train ...`)", file=sys.stderr)
        return 2
    rest, skip = [], False
    for a in argv[argv.index("train", 1) + 1:]:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            rest.append(a)
    mpiexec = find_mpiexec()
    if mpiexec is None:
        print(f"error: --nproc {nproc}: no mpiexec next to {sys.executable} or on PATH; {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    cmd = [mpiexec, "-n", str(nproc), sys.executable, "-m", "tinygrad_dnn", "train", *rest]
    return subprocess.call(cmd)


def init():
    """Join the MPI job if there is one: (world_size, rank); (1, 0) for a single process."""
    if launched_world_size() <= 1:
        return 1, 0
    from .. import distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("mpi")
    return dist.get_world_size(), dist.get_rank()


def prepare_model(model):
    """SyncBatchNorm for BatchNorm, then gradient averaging: (model to train, DDP object that must stay alive)."""
    from ..nn import SyncBatchNorm
    from ..nn.parallel import DistributedDataParallel

    model = SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = DistributedDataParallel(model)
    # The trainer calls the plain model; DDP (as torch's) averages only the backward of its own forward, so
    # the plain model's forward runs DDP's before/after-forward steps (buffer broadcast, arming the hooks).
    state = {}
    model.register_forward_pre_hook(lambda m, inputs: state.__setitem__("sync", ddp._pre_forward()))
    model.register_forward_hook(lambda m, inputs, out: ddp._post_forward(out, state.pop("sync")))
    return model, ddp


def train_loader(dataset, global_batch, world, rank, seed, has_bn):
    """A DataLoader over this rank's share, batches of global_batch / world, and the set_epoch callback."""
    from ..data import DataLoader, DistributedSampler
    from .callbacks import Callback

    per_rank = global_batch // world
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed)
    drop_last = has_bn and len(sampler) % per_rank == 1 and len(sampler) > 1

    class SetEpoch(Callback):
        def on_epoch_begin(self, trainer, epoch):
            sampler.set_epoch(epoch - 1)  # epochs count from 1 in the trainer, from 0 in torch's samplers

    return DataLoader(dataset, batch_size=per_rank, sampler=sampler, drop_last=drop_last), SetEpoch()


def banner(world, global_batch, lr):
    return (f"data parallel: {world} processes (MPI), global batch {global_batch} = {world} x "
            f"{global_batch // world} per process; lr {lr:g} for the global batch, as given (not scaled with the "
            "number of processes: the run follows one process with this batch; linear scaling rule when you raise "
            "--batch-size: multiply --lr by the same factor, with warmup); gradients averaged over processes, "
            "BatchNorm synchronized")
