"""Deliberately wrong student files: the grader must fail them and say WHAT is wrong and WHERE.

Each mutation edits one line of a reference solution (the test fails if that line changes, so the
table stays honest) and names the check that must fail and words its message must contain: the
function and value, the element index, expected vs got, and (where the bug has a shape) the pattern.
"""
import re

import pytest

from tinygrad_dnn import exercises as E

# (exercise, id, old, new, failing check title contains, message contains)
MUTATIONS = [
    (1, "no-tanh-derivative", "delta1 = (delta2 @ W2) * (1.0 - H ** 2)", "delta1 = delta2 @ W2",
     "gradient of W1", ['mlp_backward(...)["W1"]', "Worst at index ["]),
    (1, "missing-factor-2", "(2.0 / B)", "(1.0 / B)",
     "gradient of W2", ["got = 0.5 x expected everywhere"]),
    (2, "naive-sigmoid-overflows", "e = np.exp(-np.abs(x))\n        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return 1.0 / (1.0 + np.exp(-x))", "stable at |x| = 1000", ["overflow", "in Sigmoid.forward at", "np.exp(-x)"]),
    (2, "backward-missing-1-y", "return grad * y * (1.0 - y)", "return grad * y",
     "x.grad matches autograd", ["x.grad after Sigmoid.apply(x).backward", "Worst at index ["]),
    (2, "backward-in-numpy", "return grad * y * (1.0 - y)",
     "return grad * y.detach() * (1.0 - y.detach())", "second-order", ["gradgradcheck", "Tensor"]),
    (3, "softmax-without-max-shift", "e = np.exp(z - z.max(axis=1, keepdims=True))", "e = np.exp(z)",
     "stable for logits of +-1000", ["in softmax at", "np.exp(z)"]),
    (3, "ignores-upstream-grad", "return grad * tg.tensor(d / n), None", "return tg.tensor(d / n), None",
     "logits.grad matches autograd", ["got = 0.4 x expected everywhere"]),
    (4, "biased-running-var", "momentum * var * n / (n - 1)", "momentum * var",
     "running_var updated", ["running_var after one training step", "Worst at index [", "UNBIASED"]),
    (4, "backward-without-mean-terms", "(n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))",
     "(n * dx_hat)", "dx matches autograd", ["batchnorm_backward(dout, cache)[0] (dx)", "expected", "got"]),
    (4, "eval-uses-batch-stats", "if not training:", "if False:",
     "eval", ["batchnorm_forward(training=False)[0] (out)", "Worst at index ["]),
    (5, "no-rescale", "mask = (u < 1 - p) / (1 - p)", "mask = (u < 1 - p) * 1.0",
     "scales by 1/(1-p)", ["got = 0.7 x expected everywhere", "Worst at index ["]),
    (5, "p-as-keep-probability", "mask = (u < 1 - p) / (1 - p)", "mask = (u < p) / p",
     "keeps u < 1-p", ["Worst at index [", "DROP probability"]),
    (6, "col2im-overwrites", "+= cols[:, :, i, j]", "= cols[:, :, i, j]",
     "col2im", ["col2im(cols, x.shape, 3, 3, stride=1, padding=1)", "Worst at index ["]),
    (6, "im2col-ignores-stride", "cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]",
     "cols[:, :, i, j] = xp[:, :, i:i + oh, j:j + ow]", "im2col (stride 2", ["im2col(x, 3, 3, stride=2, padding=1)"]),
    (7, "overwrites-overlaps", "+= dout[:, :, i, j]", "= dout[:, :, i, j]",
     "overlapping windows", ["kernel_size=3, stride=1", "Worst at index [", "ADD"]),
    (8, "adam-no-bias-correction", 'm_hat = state["exp_avg"] / (1 - b1 ** t)\n    v_hat = state["exp_avg_sq"] / (1 - b2 ** t)',
     'm_hat = state["exp_avg"]\n    v_hat = state["exp_avg_sq"]', "Adam defaults",
     ["param after step 1 of adam_step", "got = 3.16228 x expected everywhere"]),
    (8, "adam-eps-inside-sqrt", "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)",
     "eps 1e-3", ["param after step 1 of adam_step", "eps OUTSIDE"]),
    (8, "adamw-as-l2", "param *= 1 - lr * weight_decay\n    adam_step(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0)",
     "adam_step(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)",
     "AdamW", ["adamw_step", "WITHOUT"]),
    (8, "slide-momentum-lr-inside", "param -= lr * g",
     "param -= (lr if not momentum else 0.1) * g", "lr changes", ["param after step 3 of sgd_step"]),
    (8, "nesterov-ignored", "g = g + momentum * b if nesterov else b", "g = b",
     "Nesterov", ["param after step 1 of sgd_step", "the update (param change) of step 1"]),
    (9, "cosine-from-step-zero", "progress = (step - warmup_steps) / (total_steps - warmup_steps)",
     "progress = step / total_steps", "steps 0..20", ["warmup_cosine_lr(t,", "index = step t", "Worst at index ["]),
    (9, "rises-after-total", "    if step >= total_steps:\n        return float(min_lr)\n", "",
     "after total_steps", ["for t in 21..29", "expected 0.001"]),
    (10, "one-sided-difference", "grad[idx] = (fp - fm) / (2 * eps)", "grad[idx] = (fp - f(x)) / eps",
     "exact gradient", ["numerical_gradient(f, x)", "Worst at index [", "one-sided"]),
    (10, "x-not-restored", "        x[idx] = old\n        grad[idx]", "        grad[idx]",
     "leaves x unchanged", ["x after numerical_gradient(f, x)", "Worst at index ["]),
]


@pytest.mark.parametrize("n, old, new, title, words", [pytest.param(*m[:1], *m[2:], id=f"ex{m[0]:02d}-{m[1]}")
                                                       for m in MUTATIONS])
def test_wrong_student_file_fails_naming_what_and_where(tmp_path, n, old, new, title, words):
    e = E.get(n)
    text = (E.SOLUTIONS_DIR / e.filename).read_text()
    assert old in text, "the mutation no longer matches the reference solution; update the table"
    (tmp_path / e.filename).write_text(text.replace(old, new))
    r = E.grade(n, dir=tmp_path)
    assert not r.passed
    failed = [c for c in r.checks if not c.passed]
    hit = [c for c in failed if title in c.title]
    assert hit, f"expected a failing check with {title!r} in its title:\n{r.report()}"
    msg = hit[0].message
    for w in words:
        assert w in msg, f"{w!r} missing from:\n{msg}"
    assert msg and msg.strip().lower() != "failed"
    if "Worst at index [" in msg:  # an element-level report: expected, got and the relative error
        assert re.search(r"expected -?[\d.e+-]+, got -?[\d.e+-]+ \(abs error [\d.e+-]+, rel error [\d.e+-]+\)", msg)


def test_every_exercise_has_a_mutation():
    assert {m[0] for m in MUTATIONS} == {e.number for e in E.EXERCISES}

