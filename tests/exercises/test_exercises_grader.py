"""The grader on the reference solutions (all pass), on the blank skeletons (every check says
"not implemented yet" and where), on broken files (syntax error, exception, missing function), and
the choice of folder to grade."""
import re
from pathlib import Path

import pytest

from tinygrad_dnn import exercises as E
from tinygrad_dnn.exercises import skeletons

NUMBERS = [e.number for e in E.EXERCISES]


def test_at_least_eight_exercises_each_with_a_student_and_a_solution_file():
    assert len(E.EXERCISES) >= 8
    for e in E.EXERCISES:
        assert (E.STUDENT_DIR / e.filename).is_file() and (E.SOLUTIONS_DIR / e.filename).is_file()


@pytest.mark.parametrize("n", NUMBERS)
def test_reference_solution_passes_every_check(n):
    r = E.grade(n, solutions=True)
    assert r.passed, r.report()
    assert len(r.checks) >= 2


@pytest.mark.parametrize("n", NUMBERS)
def test_blank_skeleton_fails_saying_what_to_implement_and_where(n, tmp_path, monkeypatch):
    monkeypatch.delenv(E.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    r = E.grade(n)  # no folder, no env var, no ./exercises: the packaged skeletons
    assert r.path.startswith(str(E.STUDENT_DIR))
    assert not r.passed
    assert all(c.status == "not implemented" for c in r.checks), r.report()
    first = r.checks[0].message
    m = re.search(r"not implemented yet: implement ([\w.]+) in (.+\.py):(\d+)", first)
    assert m, first
    func, path, line = m.group(1), m.group(2), int(m.group(3))
    src = Path(path).read_text().splitlines()
    assert "raise NotImplementedError" in src[line - 1]
    assert re.search(rf"(def|class) {func.split('.')[-1]}\b", "\n".join(src))
    assert f"Exercise {n}:" in first
    assert "not implemented yet" in r.report() and "NOT passed" in r.report()


def test_skeletons_are_generated_from_the_solutions_and_in_sync():
    for path, text in skeletons.generate(write=False).items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m tinygrad_dnn.exercises.skeletons"


def test_skeleton_blanks_are_marked_and_keep_the_solution_api():
    for path in skeletons.solution_files():
        student = (E.STUDENT_DIR / path.name).read_text()
        n_blocks = student.count("# BEGIN YOUR CODE")
        assert n_blocks >= 1 and n_blocks == student.count("# END YOUR CODE") == student.count("NotImplementedError(")
        defs = lambda s: re.findall(r"^\s*(?:def|class) (\w+)", s, re.MULTILINE)
        assert defs(student) == defs(path.read_text())


def test_make_skeleton_names_the_enclosing_method():
    text = ("class A:\n    def f(self):\n        # BEGIN YOUR CODE\n        # TODO(Exercise 7): do it\n"
            "        return 1\n        # END YOUR CODE\n")
    out = skeletons.make_skeleton(text, 7)
    assert 'raise NotImplementedError("Exercise 7: implement A.f: do it")' in out and "return 1" not in out


def _copy_solution(tmp_path, n, transform):
    e = E.get(n)
    text = (E.SOLUTIONS_DIR / e.filename).read_text()
    (tmp_path / e.filename).write_text(transform(text))
    return tmp_path / e.filename


def test_syntax_error_is_reported_with_its_line(tmp_path):
    path = _copy_solution(tmp_path, 9, lambda s: s.replace("if step < warmup_steps:", "if step < warmup_steps"))
    r = E.grade(9, dir=tmp_path)
    assert not r.passed and "SyntaxError" in r.load_error and f"{path}:" in r.load_error
    assert "could not be loaded" in r.report()


def test_exception_in_student_code_shows_the_student_line(tmp_path):
    path = _copy_solution(tmp_path, 9, lambda s: s.replace("math.cos(math.pi * progress)", "math.cos(str(progress))"))
    r = E.grade(9, dir=tmp_path)
    err = [c for c in r.checks if c.status == "error"]
    assert err and "TypeError" in err[0].message
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if "math.cos(str(" in ln)
    assert f"in warmup_cosine_lr at {path}:{line}:" in err[0].message and "math.cos(str(progress))" in err[0].message


def test_renamed_function_is_named(tmp_path):
    _copy_solution(tmp_path, 10, lambda s: s.replace("def relative_error(", "def rel_err("))
    r = E.grade(10, dir=tmp_path)
    msgs = " ".join(c.message for c in r.checks if not c.passed)
    assert "has no `relative_error`" in msgs


def test_missing_file_says_how_to_get_one(tmp_path):
    r = E.grade(4, dir=tmp_path)
    assert not r.passed and "does not exist" in r.load_error and "exercises init" in r.load_error


def test_check_prints_the_report_and_returns_the_result(capsys):
    r = E.check(9, solutions=True)
    assert r.passed and "Exercise 9" in capsys.readouterr().out
    rs = E.check("all", solutions=True, verbose=False)
    assert len(rs) == len(E.EXERCISES) and all(x.passed for x in rs)


def test_exercises_are_found_by_number_or_name():
    assert E.get(4) is E.get("04") is E.get("batchnorm") is E.get("ex04_batchnorm")
    with pytest.raises(KeyError, match="no exercise"):
        E.get(99)


def test_folder_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv(E.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert E.resolve_dir()[0] == E.STUDENT_DIR  # nothing local: the packaged skeletons
    E.init(tmp_path / "exercises")
    assert E.resolve_dir()[0] == (tmp_path / "exercises").resolve()  # ./exercises with exercise files
    monkeypatch.setenv(E.ENV_VAR, str(tmp_path / "mine"))
    assert E.resolve_dir()[0] == (tmp_path / "mine").resolve()  # the environment variable wins
    assert E.resolve_dir(dir=tmp_path / "x")[0] == (tmp_path / "x").resolve()  # an explicit folder wins
    assert E.resolve_dir(dir=tmp_path / "x", solutions=True)[0] == E.SOLUTIONS_DIR


def test_init_copies_the_blank_files_and_refuses_to_overwrite(tmp_path):
    copied = E.init(tmp_path / "hw")
    assert len(copied) == len(E.EXERCISES)
    assert (tmp_path / "hw" / "ex04_batchnorm.py").read_text() == (E.STUDENT_DIR / "ex04_batchnorm.py").read_text()
    (tmp_path / "hw" / "ex04_batchnorm.py").write_text("# my work\n")
    with pytest.raises(FileExistsError, match="not overwriting"):
        E.init(tmp_path / "hw")
    assert (tmp_path / "hw" / "ex04_batchnorm.py").read_text() == "# my work\n"


@pytest.mark.torch
def test_optimizer_steps_also_match_torch():
    pytest.importorskip("torch")
    r = E.grade(8, solutions=True, torch=True)
    assert r.passed, r.report()
    assert any("torch.optim.AdamW" in c.title for c in r.checks)


def test_endless_loop_is_stopped_and_located(tmp_path, monkeypatch):
    import signal
    import threading

    from tinygrad_dnn.exercises import grader

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        pytest.skip("the time limit needs SIGALRM in the main thread")
    monkeypatch.setattr(grader, "TIME_LIMIT_S", 0.3)
    path = _copy_solution(tmp_path, 9, lambda s: s.replace("    if step < warmup_steps:\n",
                                                           "    while True:\n        pass\n    if step < warmup_steps:\n"))
    r = E.grade(9, dir=tmp_path)
    assert not r.passed and r.checks[0].status == "error"
    assert "too slow" in r.checks[0].message and f"in warmup_cosine_lr at {path}:" in r.checks[0].message
