"""``tinygrad-dnn train --nproc 2``: trains digits to the accuracy of one process, rank 0 alone writes
the run, and its checkpoint resumes on one process.

Tolerance from measurement: 4 epochs of the default MLP on digits (constant lr, so the run can be
extended on resume), seeds 0/1/2, test accuracy on 1 process 98.33/98.06/97.22%, on 2 processes
97.50/98.06/98.06% (the sample order differs: another sampler): |difference| <= 0.84 points, so the
test allows 2 points (7 of the 360 test images).
"""
import json
import os
import subprocess
import sys

import pytest
from test_mpi import MPIEXEC, ROOT, pytestmark  # noqa: F401  (the same skips)


def train(*args, timeout=180):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-m", "tinygrad_dnn", "train", *map(str, args)], check=False,
                       capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert p.returncode == 0, f"train {args} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def two_proc_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run2")
    p = train("--nproc", 2, "--epochs", 4, "--seed", 1, "--schedule", "none", "--out", out, "--overwrite")
    return out, p


def test_two_processes_reach_the_accuracy_of_one(two_proc_run, tmp_path):
    out, _ = two_proc_run
    m2 = json.loads((out / "metrics.json").read_text())
    assert m2["distributed"] == {"world_size": 2, "global_batch": 64, "per_process_batch": 32,
                                 "lr_rule": "as given for the global batch"}
    one = tmp_path / "run1"
    train("--epochs", 4, "--seed", 1, "--schedule", "none", "--out", one, "--quiet")
    m1 = json.loads((one / "metrics.json").read_text())
    assert m2["test_accuracy"] > 0.95
    assert abs(m2["test_accuracy"] - m1["test_accuracy"]) <= 0.02


def test_rank_zero_alone_reports_and_the_banner_states_the_rule(two_proc_run):
    _, p = two_proc_run
    assert p.stdout.count("test accuracy") == 1
    assert p.stdout.count("epoch   4/4") == 1
    assert "data parallel: 2 processes (MPI), global batch 64 = 2 x 32 per process; lr 0.002 for the global batch" \
        in p.stdout


def test_a_two_process_checkpoint_resumes_on_one_process(two_proc_run, tmp_path):
    out, _ = two_proc_run
    p = train("--resume", out / "checkpoint.npz", "--epochs", 5, "--out", tmp_path / "resumed", "--quiet")
    assert "test accuracy" in p.stdout
    m = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    assert m["epochs_run"] == 5 and m["test_accuracy"] > 0.95
