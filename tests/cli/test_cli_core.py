"""Subprocess tests of the core subcommands: info and gradcheck."""
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_dnn", *args], capture_output=True, text=True, timeout=300)


def test_info_lists_versions_and_devices():
    r = run("info")
    assert r.returncode == 0
    assert "tinygrad_dnn" in r.stdout and "devices: cpu" in r.stdout


def test_gradcheck_prints_a_table_and_passes():
    r = run("gradcheck", "--only", "matmul", "tanh", "--device", "strict")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["op", "checks", "max"]
    assert any(line.startswith("matmul_2d") and line.endswith("pass") for line in lines)
    assert "0 failed" in lines[-1]


def test_gradcheck_float32_mode_runs():
    r = run("gradcheck", "--only", "tanh", "--dtype", "float32", "--first-order-only")
    assert r.returncode == 0, r.stdout + r.stderr


def test_gradcheck_unknown_device_is_a_clear_error():
    r = run("gradcheck", "--device", "tpu")
    assert r.returncode == 2 and "not available" in r.stderr and "cpu" in r.stderr


def test_gradcheck_unknown_op_filter():
    r = run("gradcheck", "--only", "no_such_op")
    assert r.returncode == 2 and "no op matches" in r.stderr


def test_bench_runs_a_named_suite_in_quick_mode(tmp_path):
    r = run("bench", "overhead", "--quick", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    md = (tmp_path / "benchmarks_quick.md").read_text()
    assert "vs torch" in md or "vs hand" in md


def test_bench_unknown_suite_is_an_error(tmp_path):
    r = run("bench", "no_such_suite", "--quick", "--out", str(tmp_path))
    assert r.returncode != 0
    assert "no_such_suite" in (r.stdout + r.stderr)
