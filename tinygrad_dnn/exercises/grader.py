"""The grading machinery: load a student file, run named checks, say what is wrong and where.

A check is a block ``with g.check("title"):`` in an exercise's spec. Inside it the spec calls the
student's functions through :meth:`Grader.call` and compares with :meth:`Grader.close`. A check ends as

- pass;
- FAIL with a message naming the function, the value (output / gradient / state), the element index,
  expected vs got, the relative error and a hint (``close`` finds the worst element and recognizes a
  constant factor, a sign flip or a transpose);
- not implemented: a blank (``NotImplementedError``) with the student file and line to edit;
- error: an exception in the student's code, with the student's file, line and source text.

Relative error here is the lectures' |got - expected| / max(1e-8, |got| + |expected|).
"""
from __future__ import annotations

import contextlib
import importlib.util
import inspect
import linecache
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np


class CheckFailed(AssertionError):
    """A check's verdict; the message says what is wrong and where."""


class CheckTimeout(Exception):
    """A check ran longer than :data:`TIME_LIMIT_S` (an endless loop in the student's code?)."""


TIME_LIMIT_S = 60  # per check; the reference solutions need well under 1 s


@contextlib.contextmanager
def _time_limit(seconds):
    """Interrupt the block after ``seconds`` (POSIX main thread only; elsewhere no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise CheckTimeout(f"stopped after {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class CheckResult:
    title: str
    status: str  # "pass", "fail", "not implemented", "error"
    message: str = ""
    cause: str = field(default="", repr=False)  # the message before "the same error as above" shortening

    @property
    def passed(self):
        return self.status == "pass"


@dataclass
class ExerciseResult:
    """What grading one exercise found: ``passed``, the ``checks`` and the ``report()`` text."""

    number: int
    title: str
    path: str
    checks: list = field(default_factory=list)
    load_error: str = ""

    @property
    def passed(self):
        return not self.load_error and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def n_passed(self):
        return sum(c.passed for c in self.checks)

    def report(self):
        lines = [f"Exercise {self.number}: {self.title}", f"  file: {self.path}"]
        if self.load_error:
            lines.append("  ERROR  the file could not be loaded")
            lines.extend("         " + ln for ln in self.load_error.splitlines())
        for c in self.checks:
            tag = {"pass": "PASS", "fail": "FAIL", "not implemented": "TODO", "error": "ERROR"}[c.status]
            lines.append(f"  {tag:<5}  {c.title}")
            lines.extend("         " + ln for ln in c.message.splitlines() if c.message)
        verdict = "all passed" if self.passed else "NOT passed"
        lines.append(f"  {self.n_passed} of {len(self.checks)} checks passed: {verdict}.")
        return "\n".join(lines)

    __str__ = report

    def __repr__(self):
        return f"<ExerciseResult {self.number}: {self.n_passed}/{len(self.checks)} checks passed>"


def load_module(path, number):
    """Import the student's file under a private name (a fresh module on every call)."""
    name = f"_tinygrad_dnn_exercise_{number:02d}_{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.modules.pop(name, None)
    return mod


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def student_frame(exc, path):
    """The innermost traceback entry in the student's file, or None."""
    found = None
    for fs, _ in traceback.walk_tb(exc.__traceback__):
        if _same_file(fs.f_code.co_filename, path):
            found = fs
    return found


def _where(frame, path):
    line = frame.f_lineno
    code = frame.f_code
    qual = getattr(code, "co_qualname", code.co_name)
    src = linecache.getline(path, line).strip()
    return qual, line, src


_EXIT_ADVICE = ("exit(), quit() or sys.exit() ends the grader itself (with exit status 0, as if everything passed): "
                "remove it, or put your own tests under `if __name__ == \"__main__\":`")


def describe_load_error(exc, path):
    """SyntaxError / import-time error of a student file, with its line."""
    if isinstance(exc, SystemExit):
        fr = student_frame(exc, path)
        at = f" at {path}:{fr.f_lineno}: {linecache.getline(path, fr.f_lineno).strip()}" if fr else ""
        return f"the file calls exit() when imported (SystemExit({exc.code!r})){at}\n{_EXIT_ADVICE}"
    if isinstance(exc, SyntaxError):
        return f"SyntaxError at {path}:{exc.lineno}: {exc.msg}\n    {(exc.text or '').strip()}"
    fr = student_frame(exc, path)
    at = f" at {path}:{fr.f_lineno}: {linecache.getline(path, fr.f_lineno).strip()}" if fr else ""
    return f"{type(exc).__name__}: {exc}{at}"


def _fmt_index(idx):
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if len(idx) else "(scalar)"


_LOW_PRECISION = ("float16", "float32", "bfloat16")


def _dtype_name(value):
    """The dtype of an array or Tensor as a string ('' for Python numbers and lists)."""
    dt = getattr(value, "dtype", None)
    return "" if dt is None else str(getattr(dt, "name", dt)).replace("tinygrad_dnn.", "")


def _as_array(value, what):
    if value is None:
        raise CheckFailed(f"{what}: got None. Did the function forget to `return` its result?")
    if hasattr(value, "numpy") and hasattr(value, "requires_grad"):  # a Tensor
        value = value.detach().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise CheckFailed(f"{what}: expected an array of numbers, got a {type(value).__name__} ({e})") from None
    return arr


def _arg_name(f, i):
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        return params[i].name
    except (TypeError, ValueError, IndexError):
        return f"#{i + 1}"


def modified_input_message(name, f, i, before, after):
    """The verdict on a function that changed its input array ``i`` in place."""
    arg = _arg_name(f, i)
    where = ""
    if after.shape == before.shape:
        idx = np.argwhere(~((after == before) | (np.isnan(after) & np.isnan(before))))
        if len(idx):
            k = tuple(idx[0])
            where = f" (first change at index {_fmt_index(k)}: was {before[k]:.10g}, now {after[k]:.10g})"
    else:
        where = f" (its shape changed from {before.shape} to {after.shape})"
    return (f"{name} modified its input `{arg}` in place{where}. The caller still needs it (for the backward "
            f"pass, the next layer, the grader's reference): compute a new array (`{arg} = {arg} - m` or "
            f"`out = {arg} * mask`) instead of writing into it (`{arg} -= m`, `{arg} *= mask`, `{arg}[...] = ...`)")


def pattern(expected, got):
    """A sentence when got is expected times a constant, its negative or its transpose."""
    if expected.ndim == 2 and expected.shape != expected.T.shape and got.shape == expected.T.shape:
        return "got has the transposed shape: check the order of the factors in a matrix product (A.T @ B vs B.T @ A)"
    if got.shape != expected.shape:
        return ""
    nz = np.abs(expected) > 1e-12
    if nz.sum() >= 2:
        r = got[nz] / expected[nz]
        c = float(np.median(r))
        if abs(c - 1) > 1e-4 and np.all(np.abs(r - c) <= 1e-4 * max(1.0, abs(c))):
            if abs(c + 1) < 1e-4:
                return "got = -expected everywhere: a sign is flipped"
            if abs(c) < 1e-12:
                return "got is 0 where expected is not: a term is missing"
            return f"got = {c:.6g} x expected everywhere: a constant factor is missing or extra"
    return ""


def compare(what, expected, got, rtol=1e-7, atol=1e-10, hint=""):
    """Raise CheckFailed unless |got - expected| <= atol + rtol |expected| everywhere."""
    with np.errstate(all="ignore"):  # the checks run under errstate(raise) for the student's code, not ours
        _compare(what, expected, got, rtol, atol, hint)


def _compare(what, expected, got, rtol, atol, hint):
    expected = np.asarray(expected, dtype=np.float64)
    got_dtype = _dtype_name(got)
    got = _as_array(got, what)
    if got.shape != expected.shape:
        if got.size == expected.size == 1:
            got = got.reshape(expected.shape)
        else:
            pat = pattern(expected, got)
            raise CheckFailed(f"{what}: wrong shape: expected {expected.shape}, got {got.shape}"
                              + (f"; {pat}" if pat else "") + (f"\nhint: {hint}" if hint else ""))
    bad_nan = ~np.isfinite(got) & np.isfinite(expected)
    if bad_nan.any():
        idx = np.argwhere(bad_nan)[0]
        raise CheckFailed(f"{what}: {int(bad_nan.sum())} of {got.size} entries are nan/inf; first at index "
                          f"{_fmt_index(idx)}: expected {expected[tuple(idx)]:.10g}, got {got[tuple(idx)]}"
                          + (f"\nhint: {hint}" if hint else ""))
    diff = np.abs(got - expected)
    tol = atol + rtol * np.abs(expected)
    bad = diff > tol
    if not bad.any():
        return
    score = np.where(bad, diff / np.maximum(tol, 1e-300), -1.0)  # the entry farthest outside its tolerance
    idx = np.unravel_index(int(np.argmax(score)), got.shape) if got.ndim else ()
    e, g_ = float(expected[idx]), float(got[idx])
    rel = abs(g_ - e) / max(1e-8, abs(g_) + abs(e))
    digits = 10 if f"{e:.10g}" != f"{g_:.10g}" else 17  # show where two close numbers differ
    msg = (f"{what}: {int(bad.sum())} of {got.size} entries differ (tolerance {atol:g} + {rtol:g}*|expected|). "
           f"Worst at index {_fmt_index(idx)}: expected {e:.{digits}g}, got {g_:.{digits}g} "
           f"(abs error {abs(g_ - e):.3g}, rel error {rel:.3g})")
    pat = pattern(expected, got)
    if pat:
        msg += f"\n{pat}"
    note = _precision_note(got_dtype, expected, got, bad)
    if note:
        msg += f"\n{note}"
    if hint:
        msg += f"\nhint: {hint}"
    raise CheckFailed(msg)


def _precision_note(got_dtype, expected, got, bad):
    """A sentence when the result is float32 (or only off by float32 rounding): the grader needs float64."""
    if any(d in got_dtype for d in _LOW_PRECISION):
        return (f"your result has dtype {got_dtype}: the inputs are float64 and the tolerance is below float32's "
                "precision (~6e-8 relative); compute and return float64 (no np.float32 / astype(np.float32))")
    rel = np.abs(got[bad] - expected[bad]) / np.maximum(np.abs(expected[bad]), 1e-300)
    if rel.size and 1e-9 < float(rel.max()) < 1e-6:  # float32 rounds at 6e-8; float64 at 1e-16
        return (f"every difference is tiny (at most {float(rel.max()):.2g} relative), about float32 rounding: if you "
                "convert anything to float32 (np.float32, astype, dtype=...), keep float64 instead")
    return ""


class Grader:
    """Collects the results of one exercise's checks on one student module."""

    def __init__(self, module, path, result):
        self.mod = module
        self.path = path
        self.result = result
        self._blank_seen = set()

    def fn(self, name):
        """The student's function or class ``name`` (``"Class.method"`` allowed)."""
        obj = self.mod
        for part in name.split("."):
            if not hasattr(obj, part):
                raise CheckFailed(f"{os.path.basename(self.path)} has no `{name}`: keep the names of the "
                                  "skeleton (`tinygrad-dnn exercises init DIR` gives a fresh copy)")
            obj = getattr(obj, part)
        return obj

    def call(self, name, *args, mutable=(), **kwargs):
        """Call the student's ``name``. NumPy arguments whose positions are not in ``mutable`` (the ones the
        docstring lets the function change; ``None``: all) go in as copies and must come back unchanged: a
        function that writes into its input (``x -= mu``, ``x *= mask``) fails with a message naming it."""
        f = self.fn(name)
        try:
            inspect.signature(f).bind(*args, **kwargs)
        except TypeError as e:  # a renamed or removed parameter: say so, not "raised outside your file"
            shown = ", ".join([type(a).__name__ for a in args] + [f"{k}=..." for k in kwargs])
            raise CheckFailed(f"{name}{inspect.signature(f)} cannot be called as {name}({shown}): {e}. Keep the "
                              "skeleton's parameters and their names (`tinygrad-dnn exercises init DIR` gives a "
                              "fresh copy to compare with)") from None
        except ValueError:  # no signature (a builtin): just call it
            pass
        if mutable is None:
            return f(*args, **kwargs)
        guarded = {i: a for i, a in enumerate(args) if isinstance(a, np.ndarray) and i not in mutable}
        args = tuple(a.copy() if i in guarded else a for i, a in enumerate(args))
        out = f(*args, **kwargs)
        for i, original in guarded.items():
            changed = args[i].shape != original.shape or not np.array_equal(args[i], original, equal_nan=True)
            if changed:
                raise CheckFailed(modified_input_message(name, f, i, original, args[i]))
        return out

    def returns(self, value, n, name, names):
        """Check that ``name`` returned a tuple of ``n`` values (``names`` describes them)."""
        if not isinstance(value, (tuple, list)) or len(value) != n:
            got = f"a tuple of {len(value)}" if isinstance(value, (tuple, list)) else f"a {type(value).__name__}"
            raise CheckFailed(f"{name} must return {names}, got {got}")
        return value

    def close(self, what, expected, got, rtol=1e-7, atol=1e-10, hint=""):
        compare(what, expected, got, rtol, atol, hint)

    def require(self, cond, message):
        if not cond:
            raise CheckFailed(message)

    @contextlib.contextmanager
    def check(self, title, hint=""):
        """One named check; ``hint`` is added to the report of a crash or a floating-point error in the student's
        code (the failures that :meth:`close` reports carry their own hints)."""
        status, message = "pass", ""
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"), _time_limit(TIME_LIMIT_S):
                yield
        except CheckFailed as e:
            status, message = "fail", str(e)
        except NotImplementedError as e:
            status, message = "not implemented", self._blank_message(e)
        except CheckTimeout as e:
            status, message = "error", self._exception_message(e, prefix="too slow (an endless loop?)")
        except FloatingPointError as e:
            status, message = "fail", self._exception_message(e, prefix="floating-point error (overflow, 0/0 or "
                                                                        "division by zero)")
            if "np.where" in message and "overflow" in message:
                message += ("\nnp.where(cond, a, b) computes BOTH a and b on every element, so the branch it "
                            "discards still overflows: make both branches safe (e = exp(-|x|))")
        except Exception as e:  # noqa: BLE001 - any error in student code is reported, never raised
            status, message = "error", self._exception_message(e)
        except SystemExit as e:  # exit() in student code must not end the grading run (with status 0)
            status, message = "error", self._exception_message(e, prefix=_EXIT_ADVICE)
        base = message
        crashed = status == "error" or message.startswith("floating-point error")
        if status in ("error", "fail") and message:  # one cause failing several checks: said once
            first = next((c for c in self.result.checks if c.status == status and c.cause == message), None)
            if first is not None:
                line = message.splitlines()[0]
                line = line if len(line) <= 160 else line[:157] + "..."
                message = f"the same {'error' if status == 'error' else 'problem'} as in \"{first.title}\" above: {line}"
            elif crashed and hint:
                message += f"\nhint: {hint}"
        self.result.checks.append(CheckResult(title, status, message, cause=base))

    def _blank_message(self, e):
        fr = student_frame(e, self.path)
        if fr is None:
            return f"not implemented yet: {e}"
        qual, line, _ = _where(fr, self.path)
        if qual in self._blank_seen:
            return f"not implemented yet: {qual} (see above)"
        self._blank_seen.add(qual)
        return f"not implemented yet: implement {qual} in {self.path}:{line}\n({e})"

    def _exception_message(self, e, prefix=""):
        fr = student_frame(e, self.path)
        head = f"{prefix}: " if prefix else ""
        text = f"{head}{type(e).__name__}: {e}"
        if fr is None:
            return (text + "\n(raised outside your file, while the grader used what your code returned: check the "
                    "types and shapes your functions return against their docstrings)")
        qual, line, src = _where(fr, self.path)
        return f"{text}\nin {qual} at {self.path}:{line}:\n    {src}"
