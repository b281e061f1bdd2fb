"""issue 14: trustworthy ``tinygrad-dnn train`` runs and files (subprocesses): exact Ctrl-C resume,
honest hyper-parameters and checkpoints, side-effect-free diagnostics, --out checks and locks,
clean errors, and the other subcommands' options."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn.train import Trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1",
           PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
MOONS = ["--dataset", "moons", "--hidden", "16,16", "--quiet"]


def run(*args, timeout=180, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_dnn", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, cwd=cwd)


def _sigint_default():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # see tests/train/test_cli_train.py


def _model_weights(path):
    return {k: v.numpy() for k, v in Trainer.read_checkpoint(path)["model"].items()}


def _same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


def _history(metrics_path):
    m = json.loads(open(metrics_path).read())
    return m, {k: v for k, v in m["history"].items() if k != "time"}


# ------------------------------------------------------------------------------------ item 1 (and 5)
def test_ctrl_c_mid_epoch_then_resume_is_the_uninterrupted_run(tmp_path):
    common = ["--dataset", "digits", "--hidden", "32,32", "--batch-size", "4", "--epochs", "3"]
    full, part = tmp_path / "full", tmp_path / "part"
    r = run("train", *common, "--quiet", "--out", str(full))
    assert r.returncode == 0, r.stderr
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_dnn", "train", *common, "--out", str(part)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=_sigint_default)
    try:
        deadline, line = time.time() + 120, ""
        while time.time() < deadline:
            line = p.stdout.readline()
            if line.startswith("epoch") or not line:
                break
        assert line.startswith("epoch"), line
        time.sleep(0.05)  # into epoch 2
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err
    state = Trainer.read_checkpoint(part / "interrupted.npz")
    steps = {int(v["step"]) for v in state["optimizer"]["state"].values()}
    assert steps == {state["global_step"]}  # never a half-applied step
    r = run("train", "--resume", str(part / "interrupted.npz"), "--quiet")
    assert r.returncode == 0, r.stderr
    ma, ha = _history(full / "metrics.json")
    mb, hb = _history(part / "metrics.json")
    assert ha == hb
    assert ma["test_loss"] == mb["test_loss"] and ma["test_accuracy"] == mb["test_accuracy"]
    _same_weights(_model_weights(full / "checkpoint.npz"), _model_weights(part / "checkpoint.npz"))
    assert Trainer.read_checkpoint(full / "checkpoint.npz")["global_step"] == \
        Trainer.read_checkpoint(part / "checkpoint.npz")["global_step"]
    assert not (part / "interrupted.npz").exists()  # item 5: the stale file is gone after the resumed run


# ------------------------------------------------------------------------------------ item 2
def test_resume_applies_changed_hyperparameters_or_refuses(tmp_path):
    r = run("train", *MOONS, "--schedule", "none", "--epochs", "1", "--out", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    r = run("train", "--resume", str(tmp_path / "a" / "checkpoint.npz"), "--epochs", "2", "--lr", "0.5",
            "--weight-decay", "0.3", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "applied on resume" in r.stderr
    st = Trainer.read_checkpoint(tmp_path / "a" / "checkpoint.npz")
    g = st["optimizer"]["param_groups"][0]
    assert g["lr"] == 0.5 and g["weight_decay"] == 0.3
    assert st["config"]["lr"] == 0.5 and st["config"]["weight_decay"] == 0.3
    # a cosine schedule owns the lr: changing it is refused, not silently ignored
    r = run("train", *MOONS, "--epochs", "2", "--out", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    r = run("train", "--resume", str(tmp_path / "b" / "checkpoint.npz"), "--lr", "0.5", "--quiet")
    assert r.returncode == 2 and "--lr 0.5" in r.stderr and "cosine" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------ item 3
def test_early_stopping_reports_the_model_on_disk(tmp_path):
    from tinygrad_dnn.train.cli import build_model_from_config, load_data

    r = run("train", *MOONS, "--early-stopping", "1", "--epochs", "40", "--lr", "0.05", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["stop_reason"] == "early_stopping"
    assert m["files"]["model"] == "best.npz" and m["files"]["resume"] == "checkpoint.npz"
    cfg = m["config"]
    xtr, ytr, xva, yva, xte, yte, c = load_data(cfg, "cpu")
    model = build_model_from_config(cfg, tuple(xtr.shape[1:]), c)
    model.load_state_dict(tg.load(tmp_path / "best.npz"))
    model.eval()
    with tg.no_grad():
        loss = tg.nn.functional.cross_entropy(model(xte), yte).item()
    assert loss == pytest.approx(m["test_loss"], rel=1e-5)
    assert Trainer.read_checkpoint(tmp_path / "checkpoint.npz")["epoch"] == m["epochs_run"]


# ------------------------------------------------------------------------------------ item 4
def test_diagnostics_do_not_change_the_result(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("train", *MOONS, "--epochs", "2", "--out", str(a)).returncode == 0
    r = run("train", *MOONS, "--epochs", "2", "--diagnostics", "--out", str(b))
    assert r.returncode == 0, r.stderr
    _same_weights(_model_weights(a / "checkpoint.npz"), _model_weights(b / "checkpoint.npz"))
    assert _history(a / "metrics.json")[1] == _history(b / "metrics.json")[1]


# ------------------------------------------------------------------------------------ item 5
def test_resume_with_fewer_epochs_or_a_longer_cosine_is_refused(tmp_path):
    assert run("train", *MOONS, "--epochs", "3", "--out", str(tmp_path)).returncode == 0
    ck = str(tmp_path / "checkpoint.npz")
    r = run("train", "--resume", ck, "--epochs", "2", "--quiet")
    assert r.returncode == 2 and "already trained 3 epochs" in r.stderr
    r = run("train", "--resume", ck, "--epochs", "5", "--quiet")
    assert r.returncode == 2 and "cannot be extended" in r.stderr


# ------------------------------------------------------------------------------------ items 6 / 12
def test_out_folder_is_validated_locked_and_never_silently_overwritten(tmp_path):
    out = tmp_path / "run"
    assert run("train", *MOONS, "--epochs", "1", "--out", str(out)).returncode == 0
    assert not (out / ".lock").exists()  # released at the end
    before = (out / "metrics.json").read_bytes()
    r = run("train", *MOONS, "--epochs", "1", "--out", str(out))
    assert r.returncode == 2 and "already holds a run" in r.stderr and "--overwrite" in r.stderr
    assert (out / "metrics.json").read_bytes() == before
    r = run("train", *MOONS, "--epochs", "1", "--seed", "3", "--out", str(out), "--overwrite")
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == 3
    # a lock held by a live process refuses; a stale one (dead pid) is taken over
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / ".lock").write_text(f"{os.getpid()}\n")
    r = run("train", *MOONS, "--epochs", "1", "--out", str(fresh))
    assert r.returncode == 2 and f"pid {os.getpid()}" in r.stderr and "Traceback" not in r.stderr
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (fresh / ".lock").write_text(f"{dead.pid}\n")
    r = run("train", *MOONS, "--epochs", "1", "--out", str(fresh))
    assert r.returncode == 0, r.stderr
    # a file, a folder under a file: refused before any training
    f = tmp_path / "afile"
    f.write_text("x")
    for bad, needle in ((f, "is a file"), (f / "sub", "which is a file")):
        r = run("train", *MOONS, "--epochs", "1", "--out", str(bad))
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "test accuracy" not in r.stdout


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write read-only folders")
def test_read_only_out_is_refused_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = run("train", *MOONS, "--epochs", "1", "--out", str(ro))
    finally:
        ro.chmod(0o755)
    assert r.returncode == 2 and "not writable" in r.stderr and "test accuracy" not in r.stdout


def test_two_runs_into_one_folder_cannot_overlap(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_dnn", "train", "--dataset", "mnist1d", "--epochs", "500",
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=_sigint_default)
    try:
        line = p.stdout.readline()  # the banner: the lock is taken by now
        assert line.startswith("training"), line
        r = run("train", *MOONS, "--epochs", "1", "--out", str(out), "--overwrite")
        assert r.returncode == 2 and "another training" in r.stderr
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=120)
    assert not (out / ".lock").exists()


# ------------------------------------------------------------------------------------ item 11
def test_batchnorm_last_batch_of_one_is_dropped_not_a_crash(tmp_path):
    r = run("train", "--dataset", "digits", "--batch-size", "359", "--epochs", "1")  # 1437 = 4 * 359 + 1
    assert r.returncode == 0, r.stderr
    assert "drop_last" in r.stdout and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------ item 13
def test_closed_stdout_and_out_of_memory_are_clean(tmp_path, monkeypatch, capsys):
    cmd = f"{sys.executable} -m tinygrad_dnn train --dataset moons --epochs 3 | head -1"
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, env=ENV, timeout=120, cwd=str(tmp_path))
    assert r.stdout.startswith("training") and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    from tinygrad_dnn import cli
    from tinygrad_dnn.train import cli as train_cli

    def oom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(train_cli, "build_model_from_config", oom)
    assert cli.main(["train", "--dataset", "moons", "--epochs", "1", "--quiet"]) == 1
    assert "out of memory" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ item 14
def test_subcommand_options_as_users_type_them(tmp_path):
    r = run()
    assert r.returncode == 2 and "usage: tinygrad-dnn" in r.stderr and "training" not in r.stdout
    r = run("bench", "--list")
    assert r.returncode == 0 and "overhead" in r.stdout
    for args in (["bench", "--help"], ["bench", "--", "--help"]):
        r = run(*args)
        assert r.returncode == 0 and "--quick" in r.stdout and "--out" in r.stdout, args
    r = run("bench", "nosuch")
    assert r.returncode == 2 and "bench --list" in r.stderr and "Traceback" not in r.stderr
    r = run("gradcheck", "--only", "no_such_op")
    assert r.returncode == 2 and "gradcheck --list" in r.stderr
    r = run("gradcheck", "--list")
    assert r.returncode == 0 and "matmul_2d" in r.stdout.split()


def test_bench_results_go_to_the_current_folder_not_the_source_tree(tmp_path):
    src = os.path.join(ROOT, "benchmarks", "results")
    before = set(os.listdir(src)) if os.path.isdir(src) else set()
    stamp = {n: os.path.getmtime(os.path.join(src, n)) for n in before}
    r = run("bench", "overhead", "--quick", cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "bench-results" / "benchmarks_quick.md").exists()
    after = set(os.listdir(src)) if os.path.isdir(src) else set()
    assert after == before and all(os.path.getmtime(os.path.join(src, n)) == t for n, t in stamp.items())


@pytest.mark.parametrize("n,bs", [(10, 3), (9, 3), (1, 4), (7, 1), (8, 5)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_dataloader_drop_last_like_torch(n, bs, drop_last):
    torch = pytest.importorskip("torch")
    from tinygrad_dnn.data import DataLoader, TensorDataset

    ours = DataLoader(TensorDataset(tg.arange(float(n))), batch_size=bs, drop_last=drop_last)
    ref = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(float(n))), batch_size=bs,
                                      drop_last=drop_last)
    assert len(ours) == len(ref)
    assert [b[0].tolist() for b in ours] == [b[0].tolist() for b in ref]
