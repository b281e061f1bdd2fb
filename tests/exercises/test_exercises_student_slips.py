"""What real students write: slips the grader must name clearly, and correct answers written
differently from the reference that it must accept.

Each case edits a reference solution (the test fails if the edited text is gone, so the table stays
honest). Wrong answers: the check whose title contains ``title`` fails, and its message contains the
``words`` (what is wrong and where), never a traceback from the grader's or autograd's internals.
"""
import numpy as np
import pytest

from tinygrad_dnn import exercises as E
from tinygrad_dnn.exercises.grader import CheckFailed, compare

_SIG = "e = np.exp(-np.abs(x))\n        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"
_SGD_MOMENTUM = '''        if "momentum_buffer" not in state:
            b = g.copy()
        else:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    param -= lr * g'''
_SUTSKEVER = '''        if nesterov:  # the slides' / CS231n form: lr inside the velocity
            v_prev = state.get("v", np.zeros_like(param))
            v = momentum * v_prev - lr * g
            state["v"] = v
            param += -momentum * v_prev + (1 + momentum) * v
            return
        if "momentum_buffer" not in state:
            b = g.copy()
        else:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = b
        g = b
    param -= lr * g'''

# (exercise, id, [(old, new), ...], failing check title contains, message contains)
WRONG = [
    (2, "backward-returns-numpy", [("return grad * y * (1.0 - y)", "return grad.numpy() * y.numpy() * (1.0 - y.numpy())")],
     "x.grad matches", ["Sigmoid.backward returned a ndarray where a Tensor", "tinygrad_dnn.tensor(array)"]),
    (2, "forward-float32", [(_SIG, _SIG + ".astype(np.float32)")], "values match", ["returned float32", "float64"]),
    (2, "backward-sums-to-a-scalar", [("return grad * y * (1.0 - y)", "return (grad * y * (1.0 - y)).sum()")],
     "x.grad matches", ["Sigmoid.backward returned a gradient of shape () for input #1 of shape (3, 4)"]),
    (3, "backward-transposes", [("return grad * tg.tensor(d / n), None", "return grad * tg.tensor(d.T / n), None")],
     "logits.grad matches", ["returned a gradient of shape (4, 5) for input #1 of shape (5, 4)"]),
    (3, "forward-returns-python-float", [("return np.asarray(np.mean(", "return float(np.mean(")],
     "loss matches", ["SoftmaxCrossEntropy.forward returned a float", "np.asarray"]),
    (3, "softmax-shifts-its-input-in-place", [("e = np.exp(z - z.max(axis=1, keepdims=True))",
                                               "z -= z.max(axis=1, keepdims=True)\n    e = np.exp(z)")],
     "softmax: values", ["softmax modified its input `z` in place", "first change at index [0, 0]"]),
    (4, "backward-forgets-1/N", [("dx = inv_std / n * (", "dx = inv_std * (")], "dx matches",
     ["got = 6 x expected everywhere", "Worst at index ["]),
    (4, "eval-normalizes-with-biased-running-var",
     [("np.sqrt(running_var + eps)", "np.sqrt(running_var * (x.shape[0] - 1) / x.shape[0] + eps)")],
     "(eval)", ["batchnorm_forward(training=False)[0] (out)", "Worst at index ["]),
    (4, "running-mean-rebound-not-in-place", [("running_mean[...] = ", "running_mean = ")],
     "running_mean updated", ["running_mean is unchanged", "running_mean[...] ="]),
    (4, "forward-subtracts-mean-in-place", [("    x_hat = (x - mu) * inv_std\n", "    x -= mu\n    x_hat = x * inv_std\n")],
     "output matches", ["batchnorm_forward modified its input `x` in place"]),
    (5, "scales-by-p", [("mask = (u < 1 - p) / (1 - p)", "mask = (u < 1 - p) * p")], "scales by 1/(1-p)",
     ["got = 0.21 x expected everywhere"]),
    (5, "multiplies-x-in-place", [("    return x * mask, mask", "    x *= mask\n    return x, mask")], "keeps u < 1-p",
     ["dropout_forward modified its input `x` in place", "out = x * mask"]),
    (5, "keeps-u-above-p", [("mask = (u < 1 - p) / (1 - p)", "mask = (u >= p) / (1 - p)")], "keeps u < 1-p",
     ["Worst at index [", "keep where u < 1 - p"]),
    (6, "output-size-with-one-padding", [("oh = (h + 2 * padding - kh) // stride + 1\n    ow = (w + 2 * padding - kw) // stride + 1\n    xp",
                                          "oh = (h + padding - kh) // stride + 1\n    ow = (w + padding - kw) // stride + 1\n    xp")],
     "im2col (stride 2, padding 1)", ["wrong shape: expected (2, 27, 9), got (2, 27, 6)"]),
    (6, "np-pad-pads-every-axis", [("xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
                                    "xp = np.pad(x, padding)")],
     "im2col (stride 2, padding 1)", ["in im2col at", "np.pad(x, padding) pads N and C too"]),
    (8, "adam-t-from-0", [('state["step"] += 1\n    t = state["step"]', 't = state["step"]\n    state["step"] += 1')],
     "Adam defaults", ["divide by zero", "in adam_step at", "(1 - b1 ** t)", "hint: t starts at 1"]),
    (8, "adamw-decays-after-the-step",
     [("param *= 1 - lr * weight_decay\n    adam_step(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0)",
       "adam_step(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0)\n    param *= 1 - lr * weight_decay")],
     "AdamW", ["param after step 1 of adamw_step", "theta *= 1 - lr*lambda, then"]),
    (8, "nesterov-sutskever-form", [(_SGD_MOMENTUM, _SUTSKEVER)], "Nesterov",
     ["param after step 3 of sgd_step", "lr inside the buffer"]),
    (8, "param-rebound-not-in-place", [("param -= lr * g", "param = param - lr * g")], "SGD, no momentum",
     ["param did not change at step 1", "IN PLACE"]),
    (8, "float32-update", [("param -= lr * g", "param -= (lr * g).astype(np.float32)")], "SGD, no momentum",
     ["float32 rounding", "param after step 1"]),
    (9, "warmup-off-by-one", [("* step / warmup_steps)", "* (step + 1) / warmup_steps)")], "steps 0..20",
     ["Worst at index [0]: expected 0.01, got 0.028"]),
    (10, "worst-index-flat", [("    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))",
                               "    worst = int(np.argmax(rel))")], "names the wrong entry",
     ["worst_index must be the tuple index", "got 6"]),
]

# (exercise, id, [(old, new), ...]): correct, written differently; must pass
CORRECT = [
    (2, "tanh-form", [(_SIG, "return 0.5 * (1.0 + np.tanh(0.5 * x))")]),
    (3, "forward-returns-np-float64", [("return np.asarray(np.mean(", "return (np.mean(")]),
    (4, "backward-by-the-long-chain", [("    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))",
                                        ("    xmu = x_hat / inv_std\n"
                                        "    dvar = (dx_hat * xmu).sum(axis=0) * -0.5 * inv_std ** 3\n"
                                        "    dmu = (-dx_hat * inv_std).sum(axis=0) + dvar * (-2 * xmu).mean(axis=0)\n"
                                        "    dx = dx_hat * inv_std + dvar * 2 * xmu / n + dmu / n"))]),
    (6, "im2col-sliding-window-view", [("""    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    return cols.reshape(n, c * kh * kw, oh * ow)""", """    v = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    return v.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)""")]),
    (7, "four-loops", [("""    nn_, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            a, b = np.unravel_index(window.reshape(n, c, -1).argmax(axis=2), (k, k))
            dx[nn_, cc, i * stride + a, j * stride + b] += dout[:, :, i, j]""", """    for a in range(n):
        for b in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = x[a, b, i * stride:i * stride + k, j * stride:j * stride + k]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    dx[a, b, i * stride + r, j * stride + q] += dout[a, b, i, j]""")]),
    (8, "adam-in-pytorchs-step-size-form", [("""    m_hat = state["exp_avg"] / (1 - b1 ** t)
    v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)""", """    step_size = lr / (1 - b1 ** t)
    denom = np.sqrt(state["exp_avg_sq"]) / np.sqrt(1 - b2 ** t) + eps
    param -= step_size * state["exp_avg"] / denom""")]),
    (9, "warmup-reordered", [("return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)",
                              "return base_lr * start_factor + (base_lr - base_lr * start_factor) / warmup_steps * step")]),
    (10, "restores-x-by-arithmetic", [("""        x[idx] = old + eps
        fp = f(x)
        x[idx] = old - eps
        fm = f(x)
        x[idx] = old
""", """        x[idx] += eps
        fp = f(x)
        x[idx] -= 2 * eps
        fm = f(x)
        x[idx] += eps
""")]),
    (10, "nditer", [("""    for j in range(x.size):
        idx = np.unravel_index(j, x.shape)
        old = x[idx]""", """    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx].copy()""")]),
]


def _grade(tmp_path, n, edits):
    e = E.get(n)
    text = (E.SOLUTIONS_DIR / e.filename).read_text()
    for old, new in edits:
        assert old in text, f"the edit no longer matches the reference solution: {old!r}"
        text = text.replace(old, new)
    (tmp_path / e.filename).write_text(text)
    return E.grade(n, dir=tmp_path)


@pytest.mark.parametrize("n, edits, title, words", [pytest.param(*w[:1], *w[2:], id=f"ex{w[0]:02d}-{w[1]}")
                                                    for w in WRONG])
def test_student_slip_fails_saying_what_and_where(tmp_path, n, edits, title, words):
    r = _grade(tmp_path, n, edits)
    assert not r.passed
    hit = [c for c in r.checks if not c.passed and title in c.title]
    assert hit, f"expected a failing check with {title!r} in its title:\n{r.report()}"
    msg = hit[0].message
    for w in words:
        assert w in msg, f"{w!r} missing from:\n{msg}"
    assert "raised outside your file" not in r.report(), r.report()


@pytest.mark.parametrize("n, edits", [pytest.param(c[0], c[2], id=f"ex{c[0]:02d}-{c[1]}") for c in CORRECT])
def test_correct_answer_written_differently_passes(tmp_path, n, edits):
    r = _grade(tmp_path, n, edits)
    assert r.passed, r.report()


def test_one_cause_failing_several_checks_is_explained_once(tmp_path):
    r = _grade(tmp_path, 6, [("return cols.reshape(n, c * kh * kw, oh * ow)",
                              "return cols.reshape(n, c * kh * kw, oh * ow).transpose(0, 2, 1)")])
    errors = [c for c in r.checks if c.status == "error"]
    assert len(errors) >= 4
    assert "in conv2d_forward at" in errors[0].message
    assert errors[1].message.startswith('the same error as in "conv2d_forward (stride 1, padding 0)')


def test_float32_result_is_named():
    exp = np.linspace(0.1, 1.0, 7)
    with pytest.raises(CheckFailed, match="dtype float32"):
        compare("f(x)", exp, (exp * (1 + 3e-7)).astype(np.float32))


def test_grading_from_inside_the_student_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(E.ENV_VAR, raising=False)
    E.init(tmp_path)
    monkeypatch.chdir(tmp_path)  # the student `cd`s into the folder `init` made
    assert E.resolve_dir()[0] == tmp_path.resolve()


def test_exit_in_a_student_file_does_not_end_the_grading_run(tmp_path):
    # exit() ended the grader with status 0 (as if every check had passed) and no report
    r = _grade(tmp_path, 9, [("import math\n", "import math\nexit()\n")])
    assert not r.passed and "calls exit() when imported" in r.load_error and ":" in r.load_error
    r = _grade(tmp_path, 5, [("    return dout * mask", "    import sys\n    sys.exit(0)")])
    bad = [c for c in r.checks if not c.passed]
    assert [c.title for c in bad] == ["dropout_backward: dx = dout * mask"]
    assert "sys.exit(0)" in bad[0].message and "ends the grader itself" in bad[0].message


def test_np_where_overflow_is_explained(tmp_path):
    r = _grade(tmp_path, 2, [(_SIG, "return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))")])
    c = next(c for c in r.checks if "stable" in c.title)
    assert not c.passed and "computes BOTH a and b" in c.message and "in Sigmoid.forward at" in c.message


def test_close_numbers_are_printed_with_the_digits_where_they_differ():
    with pytest.raises(CheckFailed) as e:
        compare("x", np.array([1.934002564]), np.array([1.934002564 + 4.4e-16]), rtol=0, atol=0)
    msg = str(e.value)
    assert "expected 1.934002564, got 1.934002564 " not in msg and "float32" not in msg


def test_a_renamed_parameter_is_named_not_blamed_on_the_grader(tmp_path):
    r = _grade(tmp_path, 5, [("def dropout_forward(x, p, training, rng):", "def dropout_forward(x, p, training):"),
                             ("u = rng.random(x.shape)", "u = np.random.random(x.shape)")])
    msg = r.checks[0].message
    assert "dropout_forward(x, p, training) cannot be called as dropout_forward(ndarray, float, bool, Generator)" in msg
    assert "raised outside your file" not in r.report()
