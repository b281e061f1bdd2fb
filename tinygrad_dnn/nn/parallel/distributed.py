"""DistributedDataParallel: one model replica per process, gradients averaged across processes.

Each of the N processes (``mpiexec -n N``; ``tinygrad_dnn.distributed.init_process_group`` first)
holds the same model and feeds it its own share of the batch. After ``loss.backward()`` every
replica's ``p.grad`` is the average over the processes,

    p.grad <- (1/N) sum_r p.grad_r,

so with each process's loss a mean over its B/N samples, ``p.grad`` equals the gradient of the mean
loss over the global batch of B samples: the optimizer steps are those of one process with batch B.

As ``torch.nn.parallel.DistributedDataParallel``:

- construction checks that every rank has the same parameters (names, shapes, dtypes; a mismatch
  raises on every rank, naming the parameter and the ranks), then broadcasts parameters and buffers
  from rank 0, so all replicas start equal;
- gradients are averaged in buckets of at most ``bucket_cap_mb`` MiB, parameters in reverse
  registration order (the order backward usually produces them). A post-accumulate-grad hook on each
  parameter marks it ready; a full bucket is flattened and its all-reduce started (MPI: non-blocking
  ``Iallreduce``, NCCL: on the CUDA stream), buckets in index order on every rank; after the last
  bucket the results are divided by N and written into ``.grad`` (the version counter is bumped);
- a forward with grad enabled outside ``no_sync()`` arms the hooks for the next backward, which
  averages and disarms them: so the forward decides (a forward inside ``no_sync()`` is followed by a
  local backward, wherever the backward runs), a second backward of the same forward
  (``retain_graph``) is not averaged again, and a backward through ``ddp.module`` called directly is
  not averaged at all (as torch);
- ``no_sync()``: forward/backward passes inside it only accumulate locally (gradient accumulation);
  the first synchronized iteration after it averages the accumulated ``.grad``;
- ``find_unused_parameters=False``: every parameter must get a gradient in every backward, or the
  next forward raises naming the parameters that did not. ``True``: after each forward the autograd
  graph is searched from the outputs; parameters not in it are marked ready at once and contribute
  their ``.grad`` (zeros if None); a parameter that got no gradient on any rank, in this backward or
  the ``no_sync`` ones before it, keeps its ``.grad`` untouched (a used-flag all-reduce);
- ``broadcast_buffers=True``: buffers (BatchNorm running statistics) are broadcast from rank 0 before
  a forward when the previous forward was a synchronized one (or none ran yet), as torch: so before
  every training forward and before the first no-grad (evaluation) forward after training;
- ``ddp.module`` is the wrapped model: ``ddp.module.state_dict()`` has the plain model's keys and
  ``ddp.state_dict()`` prefixes them with ``module.`` (strip with
  :func:`consume_prefix_in_state_dict_if_present`).

Differences from torch: buckets are fixed at construction (no rebuild after the first iteration),
``static_graph``/``gradient_as_bucket_view``/communication hooks are not implemented, and only the
default process group exists.
"""
from __future__ import annotations

import contextlib

from ... import distributed as dist
from ...autograd import views as _views
from ...autograd.function import Context
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.tensor import Tensor
from ...distributed import _mpi
from ...distributed.process_group import _S, ReduceOp
from ..module import Module

__all__ = ["DistributedDataParallel", "consume_prefix_in_state_dict_if_present"]


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` (e.g. ``"module."``) from the keys that have it, in place (torch's helper)."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    meta = getattr(state_dict, "_metadata", None)
    if meta is not None:
        for key in list(meta.keys()):
            if key == prefix.rstrip(".") or key.startswith(prefix):
                meta[key[len(prefix):] if key.startswith(prefix) else ""] = meta.pop(key)


def _leaves_of(outputs):
    """ids of the leaf tensors the autograd graph of ``outputs`` (Tensors, nested in tuples/lists/dicts) reaches."""
    stack, seen, leaves = [], set(), set()

    def add(o):
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                stack.append(o.grad_fn)
            elif o.requires_grad:
                leaves.add(id(o))
        elif isinstance(o, (list, tuple)):
            for x in o:
                add(x)
        elif isinstance(o, dict):
            for x in o.values():
                add(x)

    add(outputs)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for nxt in node.next:
            if nxt is None:
                continue
            if type(nxt) is Context:
                stack.append(nxt)
            else:
                leaves.add(id(nxt))
    return leaves


class _Bucket:
    def __init__(self, index, params):
        self.index, self.params = index, params  # params: [(position, name, Parameter)]
        self.numel = sum(p.numel() for _, _, p in params)


class DistributedDataParallel(Module):
    """Data parallelism across processes: see the module docstring for what is averaged and when."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        who = "DistributedDataParallel"
        if not dist.is_initialized():
            raise RuntimeError(f"{who}: the default process group has not been initialized; call "
                               "tinygrad_dnn.distributed.init_process_group(backend='mpi') first (in a program "
                               "started with `mpiexec -n N`)")
        if process_group is not None:
            raise NotImplementedError(f"{who}: only the default process group is supported (process_group=None)")
        if not isinstance(module, Module):
            raise TypeError(f"{who}: expected an nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else float(bucket_cap_mb)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True  # broadcast buffers before the next forward
        self.world_size, self.rank = dist.get_world_size(), dist.get_rank()
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._params = [p for _, p in named]
        self._names = [n for n, _ in named]
        self._check_same_model(named)
        with no_grad():
            for _, p in module.named_parameters():
                dist.broadcast(p, 0)
            for _, b in module.named_buffers():
                dist.broadcast(b, 0)
        self._buckets = self._make_buckets(named)
        self._bucket_of = {}
        for b in self._buckets:
            for pos, _, _ in b.params:
                self._bucket_of[pos] = b
        self._handles = [p.register_post_accumulate_grad_hook(self._make_hook(i)) for i, p in enumerate(self._params)]
        self._unused = set()  # positions of parameters not in the last forward's graph (find_unused_parameters)
        self._reset()

    # ------------------------------------------------------------------ construction
    def _check_same_model(self, named):
        desc = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        everyone = [None] * self.world_size
        dist.all_gather_object(everyone, desc)
        ref = everyone[0]
        for r, d in enumerate(everyone[1:], start=1):
            if d == ref:
                continue
            if len(d) != len(ref):
                raise RuntimeError(
                    f"DistributedDataParallel: rank 0 has {len(ref)} parameters that require grad but rank {r} has "
                    f"{len(d)}; every rank must build the same model")
            for (n0, s0, t0), (n1, s1, t1) in zip(ref, d):
                if (n0, s0, t0) != (n1, s1, t1):
                    raise RuntimeError(
                        f"DistributedDataParallel: parameter {n0!r} is {s0} {t0} on rank 0 but parameter {n1!r} is "
                        f"{s1} {t1} on rank {r}; every rank must build the same model (same shapes and dtypes)")

    def _make_buckets(self, named):
        cap = self.bucket_cap_mb * 2 ** 20
        buckets, cur, size = [], [], 0
        for pos in reversed(range(len(named))):
            n, p = named[pos]
            nbytes = p.numel() * p.dtype.itemsize
            if cur and (size + nbytes > cap or p.dtype != cur[0][2].dtype or str(p.device) != str(cur[0][2].device)):
                buckets.append(_Bucket(len(buckets), cur))
                cur, size = [], 0
            cur.append((pos, n, p))
            size += nbytes
        if cur:
            buckets.append(_Bucket(len(buckets), cur))
        return buckets

    # ------------------------------------------------------------------ forward
    def _reset(self):
        self._started = False  # a synchronized backward is in progress (some hook fired)
        self._expect_hooks = False  # a synchronized forward ran since the last averaging: hooks take part
        self._ready = [set() for _ in self._buckets]
        self._launched = []  # (bucket, flat buffer, request, on_device)
        self._next = 0
        self._used = set()  # positions whose hook saw a .grad since the last averaging (find_unused_parameters)

    def forward(self, *inputs, **kwargs):
        sync = self._pre_forward()
        out = self.module(*inputs, **kwargs)
        self._post_forward(out, sync)
        return out

    def _pre_forward(self):
        """Before the module's forward: the prior-reduction check and the buffer broadcast; returns whether
        the coming backward is to be averaged (grad enabled and not inside ``no_sync``)."""
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync and self._started:
            missing = [self._names[pos] for b in self._buckets for pos, _, _ in b.params if pos not in self._ready[b.index]]
            raise RuntimeError(
                "DistributedDataParallel: Expected to have finished reduction in the prior iteration before starting "
                "a new one. These parameters did not receive a gradient in the last backward: "
                f"{', '.join(missing)}. If they are unused in some forward passes, pass "
                "find_unused_parameters=True to DistributedDataParallel; also make sure every output of forward "
                "takes part in the loss.")
        # as torch: buffers are broadcast when the previous forward was a synchronized one (or none ran yet)
        if self.require_forward_param_sync and self.broadcast_buffers and self.world_size > 1:
            with no_grad():
                for _, b in self.module.named_buffers():
                    dist.broadcast(b, 0)
        return sync

    def _post_forward(self, out, sync):
        """After the module's forward: arm the gradient hooks for the backward of this forward (as torch's
        ``prepare_for_backward``); a forward without sync leaves them as they were."""
        self.require_forward_param_sync = sync
        if not sync:
            return
        self._expect_hooks = True
        if self.find_unused_parameters:
            used = _leaves_of(out)
            self._unused = {i for i, p in enumerate(self._params) if id(p) not in used}
        else:
            self._unused = set()

    @contextlib.contextmanager
    def no_sync(self):
        """Inside: backward only accumulates ``.grad`` locally; the next backward outside averages the sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward
    def _make_hook(self, pos):
        def hook(param):
            if param.grad is not None:  # as torch: used in any backward since the last averaging (no_sync too)
                self._used.add(pos)
            if self._expect_hooks:  # as torch: only the first backward after a synchronized forward averages
                self._mark_ready(pos)
        return hook

    def _mark_ready(self, pos):
        if not self._started:
            self._started = True
            for u in self._unused:  # not in this iteration's graph: ready now, contributes its .grad or zeros
                self._ready[self._bucket_of[u].index].add(u)
        b = self._bucket_of[pos]
        self._ready[b.index].add(pos)
        while self._next < len(self._buckets) and len(self._ready[self._next]) == len(self._buckets[self._next].params):
            self._launch(self._buckets[self._next])
            self._next += 1
        if self._next == len(self._buckets):
            self._finish()

    def _launch(self, bucket):
        p0 = bucket.params[0][2]
        be = p0.backend
        xp = be.xp
        parts = []
        for pos, _, p in bucket.params:
            g = p.grad  # as torch, also for a parameter unused here: its accumulated .grad, else zeros
            parts.append(xp.reshape(g._data, (-1,)) if g is not None else
                         xp.zeros((p.numel(),), dtype=p._data.dtype, device=be.device))
        flat = xp.concat(parts) if len(parts) > 1 else xp.asarray(parts[0], copy=True)
        if _S.backend == "nccl":
            _S.nccl.all_reduce_(flat, ReduceOp.SUM)
            self._launched.append((bucket, flat, None, True))
            return
        host = be.to_host(flat)
        if host.dtype.name in ("float32", "float64"):
            req = _mpi.iall_reduce_sum_(host)
        else:
            _mpi.all_reduce_(host, ReduceOp.SUM)
            req = None
        self._launched.append((bucket, host, req, False))

    def _finish(self):
        reqs = [req for _, _, req, _ in self._launched if req is not None]
        if reqs:
            _S.MPI.Request.Waitall(reqs)
        globally_used = None
        if self.find_unused_parameters and self.world_size > 1:
            flags = Tensor._from_array(self._params[0].backend.xp.asarray(
                [1 if i in self._used else 0 for i in range(len(self._params))], dtype="uint8"), self._params[0].backend)
            dist.all_reduce(flags, op=ReduceOp.MAX)
            globally_used = flags.tolist()
        elif self.find_unused_parameters:
            globally_used = [1 if i in self._used else 0 for i in range(len(self._params))]
        n = self.world_size
        for bucket, flat, _, on_device in self._launched:
            flat /= n
            off = 0
            for pos, _, p in bucket.params:
                k = p.numel()
                if globally_used is None or globally_used[pos]:
                    self._write_grad(p, flat[off:off + k], on_device)
                off += k
        self._reset()

    @staticmethod
    def _write_grad(p, chunk, on_device):
        be = p.backend
        value = be.xp.reshape(chunk if on_device else be.from_host(chunk), tuple(p.shape))
        g = p.grad
        if g is None:
            p.grad = Tensor._from_array(be.xp.asarray(value, copy=True), be)
            return
        if be.writable(g._data) and g._data.shape == value.shape:
            g._data[...] = value
        else:
            g._data = be.xp.asarray(value, copy=True)
        _views.bump(g)

    def extra_repr(self):
        return f"world_size={self.world_size}, buckets={len(self._buckets)}, bucket_cap_mb={self.bucket_cap_mb}"
