"""``tinygrad-dnn doctor``: a one-minute self-test of every device, with a verdict to paste into a question.

On every usable device (``cpu``, ``strict``, ``cuda``) it runs, for each op family, a small forward and
backward pass and compares values and gradients with the CPU in float64; one training step of an MLP
(against the CPU's); the random generator (seeding, moments, dropout); on a GPU the number of host
synchronizations in a training step (expected 0); and a quick MLP step timing against PyTorch when it
is installed. Exit status 0 when every check passed, 1 otherwise (a missing optional device, such as a
GPU without CuPy, is reported but is not a failure unless asked for with ``--device``).
"""
from __future__ import annotations

import math
import platform
import sys
import time

from .backend import get_backend

np = get_backend("cpu").xp  # host arrays only (reference values, comparisons); only backend/ imports numpy

FAMILIES = ["elementwise", "reductions", "matmul/linear", "conv", "pooling", "normalization", "indexing",
            "losses", "shape"]


def _families(tg, F):
    """name -> fn(list of Tensors) -> output Tensor; and the input shapes (positive or signed values)."""
    return {
        "elementwise": ([(4, 5), (5,)], lambda a, b: (a * b + a.exp() - b.tanh() + a.sigmoid() / (1 + b * b)
                                                      + F.gelu(a) + a.clamp(-0.5, 0.5) + a.abs().sqrt())),
        "reductions": ([(3, 4, 5)], lambda a: a.sum(1) + a.mean((0, 2)).sum() + a.amax(1)
                       + a.softmax(-1).mul(a).sum(1) + a.log_softmax(0).sum(1) + a.var(1)),
        "matmul/linear": ([(6, 4), (3, 4), (3,)], lambda x, w, b: F.linear(x, w, b) @ w + x @ x.T @ x),
        "conv": ([(2, 3, 7, 7), (4, 3, 3, 3), (4,)],
                 lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1) + F.conv2d(x, w, None, stride=2, padding=1).mean()),
        "pooling": ([(2, 3, 8, 8)], lambda x: F.max_pool2d(x, 2).sum() * F.avg_pool2d(x, 2)),
        "normalization": ([(6, 4, 3), (4,), (4,)], lambda x, g, b: F.batch_norm(
            x, None, None, g, b, training=True) + F.layer_norm(x.transpose(1, 2), (4,)).transpose(1, 2)),
        "indexing": ([(5, 4)], lambda x: x[tg.tensor([0, 3, 3], device=x.device)] * 2 + x[1:4:2].sum()
                     + x[:, tg.tensor([1, 1, 2], device=x.device)].sum(0, keepdim=True).T),
        "losses": ([(6, 5)], lambda x: F.cross_entropy(x, tg.tensor([0, 4, 2, 1, 3, 0], device=x.device))
                   + F.mse_loss(x, x.detach() * 0.5) + F.binary_cross_entropy_with_logits(x, (x.detach() > 0).float())),
        "shape": ([(2, 3, 4)], lambda x: tg.cat([x.permute(2, 0, 1).reshape(4, 6), x.reshape(6, 4).T], 0)
                  .unsqueeze(0).expand(2, 8, 6).sum(0) + tg.stack([x, x], 1).sum((1, 2)).reshape(-1)[:6]),
    }


def _run_family(tg, fn, host_inputs, device, dtype):
    xs = [tg.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in host_inputs]
    out = fn(*xs)
    rng = np.random.default_rng(1)
    w = tg.tensor(rng.standard_normal(tuple(out.shape)), dtype=out.dtype, device=device)
    (out * w).sum().backward()
    return out.detach().cpu().numpy(), [x.grad.cpu().numpy() for x in xs]


def _close(a, b, tol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False, math.inf
    err = float(np.max(np.abs(a - b) / (1.0 + np.abs(b)))) if a.size else 0.0  # relative, absolute near 0
    return bool(err <= tol and np.isfinite(a).all() == np.isfinite(b).all()), err


class _Report:
    def __init__(self, out):
        self.rows, self.out = [], out

    def add(self, device, check, ok, detail=""):
        self.rows.append((device, check, ok, detail))
        mark = "ok  " if ok is True else ("FAIL" if ok is False else "info")
        print(f"  [{mark}] {check:<28} {detail}", file=self.out, flush=True)


def _check_ops(tg, F, dev, rep):
    rng = np.random.default_rng(0)
    for name, (shapes, fn) in _families(tg, F).items():
        try:
            host = [rng.uniform(0.3, 1.5, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
            ref_out, ref_g = _run_family(tg, fn, host, "cpu", tg.float64)
            out, g = _run_family(tg, fn, host, dev, tg.float32)
            ok, err = _close(out, ref_out, 2e-3)
            okg = [_close(a, b, 2e-3) for a, b in zip(g, ref_g)]
            ok = ok and all(o for o, _ in okg)
            err = max([err] + [e for _, e in okg])
            rep.add(dev, f"ops: {name}", ok, f"max rel err {err:.1e} (float32 vs CPU float64, values + gradients)")
        except Exception as e:  # noqa: BLE001 - a doctor reports, it does not crash
            rep.add(dev, f"ops: {name}", False, f"{type(e).__name__}: {e}"[:160])


def _mlp(tg, din=20, dh=32, dout=4):
    nn = tg.nn
    return nn.Sequential(nn.Linear(din, dh), nn.ReLU(), nn.Linear(dh, dh), nn.ReLU(), nn.Linear(dh, dout))


def _train_steps(tg, F, dev, steps=3):
    tg.manual_seed(0)
    model = _mlp(tg).to(dev)
    opt = tg.optim.AdamW(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((16, 20)), dtype=tg.float32, device=dev)
    y = tg.tensor(rng.integers(0, 4, 16), device=dev)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.detach())
    return [float(v.item()) for v in losses], [p.detach().cpu().numpy() for p in model.parameters()]


def _check_training(tg, F, dev, rep):
    try:
        ref_losses, ref_params = _train_steps(tg, F, "cpu")
        losses, params = _train_steps(tg, F, dev) if dev != "cpu" else (ref_losses, ref_params)
        ok = losses[-1] < losses[0] and all(_close(a, b, 1e-3)[0] for a, b in zip(params, ref_params))
        rep.add(dev, "training step (MLP, AdamW)", ok,
                f"loss {losses[0]:.4f} -> {losses[-1]:.4f} in 3 steps; parameters vs CPU "
                + ("match" if ok else "DIFFER"))
    except Exception as e:  # noqa: BLE001
        rep.add(dev, "training step (MLP, AdamW)", False, f"{type(e).__name__}: {e}"[:160])


def _check_rng(tg, F, dev, rep):
    try:
        tg.manual_seed(123)
        a = tg.rand(20000, device=dev)
        tg.manual_seed(123)
        b = tg.rand(20000, device=dev)
        n = tg.randn(20000, device=dev)
        d = F.dropout(tg.ones(20000, device=dev), 0.25)
        same = a.tolist() == b.tolist()
        mean, std = float(a.mean().item()), float(n.std().item())
        keep = float((d != 0).float().mean().item())
        ok = same and abs(mean - 0.5) < 0.02 and abs(std - 1.0) < 0.03 and abs(keep - 0.75) < 0.02 \
            and d.dtype == tg.float32 and abs(float(d.max().item()) - 1 / 0.75) < 1e-5
        rep.add(dev, "random numbers", ok, f"reseed repeats: {same}; U mean {mean:.3f}, N std {std:.3f}, "
                                           f"dropout keep {keep:.3f} (p=0.25)")
    except Exception as e:  # noqa: BLE001
        rep.add(dev, "random numbers", False, f"{type(e).__name__}: {e}"[:160])


def count_host_syncs(tg, F, dev):
    """Host reads (``Tensor.item`` and ``backend.to_host``) during one training step on ``dev``."""
    from tinygrad_dnn.backend import get_backend

    be = get_backend(dev)
    tg.manual_seed(0)
    model = _mlp(tg).to(dev)
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    x = tg.randn(16, 20, device=dev)
    y = tg.randint(0, 4, (16,), device=dev)
    n = {"syncs": 0}
    real_item, real_host = tg.Tensor.item, be.to_host

    def item(self):
        n["syncs"] += 1
        return real_item(self)

    def to_host(arr):
        n["syncs"] += 1
        return real_host(arr)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(F.dropout(x, 0.1)), y)
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()  # warm-up (kernel compilation, state creation)
    be.synchronize()
    tg.Tensor.item, be.to_host = item, to_host
    try:
        step()
    finally:
        tg.Tensor.item = real_item
        del be.to_host
    be.synchronize()
    guard = getattr(be, "sync_guard", None)  # CuPy: implicit syncs (bool(array), float(array)) seen by CuPy
    guard = guard() if guard is not None else None
    if guard is not None:
        ctx, err = guard
        try:
            with ctx:
                step()
        except err:
            n["syncs"] = max(n["syncs"], 1)
        be.synchronize()
    return n["syncs"]


def _check_syncs(tg, F, dev, rep):
    try:
        n = count_host_syncs(tg, F, dev)
        rep.add(dev, "host syncs per training step", n == 0, f"{n} (expected 0: forward, loss, backward, "
                                                             "clip_grad_norm_, Adam)")
    except Exception as e:  # noqa: BLE001
        rep.add(dev, "host syncs per training step", False, f"{type(e).__name__}: {e}"[:160])


def _bench(tg, F, dev, rep, batch=128, steps=10):
    from tinygrad_dnn.backend import get_backend

    def ours():
        tg.manual_seed(0)
        model = _mlp(tg, 784, 512, 10).to(dev)
        opt = tg.optim.SGD(model.parameters(), lr=0.01)
        x = tg.randn(batch, 784, device=dev)
        y = tg.randint(0, 10, (batch,), device=dev)
        be = get_backend(dev)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return step, be.synchronize

    def theirs(torch):
        tdev = "cuda" if dev.startswith("cuda") else "cpu"
        torch.manual_seed(0)
        nn = torch.nn
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).to(tdev)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.randn(batch, 784, device=tdev)
        y = torch.randint(0, 10, (batch,), device=tdev)

        def step():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return step, (torch.cuda.synchronize if tdev == "cuda" else (lambda: None))

    def timeit(step, sync):
        for _ in range(3):
            step()
        sync()
        best = math.inf
        for _ in range(2):
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            sync()
            best = min(best, (time.perf_counter() - t0) / steps)
        return best * 1e3

    try:
        ms = timeit(*ours())
        detail = f"MLP 784-512-512-10, B={batch}, SGD step: {ms:.2f} ms"
        try:
            import torch

            if dev.startswith("cuda") and not torch.cuda.is_available():
                detail += "; PyTorch has no CUDA here"
            elif dev == "strict":
                pass
            else:
                torch.set_num_threads(max(1, torch.get_num_threads()))
                tms = timeit(*theirs(torch))
                detail += f"; PyTorch {tms:.2f} ms ({ms / tms:.2f}x)"
        except ImportError:
            detail += "; PyTorch not installed"
        rep.add(dev, "quick benchmark", None, detail)
    except Exception as e:  # noqa: BLE001
        rep.add(dev, "quick benchmark", False, f"{type(e).__name__}: {e}"[:160])


def run(devices=None, bench=True, out=None):
    """Run the self-test; returns the exit status (0: every check passed)."""
    out = out or sys.stdout
    import tinygrad_dnn as tg
    import tinygrad_dnn.nn.functional as F
    from tinygrad_dnn.backend import available_devices
    from tinygrad_dnn.backend.cupy_backend import cuda_usable, device_name

    t_start = time.perf_counter()
    print(f"tinygrad-dnn doctor: tinygrad_dnn {tg.__version__}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.platform()}", file=out)
    for mod in ("cupy", "array_api_compat", "array_api_strict", "torch"):
        try:
            m = __import__(mod)
            ver = getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001
            ver = "not installed"
        print(f"  {mod}: {ver}", file=out)
    avail = available_devices()
    usable, why = cuda_usable()
    if usable:
        print(f"  GPU: {device_name(0)}", file=out)
    else:
        print(f"  GPU: none usable ({why})", file=out)
    problems = []
    if devices:
        want = [d if d != "cuda:0" else "cuda" for d in devices]
        for d in want:
            if (d if d != "cuda" else "cuda:0") not in avail:
                problems.append(f"device {d!r} requested but not available here"
                                + (f" ({why})" if d.startswith("cuda") else ""))
        want = [d for d in want if (d if d != "cuda" else "cuda:0") in avail]
    else:
        want = [d if d != "cuda:0" else "cuda" for d in avail]
    rep = _Report(out)
    for dev in want:
        print(f"\n== device {dev} ==", file=out, flush=True)
        _check_ops(tg, F, dev, rep)
        _check_training(tg, F, dev, rep)
        _check_rng(tg, F, dev, rep)
        if dev.startswith("cuda"):
            _check_syncs(tg, F, dev, rep)
        if bench and dev != "strict":  # strict is a checking backend, not a fast one
            _bench(tg, F, dev, rep)
    tg.manual_seed(0)
    failed = [f"{d}: {c}" for d, c, ok, _ in rep.rows if ok is False]
    passed = sum(1 for r in rep.rows if r[2] is True)
    secs = time.perf_counter() - t_start
    print("", file=out)
    if failed or problems:
        print(f"VERDICT: PROBLEM ({len(failed)} failed, {passed} passed on {', '.join(want) or 'no device'}; "
              f"{secs:.0f} s): " + "; ".join(problems + failed), file=out)
        return 1
    print(f"VERDICT: OK ({passed} checks passed on {', '.join(want)}; {secs:.0f} s)"
          + ("" if usable else "; no GPU checked"), file=out)
    return 0
