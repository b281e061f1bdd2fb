"""Smoke test: every benchmark suite runs in quick mode and writes JSON/Markdown with ratios.

No timing is asserted (the numbers depend on the machine); this only keeps the harness working.
"""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

pytest.importorskip("matplotlib")


def test_all_suites_quick(tmp_path):
    from benchmarks import run
    from benchmarks.suites import SUITES

    report = run(None, quick=True, out=str(tmp_path), verbose=False)
    assert report["failures"] == {}, report["failures"]
    j = tmp_path / "benchmarks_quick.json"
    md = tmp_path / "benchmarks_quick.md"
    assert j.exists() and md.exists()
    data = json.loads(j.read_text())
    assert set(data["suites"]) == set(SUITES)
    assert {r["suite"] for r in data["rows"]} == set(SUITES)
    env = data["environment"]
    assert env["cpu_model"] and env["cores"] and "blas_threads" in env["threads"]
    # every suite has a tinygrad_dnn row with a ratio against the hand-written column
    for s in SUITES:
        rows = [r for r in data["rows"] if r["suite"] == s and r["impl"] == "tinygrad_dnn"]
        assert rows and all(r["vs_hand"] is not None and r["vs_hand"] > 0 for r in rows), s
    text = md.read_text()
    assert "vs hand" in text and "vs torch" in text and "x |" in text
    assert any(p.endswith(".png") for p in os.listdir(tmp_path))


def test_cli_lists_suites(capsys):
    from benchmarks.runner import main

    assert main(["--list"]) == 0
    assert "mlp" in capsys.readouterr().out


def test_unknown_suite_is_an_error(tmp_path):
    from benchmarks import run

    with pytest.raises(KeyError, match="unknown suite"):
        run(["nope"], quick=True, out=str(tmp_path), verbose=False)
