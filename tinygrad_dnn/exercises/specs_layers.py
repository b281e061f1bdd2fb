"""Checks of exercises 4-7: BatchNorm, dropout, conv2d by im2col, max-pool backward.

Expected values come from tinygrad_dnn's layers and autograd (``F.batch_norm``, ``F.dropout``,
``F.unfold``/``F.fold``, ``F.conv2d``, ``F.max_pool2d``). float64; tolerances as in specs_backprop
(a correct solution agrees to ~1e-14 relative).
"""
from __future__ import annotations

import numpy as np

import tinygrad_dnn as tg
import tinygrad_dnn.nn.functional as F


def _t(a, grad=False):
    return tg.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------- exercise 4
def check_ex04(g):
    r = np.random.default_rng(40)
    n, d = 6, 3
    x = r.standard_normal((n, d)) * 2 + 1
    gamma, beta = r.uniform(0.5, 1.5, d), r.standard_normal(d)
    rm0, rv0 = r.standard_normal(d), r.uniform(0.5, 2, d)
    mom, eps = 0.1, 1e-5

    def lib(training):
        rm, rv = _t(rm0), _t(rv0)
        out = F.batch_norm(_t(x), rm, rv, _t(gamma), _t(beta), training=training, momentum=mom, eps=eps)
        return out.numpy(), rm.numpy(), rv.numpy()

    def student(training):
        rm, rv = rm0.copy(), rv0.copy()
        res = g.returns(g.call("batchnorm_forward", x.copy(), gamma, beta, rm, rv, training, mom, eps,
                                   mutable=(3, 4)), 2,
                        "batchnorm_forward", "(out, cache)")
        return res[0], rm, rv, res[1]

    exp_tr, exp_rm, exp_rv = lib(True)
    with g.check("batchnorm_forward (training): output matches F.batch_norm"):
        g.close("batchnorm_forward(training=True)[0] (out)", exp_tr, student(True)[0],
                hint="normalize with the batch mean and the BIASED batch variance (divide by N), then gamma*x_hat+beta")
    def unchanged(name, before, after):
        g.require(not np.array_equal(before, after), f"{name} is unchanged after a training-mode call: update it IN "
                  f"PLACE with `{name}[...] = ...` (`{name} = ...` only rebinds the local name; the caller's array, "
                  "like nn.BatchNorm1d's buffer, never sees the new value)")

    with g.check("batchnorm_forward (training): running_mean updated in place"):
        rm = student(True)[1]
        unchanged("running_mean", rm0, rm)
        g.close("running_mean after one training step", exp_rm, rm,
                hint="running_mean[...] = (1 - momentum) * running_mean + momentum * batch_mean (in place)")
    with g.check("batchnorm_forward (training): running_var updated in place (unbiased)"):
        rv = student(True)[2]
        unchanged("running_var", rv0, rv)
        g.close("running_var after one training step", exp_rv, rv,
                hint="running_var[...] = (1 - momentum) * running_var + momentum * var * N/(N-1): the UNBIASED "
                     "variance goes into the running statistic (PyTorch), the biased one normalizes")
    exp_ev = lib(False)[0]
    with g.check("batchnorm_forward (eval): uses the running statistics"):
        out, rm, rv, _ = student(False)
        g.close("batchnorm_forward(training=False)[0] (out)", exp_ev, out,
                hint="eval: (x - running_mean) / sqrt(running_var + eps) * gamma + beta; no batch statistics")
        g.close("running_mean after an eval call (must not change)", rm0, rm, rtol=0, atol=0)
        g.close("running_var after an eval call (must not change)", rv0, rv, rtol=0, atol=0)
    dout = r.standard_normal((n, d))
    xs, gs, bs = _t(x, True), _t(gamma, True), _t(beta, True)
    (F.batch_norm(xs, None, None, gs, bs, training=True, eps=eps) * _t(dout)).sum().backward()
    hints = {"dx": "dx = inv_std/N * (N dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)), dx_hat = dout*gamma: "
                   "the batch mean and variance depend on x too",
             "dgamma": "dgamma = sum over the batch of dout * x_hat", "dbeta": "dbeta = sum over the batch of dout"}
    for i, (name, lib_grad) in enumerate((("dx", xs.grad), ("dgamma", gs.grad), ("dbeta", bs.grad))):
        with g.check(f"batchnorm_backward: {name} matches autograd"):
            cache = student(True)[3]
            res = g.returns(g.call("batchnorm_backward", dout, cache), 3, "batchnorm_backward",
                            "(dx, dgamma, dbeta)")
            g.close(f"batchnorm_backward(dout, cache)[{i}] ({name})", lib_grad.numpy(), res[i], hint=hints[name])


# ---------------------------------------------------------------- exercise 5
def check_ex05(g):
    x = np.random.default_rng(50).standard_normal((4, 5)) + 0.1
    p = 0.3
    with g.check("dropout_forward (eval): returns x unchanged"):
        out, mask = g.returns(g.call("dropout_forward", x, p, False, np.random.default_rng(0)), 2,
                              "dropout_forward", "(out, mask)")
        g.close("dropout_forward(x, p=0.3, training=False)[0] (out)", x, out, rtol=0, atol=0,
                hint="inverted dropout changes nothing at test time")
    with g.check("dropout_forward (training): keeps u < 1-p and scales by 1/(1-p)"):
        u = np.random.default_rng(7).random(x.shape)
        expected = x * (u < 1 - p) / (1 - p)
        out, mask = g.returns(g.call("dropout_forward", x, p, True, np.random.default_rng(7)), 2,
                              "dropout_forward", "(out, mask)")
        g.close("dropout_forward(x, p=0.3, training=True, rng=default_rng(7))[0] (out)", expected, out,
                hint="u = rng.random(x.shape) (one draw); keep where u < 1 - p (the grader replays this draw, so "
                     "u >= p, also a dropout, gives another mask); p is the DROP probability; kept units are "
                     "x / (1 - p)")
    with g.check("dropout_forward (training): statistics match nn.Dropout(p) on 100000 units"):
        big = np.ones(100_000)
        out, _ = g.returns(g.call("dropout_forward", big, p, True, np.random.default_rng(8)), 2,
                           "dropout_forward", "(out, mask)")
        out = np.asarray(out, dtype=np.float64)
        tg.manual_seed(0)
        ref = F.dropout(_t(big), p=p, training=True).numpy()
        frac, ref_frac = float(np.mean(out == 0)), float(np.mean(ref == 0))
        # binomial std of the fraction: sqrt(0.3*0.7/1e5) = 0.0014; 0.01 is 7 std
        g.require(abs(frac - ref_frac) < 0.01, f"fraction of dropped units: nn.Dropout(p=0.3) drops {ref_frac:.4f}, "
                                               f"yours {frac:.4f}\nhint: p is the probability of DROPPING a unit")
        kept = np.unique(np.round(out[out != 0], 12))
        g.close("value of a kept unit of ones (nn.Dropout gives 1/(1-p))", [np.unique(ref[ref != 0])[0]], kept[:1],
                rtol=1e-12, hint="scale the kept units by 1/(1-p), not by p or 1-p")
        g.close("mean of the output (E[out] = x)", 1.0, out.mean(), rtol=0, atol=0.02)
    with g.check("dropout_forward: p = 0 is the identity and p = 1 gives zeros (no nan)"):
        out0, _ = g.returns(g.call("dropout_forward", x, 0.0, True, np.random.default_rng(1)), 2,
                            "dropout_forward", "(out, mask)")
        g.close("dropout_forward(x, p=0, training=True)[0]", x, out0, rtol=0, atol=0)
        out1, _ = g.returns(g.call("dropout_forward", x, 1.0, True, np.random.default_rng(1)), 2,
                            "dropout_forward", "(out, mask)")
        g.close("dropout_forward(x, p=1, training=True)[0]", np.zeros_like(x), out1, rtol=0, atol=0,
                hint="p = 1 drops everything: return zeros without dividing by 1 - p = 0")
    with g.check("dropout_backward: dx = dout * mask"):
        _, mask = g.returns(g.call("dropout_forward", x, p, True, np.random.default_rng(9)), 2,
                            "dropout_forward", "(out, mask)")
        u = np.random.default_rng(9).random(x.shape)
        dout = np.random.default_rng(10).standard_normal(x.shape)
        g.close("dropout_backward(dout, mask)", dout * (u < 1 - p) / (1 - p), g.call("dropout_backward", dout, mask),
                hint="the mask (with its 1/(1-p) scale) multiplies the gradient as it multiplied x")


# ---------------------------------------------------------------- exercise 6
def check_ex06(g):
    r = np.random.default_rng(60)
    x = r.standard_normal((2, 3, 5, 6))
    w, b = r.standard_normal((4, 3, 3, 3)), r.standard_normal(4)
    shapes = ("OH = (H + 2*padding - kh) // stride + 1 (OW alike); pad only H and W: np.pad(x, ((0, 0), (0, 0), "
              "(padding, padding), (padding, padding))) (np.pad(x, padding) pads N and C too)")
    for stride, pad in ((1, 0), (2, 1)):
        with g.check(f"im2col (stride {stride}, padding {pad}): matches F.unfold", hint=shapes):
            g.close(f"im2col(x, 3, 3, stride={stride}, padding={pad})",
                    F.unfold(_t(x), 3, padding=pad, stride=stride).numpy(), g.call("im2col", x, 3, 3, stride, pad),
                    hint="cols[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh*stride + i, ow*stride + j]; " + shapes)
    with g.check("col2im (stride 1, padding 1): matches F.fold (the adjoint, overlaps summed)"):
        cols = r.standard_normal((2, 27, 30))
        g.close("col2im(cols, x.shape, 3, 3, stride=1, padding=1)",
                F.fold(_t(cols), (5, 6), 3, padding=1, stride=1).numpy(),
                g.call("col2im", cols, x.shape, 3, 3, 1, 1),
                hint="+= every column entry into its pixel (windows overlap), then cut the padding off")
    for stride, pad in ((1, 0), (2, 1)):
        xs, ws, bs = _t(x, True), _t(w, True), _t(b, True)
        ref = F.conv2d(xs, ws, bs, stride=stride, padding=pad)
        dout = r.standard_normal(tuple(ref.shape))
        (ref * _t(dout)).sum().backward()
        with g.check(f"conv2d_forward (stride {stride}, padding {pad}): matches F.conv2d", hint=shapes):
            out = g.returns(g.call("conv2d_forward", x, w, b, stride, pad), 2, "conv2d_forward", "(out, cache)")
            g.close(f"conv2d_forward(x, w, b, stride={stride}, padding={pad})[0]", ref.detach().numpy(), out[0],
                    hint="out[n] = w.reshape(F, -1) @ im2col(x)[n], reshaped to (F, OH, OW), plus b[:, None, None]")
        hints = {"dx": "dx = col2im(w.reshape(F, -1).T @ dout.reshape(N, F, -1))",
                 "dw": "dw = sum over n of dout[n].reshape(F, -1) @ cols[n].T, reshaped to w.shape",
                 "db": "db = dout.sum(axis=(0, 2, 3))"}
        for i, (name, lib_grad) in enumerate((("dx", xs.grad), ("dw", ws.grad), ("db", bs.grad))):
            with g.check(f"conv2d_backward (stride {stride}, padding {pad}): {name} matches autograd"):
                _, cache = g.returns(g.call("conv2d_forward", x, w, b, stride, pad), 2, "conv2d_forward",
                                     "(out, cache)")
                res = g.returns(g.call("conv2d_backward", dout, cache), 3, "conv2d_backward", "(dx, dw, db)")
                g.close(f"conv2d_backward(dout, cache)[{i}] ({name}), stride={stride}, padding={pad}",
                        lib_grad.numpy(), res[i], hint=hints[name])


# ---------------------------------------------------------------- exercise 7
def check_ex07(g):
    r = np.random.default_rng(70)
    x = r.standard_normal((2, 3, 6, 6))  # continuous values: no ties
    for k, s, label in ((2, 2, "non-overlapping windows"), (3, 1, "overlapping windows, stride < kernel")):
        xs = _t(x, True)
        ref = F.max_pool2d(xs, k, s)
        dout = r.standard_normal(tuple(ref.shape))
        (ref * _t(dout)).sum().backward()
        with g.check(f"maxpool_backward, kernel {k}, stride {s} ({label}): dx matches autograd"):
            out = g.returns(g.call("maxpool_forward", x, k, s), 2, "maxpool_forward", "(out, cache)")
            g.close(f"maxpool_backward(dout, cache) for kernel_size={k}, stride={s}", xs.grad.numpy(),
                    g.call("maxpool_backward", dout, out[1]),
                    hint="each dout[n, c, i, j] goes to the arg-max of its window; overlapping windows ADD (+=)")
