"""(1) Per-op overhead on tiny tensors (4x4 float32), forward and forward+backward, plus a 20-op chain.

Columns: tinygrad_dnn, raw NumPy (the array math alone; for fwd+bwd the hand-written gradient
formulas too), PyTorch eager. On tiny tensors the array math is negligible, so this measures the
per-op Python/dispatch cost of each framework.
"""
from __future__ import annotations

import numpy as np

SHAPE = (4, 4)


def _ops(lib):
    """name -> (forward on (a, b), hand-written forward+backward for NumPy)."""
    return {
        "add": lambda a, b: a + b,
        "mul": lambda a, b: a * b,
        "matmul": lambda a, b: a @ b,
        "exp": lambda a, b: a.exp() if lib != "np" else np.exp(a),
        "tanh": lambda a, b: a.tanh() if lib != "np" else np.tanh(a),
        "relu": lambda a, b: a.relu() if lib != "np" else np.maximum(a, 0),
        "sum": lambda a, b: a.sum() if lib != "np" else a.sum(),
        "log_softmax": (lambda a, b: a.log_softmax(1)) if lib != "np" else
        (lambda a, b: (lambda s: s - np.log(np.exp(s).sum(1, keepdims=True)))(a - a.max(1, keepdims=True))),
    }


def _np_fwd_bwd(name, a, b, g):
    """The NumPy work of forward + backward for one op with upstream gradient g (hand-written)."""
    if name == "add":
        return a + b, g, g
    if name == "mul":
        return a * b, g * b, g * a
    if name == "matmul":
        return a @ b, g @ b.T, a.T @ g
    if name == "exp":
        y = np.exp(a)
        return y, g * y
    if name == "tanh":
        y = np.tanh(a)
        return y, g * (1 - y * y)
    if name == "relu":
        return np.maximum(a, 0), g * (a > 0)
    if name == "sum":
        return a.sum(), np.broadcast_to(np.float32(1.0), a.shape)
    if name == "log_softmax":
        s = a - a.max(1, keepdims=True)
        e = np.exp(s)
        z = e.sum(1, keepdims=True)
        y = s - np.log(z)
        return y, g - (e / z) * g.sum(1, keepdims=True)
    raise KeyError(name)


def _chain(x, lib):
    """20 elementwise/reduction ops on a tiny tensor."""
    for _ in range(4):
        x = x * 1.01
        x = x + 0.1
        x = x.tanh() if lib != "np" else np.tanh(x)
        x = x.exp() if lib != "np" else np.exp(x)
        x = x - 1.0
    return x


def _np_chain_fwd_bwd(x):
    saved = []
    for _ in range(4):
        x = x * 1.01
        x = x + 0.1
        t = np.tanh(x)
        saved.append(t)
        e = np.exp(t)
        saved.append(e)
        x = e - 1.0
    s = x.sum()
    g = np.ones_like(x)
    for i in range(3, -1, -1):
        g = g * saved[2 * i + 1]
        g = g * (1 - saved[2 * i] * saved[2 * i])
        g = g * 1.01
    return s, g


def run(ctx):
    import tinygrad_dnn as tg

    torch = ctx.torch
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal(SHAPE).astype(np.float32)
    b_np = rng.standard_normal(SHAPE).astype(np.float32)
    g_np = np.ones(SHAPE, np.float32)
    impls = {"tinygrad_dnn": tg, "torch": torch} if torch is not None else {"tinygrad_dnn": tg}
    leaves = {}
    for name, lib in impls.items():
        leaves[name] = (lib.tensor(a_np, requires_grad=True), lib.tensor(b_np, requires_grad=True),
                        lib.tensor(a_np), lib.tensor(b_np))
    kw = {"min_sample": 0.02 if not ctx.quick else 0.002, "repeats": 7 if not ctx.quick else 3}

    for op in _ops("tg"):
        # forward only, inputs not requiring grad (pure dispatch cost)
        f_np = _ops("np")[op]
        ctx.record(f"fwd {op}", "numpy", ctx.timeit(lambda: f_np(a_np, b_np), **kw))
        for name, lib in impls.items():
            f = _ops(name)[op]
            _, _, a, b = leaves[name]
            ctx.record(f"fwd {op}", name, ctx.timeit(lambda: f(a, b), **kw))
        # forward recording the graph (inputs require grad)
        for name, lib in impls.items():
            f = _ops(name)[op]
            a, b, _, _ = leaves[name]
            ctx.record(f"fwd+graph {op}", name, ctx.timeit(lambda: f(a, b), **kw))
        ctx.record(f"fwd+graph {op}", "numpy", ctx.timeit(lambda: f_np(a_np, b_np), **kw))
        # forward + backward with an explicit upstream gradient
        ctx.record(f"fwd+bwd {op}", "numpy", ctx.timeit(lambda: _np_fwd_bwd(op, a_np, b_np, g_np if op != "sum" else 1.0), **kw))
        for name, lib in impls.items():
            f = _ops(name)[op]
            a, b, _, _ = leaves[name]
            gout = lib.ones(()) if op == "sum" else lib.ones(SHAPE)

            def fb(f=f, a=a, b=b, gout=gout):
                a.grad = None
                b.grad = None
                f(a, b).backward(gout)
            ctx.record(f"fwd+bwd {op}", name, ctx.timeit(fb, **kw))

    ctx.record("chain20 fwd", "numpy", ctx.timeit(lambda: _chain(a_np, "np"), **kw))
    ctx.record("chain20 fwd+bwd", "numpy", ctx.timeit(lambda: _np_chain_fwd_bwd(a_np), **kw))
    for name, lib in impls.items():
        a, _, a_nog, _ = leaves[name]
        ctx.record("chain20 fwd", name, ctx.timeit(lambda: _chain(a_nog, name), **kw))

        def fb(a=a, name=name):
            a.grad = None
            _chain(a, name).sum().backward()
        ctx.record("chain20 fwd+bwd", name, ctx.timeit(fb, **kw))
    ctx.note("tiny tensors are 4x4 float32; 'fwd' = inputs without requires_grad, 'fwd+graph' = inputs "
             "requiring grad (graph recorded), 'fwd+bwd' = forward then backward(ones); the numpy column is "
             "the array math alone (for fwd+bwd the hand-written gradient formulas), i.e. zero framework overhead. "
             "chain20 = 4 x (mul, add, tanh, exp, sub), then sum().backward().")
