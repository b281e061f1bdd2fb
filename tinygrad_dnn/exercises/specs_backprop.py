"""Checks of exercises 1, 2, 3 and 10: backprop by hand, Functions, the gradient checker.

Expected values come from tinygrad_dnn's own implementations (autograd, ``F.*``,
``tinygrad_dnn.gradcheck``); those are tested against PyTorch in the library's test suite.
Tolerances: float64 throughout; a correct solution agrees with the library to ~1e-15 relative
(measured on the reference solutions), so rtol 1e-7 leaves room for any order of summation while a
wrong formula is off by far more.
"""
from __future__ import annotations

import numpy as np

import tinygrad_dnn as tg
import tinygrad_dnn.nn.functional as F
from tinygrad_dnn.gradcheck import (
    GradcheckError,
    check_gradients,
    gradgradcheck,
    numerical_grad,
    rel_error,
)

from .grader import CheckFailed


def _rng(seed):
    return np.random.default_rng(seed)


def _t(a, grad=False):
    return tg.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _function(g, name):
    """``apply`` of the student's Function ``name``, checked: forward must return an array and leave its
    inputs alone, backward must return Tensors; a slip fails with a sentence, not a traceback from autograd."""
    cls = g.fn(name)
    fwd, bwd = cls.forward, cls.backward

    def forward(ctx, *args):
        before = [a.numpy().copy() if isinstance(a, tg.Tensor) else None for a in args]
        out = fwd(ctx, *args)
        for i, (a, b) in enumerate(zip(args, before)):
            if b is not None and not np.array_equal(a.numpy(), b, equal_nan=True):
                raise CheckFailed(f"{name}.forward modified its input #{i + 1} in place: x.numpy() shares memory "
                                  "with the Tensor, so `z -= m` or `z[...] = ...` changes the caller's data. Write "
                                  "`z = z - m` (a new array)")
        if isinstance(out, (float, int)) and not isinstance(out, np.generic):  # np.float64 is a float too
            raise CheckFailed(f"{name}.forward returned a {type(out).__name__} ({out!r}): return a NumPy array "
                              "(a 0-d one for a scalar: np.asarray(value)), as the docstring says")
        if not isinstance(out, (np.ndarray, np.generic, tg.Tensor)):
            raise CheckFailed(f"{name}.forward returned a {type(out).__name__}: return a NumPy array")
        dt = str(getattr(out.dtype, "name", out.dtype))
        if any(d in dt for d in ("float16", "float32")):
            raise CheckFailed(f"{name}.forward returned {dt} for float64 inputs: keep float64 (as torch does; no "
                              "np.float32 / astype): the checks need float64 precision")
        return out

    def backward(ctx, grad):
        res = bwd(ctx, grad)
        for r in (res if isinstance(res, tuple) else (res,)):
            if r is not None and not isinstance(r, tg.Tensor):
                raise CheckFailed(f"{name}.backward returned a {type(r).__name__} where a Tensor (or None) is "
                                  "expected: build the gradient from Tensor ops on grad (grad * ...), or wrap an "
                                  "array with tinygrad_dnn.tensor(array) and multiply it by grad")
        shapes = getattr(ctx, "in_shapes", None) or ()
        for i, (r, shape) in enumerate(zip(res if isinstance(res, tuple) else (res,), shapes)):
            if r is not None and shape is not None and tuple(r.shape) != tuple(shape):
                raise CheckFailed(f"{name}.backward returned a gradient of shape {tuple(r.shape)} for input #{i + 1} "
                                  f"of shape {tuple(shape)}: the gradient with respect to an input has that input's "
                                  "shape (elementwise products, no sum over entries and no transpose)")
        return res

    checked = type(cls.__name__, (cls,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})
    return checked.apply


def _gradcheck(g, fn, inputs, what, hint):
    """gradcheck ``fn`` and turn the worst mismatch into a CheckFailed naming the element."""
    report = check_gradients(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)
    if report.passed:
        return
    eps, seed, shapes_in, shapes_out = report._context
    raise CheckFailed(f"{what}: gradient check failed on {len(report.failures)} of {report.n_checks} entries. Worst: "
                      f"{report.worst.describe(eps, seed, shapes_in, shapes_out)} (analytic = your backward, "
                      f"numeric = central differences of your forward)\nhint: {hint}")


# ---------------------------------------------------------------- exercise 1
def check_ex01(g):
    r = _rng(1)
    B, d, m, k = 5, 4, 6, 3
    X, Y = r.standard_normal((B, d)), r.standard_normal((B, k))
    W1, b1 = r.standard_normal((m, d)) * 0.7, r.standard_normal(m) * 0.3
    W2, b2 = r.standard_normal((k, m)) * 0.7, r.standard_normal(k) * 0.3
    params = {n: _t(v, True) for n, v in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))}
    H = (_t(X) @ params["W1"].T + params["b1"]).tanh()
    Yh = H @ params["W2"].T + params["b2"]
    loss = ((Yh - _t(Y)) ** 2).sum() / B
    loss.backward()

    with g.check("mlp_forward: Y_hat matches the library's forward"):
        out = g.returns(g.call("mlp_forward", X, W1, b1, W2, b2), 2, "mlp_forward", "(Y_hat, cache)")
        g.close("mlp_forward(...)[0] (Y_hat)", Yh.detach().numpy(), out[0],
                hint="Z1 = X @ W1.T + b1, H = tanh(Z1), Y_hat = H @ W2.T + b2")
    with g.check("mse_loss: value"):
        g.close("mse_loss(Y_hat, Y)", float(loss.item()), g.call("mse_loss", Yh.detach().numpy(), Y),
                hint="sum of squares over all entries divided by the batch size B (not by B*k)")
    hints = {"W2": "dW2 = delta2.T @ H with delta2 = (2/B)(Y_hat - Y)",
             "b2": "db2 = delta2.sum(axis=0)",
             "W1": "delta1 = (delta2 @ W2) * (1 - H**2); dW1 = delta1.T @ X",
             "b1": "db1 = delta1.sum(axis=0), with delta1 = (delta2 @ W2) * tanh'(Z1)"}
    for name in ("W2", "b2", "W1", "b1"):
        with g.check(f"mlp_backward: gradient of {name} matches autograd"):
            Yh_s, cache = g.returns(g.call("mlp_forward", X, W1, b1, W2, b2), 2, "mlp_forward", "(Y_hat, cache)")
            grads = g.call("mlp_backward", Yh_s, Y, cache)
            g.require(isinstance(grads, dict) and name in grads,
                      f"mlp_backward must return a dict with keys W1, b1, W2, b2; got {type(grads).__name__}"
                      + (f" with keys {sorted(grads)}" if isinstance(grads, dict) else ""))
            g.close(f'mlp_backward(...)["{name}"] (dL/d{name})', params[name].grad.numpy(), grads[name],
                    hint=hints[name])


# ---------------------------------------------------------------- exercise 2
def check_ex02(g):
    x = _rng(2).uniform(-5, 5, (3, 4))
    with g.check("Sigmoid.forward: values match tinygrad_dnn.sigmoid"):
        out = _function(g, "Sigmoid")(_t(x))
        g.close("Sigmoid.apply(x)", tg.sigmoid(_t(x)).numpy(), out, hint="y = 1 / (1 + exp(-x))")
    with g.check("Sigmoid.forward: stable at |x| = 1000 (no overflow)"):
        big = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])
        out = _function(g, "Sigmoid")(_t(big))
        # atol 1e-16: any stable formula passes (0.5*(1+tanh(x/2)) gives 0 for sigmoid(-50) = 1.9e-22)
        g.close("Sigmoid.apply(x) at large |x|", tg.sigmoid(_t(big)).numpy(), out, rtol=1e-12, atol=1e-16,
                hint="use e = exp(-|x|): 1/(1+e) for x >= 0, e/(1+e) for x < 0")
    with g.check("Sigmoid.backward: x.grad matches autograd of tinygrad_dnn.sigmoid"):
        up = _rng(3).standard_normal(x.shape)
        xs, xl = _t(x, True), _t(x, True)
        _function(g, "Sigmoid")(xs).backward(_t(up))
        tg.sigmoid(xl).backward(_t(up))
        g.require(xs.grad is not None, "Sigmoid.backward: x.grad is None after backward(): backward must return "
                                       "the gradient with respect to x")
        g.close("x.grad after Sigmoid.apply(x).backward(upstream)", xl.grad.numpy(), xs.grad,
                hint="dL/dx = grad * y * (1 - y), with y = ctx.output()")
    with g.check("Sigmoid: gradcheck (central differences)"):
        _gradcheck(g, _function(g, "Sigmoid"), (_t(x[:2, :3], True),), "Sigmoid",
                   "backward must return grad * y * (1 - y)")
    with g.check("Sigmoid: second-order gradcheck (backward written with Tensor ops)"):
        try:
            gradgradcheck(_function(g, "Sigmoid"), (_t(x[:1, :3], True),), atol=1e-7, rtol=1e-5)
        except GradcheckError as e:
            raise CheckFailed(f"Sigmoid: the gradient of backward is wrong. {e}\nhint: build the result from "
                              "Tensors (grad * y * (1 - y) with y = ctx.output()); NumPy arrays, .numpy() or .detach() "
                              "in backward cut the graph that create_graph=True needs") from None


# ---------------------------------------------------------------- exercise 3
def check_ex03(g):
    r = _rng(4)
    z = r.standard_normal((5, 4)) * 2
    t = np.array([0, 3, 1, 1, 2])
    tt = tg.tensor(t, dtype=tg.int64)
    with g.check("softmax: values match F.softmax(z, dim=1)"):
        g.close("softmax(z)", F.softmax(_t(z), dim=1).numpy(), g.call("softmax", z),
                hint="exp(z - max) / sum(exp(z - max)) along axis 1 (keepdims=True)")
    big = np.array([[1000.0, 999.0, 998.0, -1000.0], [-1000.0, 0.0, 1000.0, 3.0]])
    with g.check("softmax: stable for logits of +-1000"):
        g.close("softmax(z) with |z| = 1000", F.softmax(_t(big), dim=1).numpy(), g.call("softmax", big),
                hint="subtract the row maximum before exp")
    with g.check("SoftmaxCrossEntropy.forward: loss matches F.cross_entropy"):
        g.close("SoftmaxCrossEntropy.apply(z, t)", F.cross_entropy(_t(z), tt).item(),
                _function(g, "SoftmaxCrossEntropy")(_t(z), tt),
                hint="mean over the batch of logsumexp(z_i) - z_i[t_i]")
    with g.check("SoftmaxCrossEntropy.forward: stable for logits of +-1000"):
        tb = tg.tensor(np.array([2, 0]), dtype=tg.int64)
        g.close("SoftmaxCrossEntropy.apply(z, t) with |z| = 1000", F.cross_entropy(_t(big), tb).item(),
                _function(g, "SoftmaxCrossEntropy")(_t(big), tb),
                hint="log-sum-exp: M + log(sum(exp(z - M))) with M the row max; never log(softmax) of an underflow")
    with g.check("SoftmaxCrossEntropy.backward: logits.grad matches autograd (upstream gradient 2.5)"):
        zs, zl = _t(z, True), _t(z, True)
        (_function(g, "SoftmaxCrossEntropy")(zs, tt) * 2.5).backward()
        (F.cross_entropy(zl, tt) * 2.5).backward()
        g.require(zs.grad is not None, "SoftmaxCrossEntropy.backward: logits.grad is None; return (dlogits, None)")
        g.close("logits.grad after (loss * 2.5).backward()", zl.grad.numpy(), zs.grad,
                hint="(softmax(z) - onehot(t)) / N, multiplied by the upstream grad")
    with g.check("SoftmaxCrossEntropy: gradcheck with respect to the logits"):
        _gradcheck(g, lambda a: _function(g, "SoftmaxCrossEntropy")(a, tt[:3]), (_t(z[:3], True),),
                   "SoftmaxCrossEntropy", "dL/dz = (p - onehot(t)) / N times grad")


# ---------------------------------------------------------------- exercise 10
def _f10(x):
    return float(np.sum(np.sin(x) * x ** 2 + 0.5 * x ** 3))


def _df10(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x) + 1.5 * x ** 2


def check_ex10(g):
    x0 = _rng(10).uniform(0.5, 2.0, (3, 4))
    with g.check("numerical_gradient: matches the exact gradient to ~1e-9 (centered, not one-sided)"):
        x = x0.copy()
        g.close("numerical_gradient(f, x)", _df10(x0), g.call("numerical_gradient", _f10, x, mutable=(1,)), rtol=1e-7,
                atol=0,
                hint="(f(x + eps e_j) - f(x - eps e_j)) / (2 eps); a one-sided difference is only ~1e-6 accurate")
    with g.check("numerical_gradient: matches tinygrad_dnn.gradcheck.numerical_grad"):
        x = x0.copy()
        lib = numerical_grad(lambda t: (t.sin() * t ** 2 + 0.5 * t ** 3).sum(), _t(x0), eps=1e-6).numpy()
        g.close("numerical_gradient(f, x, eps=1e-6)", lib, g.call("numerical_gradient", _f10, x, 1e-6, mutable=(1,)),
                rtol=1e-6, atol=1e-9, hint="same eps, same centered formula")
    with g.check("numerical_gradient: leaves x unchanged"):
        x = x0.copy()
        g.call("numerical_gradient", _f10, x, mutable=(1,))
        # rtol 1e-15: restoring by arithmetic (x += eps; x -= 2 eps; x += eps) leaves ~1 ulp, which is harmless
        g.close("x after numerical_gradient(f, x)", x0, x, rtol=1e-15, atol=0,
                hint="restore x[idx] = old after the two evaluations")
    pairs = [(np.array([1.0, -2.0, 0.0, 3.0]), np.array([1.0001, -2.0, 0.0, 2.5])),
             (np.array([[1e-9, 5.0]]), np.array([[0.0, 5.0]]))]
    for i, (a, n) in enumerate(pairs):
        with g.check(f"relative_error: pair {i} matches tinygrad_dnn.gradcheck.rel_error"):
            g.close(f"relative_error(a, n) for pair {i}", rel_error(a, n), g.call("relative_error", a, n),
                    rtol=1e-12, atol=0, hint="max over entries of |a - n| / max(1e-8, |a| + |n|)")
    with g.check("check_gradient: accepts the right gradient"):
        res = g.returns(g.call("check_gradient", _f10, _df10(x0), x0.copy(), mutable=(2,)), 3, "check_gradient",
                        "(passed, worst_index, worst_rel_error)")
        g.require(bool(res[0]) is True, f"check_gradient(f, exact gradient, x) returned passed={res[0]!r} "
                                        f"(worst rel error {res[2]!r} at {res[1]!r}); a correct gradient must pass")
    with g.check("check_gradient: rejects a wrong gradient and names the wrong entry"):
        wrong = _df10(x0)
        wrong[1, 2] *= 1.001
        res = g.returns(g.call("check_gradient", _f10, wrong, x0.copy(), mutable=(2,)), 3, "check_gradient",
                        "(passed, worst_index, worst_rel_error)")
        g.require(bool(res[0]) is False, "check_gradient returned passed=True for a gradient whose entry [1, 2] "
                                         "is 0.1% off (relative error ~5e-4 > tol)")
        g.require(isinstance(res[1], (tuple, list, np.ndarray)) and np.ndim(res[1]) == 1 and len(res[1]) == 2,
                  f"check_gradient: worst_index must be the tuple index of the worst entry, like (1, 2) for a 3x4 "
                  f"x (np.unravel_index(np.argmax(rel), rel.shape)); got {res[1]!r}")
        g.require(tuple(int(v) for v in res[1]) == (1, 2),
                  f"check_gradient: worst_index should be (1, 2), the entry made wrong; got {res[1]!r}")
        g.close("check_gradient(...)[2] (worst relative error)", abs(wrong[1, 2] - _df10(x0)[1, 2])
                / (abs(wrong[1, 2]) + abs(_df10(x0)[1, 2])), res[2], rtol=1e-3, atol=0)
