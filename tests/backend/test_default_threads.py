"""Issue 14 item 16: the BLAS thread count ``import tinygrad_dnn`` sets (idle cores), and how to override it."""
import os
import subprocess
import sys

import pytest

from tinygrad_dnn.backend import threads


@pytest.mark.parametrize("cores,load,expected", [(2, 0.0, 2), (2, 0.4, 2), (2, 1.2, 1), (2, 7.5, 1), (16, 3.4, 13),
                                                 (1, 0.0, 1)])
def test_default_is_the_idle_cores_at_least_one(cores, load, expected):
    assert threads.default_num_threads(cores, load) == expected


def _blas_threads_after_import(env_updates):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TINYGRAD_DNN_THREADS")}
    env.update(env_updates)
    code = ("import tinygrad_dnn, threadpoolctl; "
            "print(max(p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


def test_import_applies_the_choice_and_the_user_overrides_win():
    pytest.importorskip("threadpoolctl")
    assert _blas_threads_after_import({"TINYGRAD_DNN_THREADS": "1"}) == 1
    assert _blas_threads_after_import({"OPENBLAS_NUM_THREADS": "1"}) == 1  # the user's variable: left alone
    cores = threads.default_num_threads(load=0.0)
    assert 1 <= _blas_threads_after_import({}) <= cores  # the load-based default


def test_leave_alone_when_asked(monkeypatch):
    monkeypatch.setenv("TINYGRAD_DNN_THREADS", "0")
    assert threads.apply_default_threads() is None
    monkeypatch.delenv("TINYGRAD_DNN_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.apply_default_threads() is None
