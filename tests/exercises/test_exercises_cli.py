"""``tinygrad-dnn exercises`` as a student and an instructor run it. The entry point and exit statuses
are checked in subprocesses (four, to keep the runtime small); the longer workflows call
``tinygrad_dnn.cli.main`` in-process, which is the same parser and code."""
import os
import subprocess
import sys
from pathlib import Path

from tinygrad_dnn.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOL = ROOT / "tinygrad_dnn" / "exercises" / "solutions"


def run(*args, cwd):
    env = dict(os.environ)
    env.pop("TINYGRAD_DNN_EXERCISES", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # this checkout, from any cwd
    return subprocess.run([sys.executable, "-m", "tinygrad_dnn", "exercises", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, env=env, timeout=120)


def test_list_prints_one_numbered_line_per_exercise(tmp_path):
    r = run("list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) >= 8
    assert [int(ln.split()[0]) for ln in lines] == list(range(1, len(lines) + 1))
    assert "ex04_batchnorm" in r.stdout


def test_check_all_solutions_passes_with_status_0(tmp_path):
    r = run("check", "--all", "--solutions", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "reference solutions" in r.stdout and "10 of 10 exercises passed." in r.stdout


def test_check_without_a_folder_grades_the_blank_skeletons_and_fails_with_status_1(tmp_path):
    r = run("check", "1", cwd=tmp_path)
    assert r.returncode == 1
    assert "packaged blank skeletons" in r.stdout
    assert "not implemented yet: implement mlp_forward in" in r.stdout and "ex01_mlp_backprop.py:" in r.stdout


def test_check_without_exercises_is_a_usage_error(tmp_path):
    r = run("check", cwd=tmp_path)
    assert r.returncode == 2 and "--all" in r.stderr


def test_student_workflow_init_edit_check(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TINYGRAD_DNN_EXERCISES", raising=False)
    assert main(["exercises", "init", "hw"]) == 0
    hw = tmp_path / "hw"
    assert len(list(hw.glob("ex*.py"))) >= 8
    assert main(["exercises", "init", "hw"]) == 1
    assert "not overwriting" in capsys.readouterr().err
    # a student's dropout that forgets the 1/(1-p) rescale
    sol = (SOL / "ex05_dropout.py").read_text()
    (hw / "ex05_dropout.py").write_text(sol.replace("mask = (u < 1 - p) / (1 - p)", "mask = (u < 1 - p) * 1.0"))
    assert main(["exercises", "check", "5", "--dir", "hw"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "Worst at index [" in out and "got = 0.7 x expected everywhere" in out
    (hw / "ex05_dropout.py").write_text(sol)
    assert main(["exercises", "check", "dropout", "--dir", "hw"]) == 0


def test_environment_variable_and_local_exercises_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "ex09_warmup_cosine.py").write_text((SOL / "ex09_warmup_cosine.py").read_text())
    monkeypatch.setenv("TINYGRAD_DNN_EXERCISES", str(mine))
    assert main(["exercises", "check", "9"]) == 0
    assert "$TINYGRAD_DNN_EXERCISES" in capsys.readouterr().out
    monkeypatch.delenv("TINYGRAD_DNN_EXERCISES")
    mine.rename(tmp_path / "exercises")
    assert main(["exercises", "check", "9", "10"]) == 1  # ./exercises; exercise 10 is missing there
    out = capsys.readouterr().out
    assert "(./exercises)" in out and "does not exist" in out and "1 of 2 exercises passed." in out


def test_unknown_exercise_and_missing_subcommand_exit_2(capsys):
    assert main(["exercises", "check", "42"]) == 2
    assert "no exercise '42'" in capsys.readouterr().err
    assert main(["exercises"]) == 2
