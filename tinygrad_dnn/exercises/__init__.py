"""Graded exercises with an autograder: students write the backward passes, the grader says what is wrong.

Ten exercises follow the lecture decks (``tinygrad-dnn exercises list``). Each is one file,
``exNN_name.py``: the student skeleton (``student/``, blanks marked ``# BEGIN YOUR CODE`` ...
``# END YOUR CODE`` with a ``raise NotImplementedError("Exercise N: ...")``) and the reference solution
(``solutions/``, same API, for instructors). The grader compares the student's functions with
tinygrad_dnn's own implementations and gradient checks and names the function, value, element,
expected vs got, relative error and a hint.

From a notebook cell::

    from tinygrad_dnn import exercises
    exercises.init("my_exercises")               # copy the blank files once
    r = exercises.check(3, dir="my_exercises")   # prints the report; r.passed, r.checks

Which files are graded (``dir=None``): the folder in the environment variable
``TINYGRAD_DNN_EXERCISES``, else ``./exercises`` when it holds exercise files, else the current
folder when it does (a student who ``cd``s into the folder), else the packaged blank skeletons
(which fail until filled in). ``solutions=True`` grades the reference solutions.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .grader import (
    TIME_LIMIT_S,
    ExerciseResult,
    Grader,
    _time_limit,
    describe_load_error,
    load_module,
)

HERE = Path(__file__).resolve().parent
STUDENT_DIR = HERE / "student"
SOLUTIONS_DIR = HERE / "solutions"
ENV_VAR = "TINYGRAD_DNN_EXERCISES"


@dataclass(frozen=True)
class Exercise:
    number: int
    slug: str  # file name without .py
    title: str
    lecture: str  # where the decks teach it (see /curriculum.md)

    @property
    def filename(self):
        return self.slug + ".py"


EXERCISES = [
    Exercise(1, "ex01_mlp_backprop", "delta recursion: hand-written backward of a two-layer tanh MLP vs autograd",
             "backprop, delta recursion (deck 000)"),
    Exercise(2, "ex02_sigmoid_function", "a Function: stable sigmoid forward/backward (gradcheck, gradgradcheck)",
             "autodiff, activations"),
    Exercise(3, "ex03_softmax_cross_entropy", "softmax + cross-entropy as one stable Function",
             "losses; softmax stability erratum"),
    Exercise(4, "ex04_batchnorm", "BatchNorm forward/backward with running statistics (train/eval)",
             "normalization"),
    Exercise(5, "ex05_dropout", "inverted dropout (p = drop probability, as nn.Dropout)", "regularization"),
    Exercise(6, "ex06_conv_im2col", "conv2d by im2col: forward and backward (col2im)", "convolutions"),
    Exercise(7, "ex07_maxpool_backward", "max-pool backward (gradient to the arg-max, overlaps add)", "pooling"),
    Exercise(8, "ex08_optimizers", "optimizer steps: SGD momentum/Nesterov, Adam, AdamW (PyTorch conventions)",
             "optimization; Adam errata"),
    Exercise(9, "ex09_warmup_cosine", "learning-rate schedule: linear warmup + cosine decay", "schedules"),
    Exercise(10, "ex10_gradient_checker", "the centered-difference gradient checker itself",
             "finite differences, gradient checking"),
]


def _checker(number):
    from . import specs_backprop as b
    from . import specs_layers as la
    from . import specs_optim as o

    return {1: b.check_ex01, 2: b.check_ex02, 3: b.check_ex03, 4: la.check_ex04, 5: la.check_ex05,
            6: la.check_ex06, 7: la.check_ex07, 8: o.check_ex08, 9: o.check_ex09, 10: b.check_ex10}[number]


def get(key):
    """The :class:`Exercise` for a number (3, "3", "03") or a name ("batchnorm", "ex04_batchnorm")."""
    s = str(key).strip().lower()
    if s.isdigit():
        for e in EXERCISES:
            if e.number == int(s):
                return e
    else:
        matches = [e for e in EXERCISES if s in e.slug]
        if len(matches) == 1:
            return matches[0]
    names = ", ".join(f"{e.number} ({e.slug})" for e in EXERCISES)
    raise KeyError(f"no exercise {key!r}; choose one of {names}")


def list_exercises():
    """One line per exercise: number, file, title."""
    return [f"{e.number:2d}  {e.slug:<28} {e.title}" for e in EXERCISES]


def _has_exercises(d):
    return d.is_dir() and any(d.glob("ex[0-9][0-9]_*.py"))


def resolve_dir(dir=None, solutions=False):
    """(folder, why) of the files to grade; see the module docstring for the order."""
    if solutions:
        return SOLUTIONS_DIR, "the reference solutions (--solutions)"
    if dir is not None:
        return Path(dir).expanduser().resolve(), "the folder given"
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve(), f"${ENV_VAR}"
    local = Path.cwd() / "exercises"
    if _has_exercises(local):
        return local.resolve(), "./exercises"
    if _has_exercises(Path.cwd()) and Path.cwd().resolve() != STUDENT_DIR:
        return Path.cwd().resolve(), "the current folder"
    return STUDENT_DIR, ("the packaged blank skeletons: copy them with `tinygrad-dnn exercises init DIR`, fill in "
                         "the blanks and grade with --dir DIR (or set $" + ENV_VAR + ")")


def grade(key, dir=None, solutions=False, torch=False):
    """Grade one exercise and return its :class:`ExerciseResult` (prints nothing)."""
    ex = get(key)
    folder, _ = resolve_dir(dir, solutions)
    path = folder / ex.filename
    result = ExerciseResult(ex.number, ex.title, str(path))
    if not path.is_file():
        result.load_error = (f"{path} does not exist; `tinygrad-dnn exercises init {folder}` copies the blank "
                             "exercise files there")
        return result
    try:
        with _time_limit(TIME_LIMIT_S):  # an endless loop in the student's own test code at the bottom
            mod = load_module(str(path), ex.number)
    except BaseException as e:  # SyntaxError, ImportError, exit() (SystemExit): anything at import time
        if isinstance(e, KeyboardInterrupt):
            raise
        result.load_error = describe_load_error(e, str(path))
        return result
    g = Grader(mod, str(path), result)
    check = _checker(ex.number)
    if ex.number == 8:
        check(g, use_torch=torch)
    else:
        check(g)
    return result


def check(key="all", dir=None, solutions=False, torch=False, verbose=True):
    """Grade exercise ``key`` (a number or name; ``"all"`` for every one), print the report, return the result.

    Returns an :class:`ExerciseResult` (``.passed``, ``.checks``, ``.report()``), or a list of them for
    ``"all"``. ``torch=True`` also compares the optimizer steps with ``torch.optim`` (needs torch).
    """
    if str(key).lower() == "all":
        results = [check(e.number, dir, solutions, torch, verbose) for e in EXERCISES]
        if verbose:
            print(summary(results))
        return results
    result = grade(key, dir, solutions, torch)
    if verbose:
        print(result.report())
    return result


def summary(results):
    ok = sum(r.passed for r in results)
    lines = [f"{'PASS' if r.passed else 'FAIL'}  exercise {r.number:2d}: {r.n_passed}/{len(r.checks)} checks"
             for r in results]
    return "\n".join(["", "Summary:"] + lines + [f"{ok} of {len(results)} exercises passed."])


def init(dir, overwrite=False):
    """Copy the blank student files to ``dir`` (created); refuses to overwrite existing exercise files."""
    target = Path(dir).expanduser()
    existing = [e.filename for e in EXERCISES if (target / e.filename).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{target} already has {', '.join(existing)}; not overwriting your work (move them "
                              "away, or choose another folder)")
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for e in EXERCISES:
        shutil.copyfile(STUDENT_DIR / e.filename, target / e.filename)
        copied.append(target / e.filename)
    return copied


__all__ = [
    "EXERCISES",
    "Exercise",
    "ExerciseResult",
    "check",
    "get",
    "grade",
    "init",
    "list_exercises",
    "resolve_dir",
    "summary",
]
