"""``tinygrad-dnn train`` end to end in subprocesses: default run, outputs, errors, resume, Ctrl-C."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

ENV = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "tinygrad_dnn", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def test_default_command_reduced_epochs(tmp_path):
    """The no-argument run (BN+dropout MLP, AdamW, digits) with fewer epochs, writing its outputs."""
    r = run("train", "--epochs", "8", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "training mlp" in r.stdout and "on digits" in r.stdout and "adamw" in r.stdout
    assert "test accuracy" in r.stdout
    assert "it/s" not in r.stdout + r.stderr  # no progress bar when not a terminal
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["test_accuracy"] > 0.93 and m["epochs_run"] == 8
    assert m["config"]["batchnorm"] == "after" and m["config"]["dropout"] > 0
    assert len(m["history"]["loss"]) == 8 and m["config"]["val_fraction"] == 0.0
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "checkpoint.npz").exists()


@pytest.mark.parametrize("args,needle", [
    (["--dataset", "cifar"], "invalid choice: 'cifar' (choose from 'digits', 'mnist1d'"),
    (["--model", "vit"], "choose from 'mlp', 'resmlp', 'cnn', 'gru'"),
    (["--optimizer", "lion"], "choose from 'sgd'"),
    (["--lr", "-1"], "argument --lr: must be > 0, got -1"),
    (["--lr", "abc"], "argument --lr: must be a number"),
    (["--epochs", "0"], "argument --epochs: must be >= 1"),
    (["--dropout", "1.5"], "argument --dropout: must be < 1"),
    (["--batch-size", "2.5"], "argument --batch-size: must be a whole number"),
    (["--hidden", "256,x"], "argument --hidden: must be comma-separated"),
])
def test_bad_arguments_name_the_flag(args, needle):
    r = run("train", *args)
    assert r.returncode == 2
    assert needle in r.stderr, r.stderr


def test_diagnostics_and_find_lr(tmp_path):
    r = run("train", "--dataset", "moons", "--epochs", "2", "--diagnostics", "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "initial loss" in r.stdout and "log(2)" in r.stdout
    for name in ("activations_init.png", "gradient_norms_init.png", "update_ratios.png", "activations_final.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    r = run("train", "--dataset", "moons", "--find-lr", "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "LR range test" in r.stdout and (tmp_path / "lr_range.png").exists()


def test_cnn_on_points_and_missing_cuda_are_refused():
    r = run("train", "--dataset", "moons", "--model", "cnn")
    assert r.returncode == 2 and "--model cnn needs" in r.stderr
    r = run("train", "--dataset", "digits", "--model", "gru")
    assert r.returncode == 2 and "--model gru reads a 1-D signal" in r.stderr
    import tinygrad_dnn as tg

    if not tg.cuda.is_available():
        r = run("train", "--device", "cuda")
        assert r.returncode == 2 and "--device cuda: no CUDA" in r.stderr and "Traceback" not in r.stderr


def test_resume_matches_uninterrupted_and_refuses_bad_checkpoints(tmp_path):
    common = ["--dataset", "moons", "--hidden", "16,16", "--schedule", "plateau", "--batch-size", "64", "--quiet"]
    full, part = tmp_path / "full", tmp_path / "part"
    r = run("train", *common, "--epochs", "4", "--out", str(full))
    assert r.returncode == 0, r.stderr
    r = run("train", *common, "--epochs", "2", "--out", str(part))
    assert r.returncode == 0, r.stderr
    r = run("train", "--resume", str(part / "checkpoint.npz"), "--epochs", "4", "--quiet")
    assert r.returncode == 0, r.stderr
    a = json.loads((full / "metrics.json").read_text())
    b = json.loads((part / "metrics.json").read_text())
    assert b["history"]["epoch"] == [1, 2, 3, 4]
    for k in ("loss", "val_loss", "accuracy", "lr"):
        assert a["history"][k] == b["history"][k], k
    assert a["test_accuracy"] == b["test_accuracy"]
    # mismatched: a conflicting structural option
    r = run("train", "--resume", str(part / "checkpoint.npz"), "--hidden", "32", "--quiet")
    assert r.returncode == 2 and "--hidden 32 (the checkpoint has 16,16)" in r.stderr
    # corrupted: refused, and the file is left as it was
    bad = tmp_path / "bad.npz"
    data = (part / "checkpoint.npz").read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    r = run("train", "--resume", str(bad), "--quiet")
    assert r.returncode == 2 and "corrupted" in r.stderr and "Traceback" not in r.stderr
    assert bad.read_bytes() == data[: len(data) // 2]
    r = run("train", "--resume", str(tmp_path / "nope.npz"))
    assert r.returncode == 2 and "does not exist" in r.stderr


def _sigint_default():
    """In the child before exec: take SIGINT's default action back, so Python installs its Ctrl-C handler.

    A runner started in the background of a non-interactive shell (CI scripts, ``nohup cmd &``) has SIGINT
    ignored, children inherit that, and Python then leaves it ignored: Ctrl-C could never reach the run.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_saves_and_exits_cleanly(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_dnn", "train", "--dataset", "mnist1d", "--epochs", "500",
                          "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=_sigint_default)
    try:
        deadline = time.time() + 60
        line = ""
        while time.time() < deadline:
            line = p.stdout.readline()
            if line.startswith("epoch") or not line:
                break
        assert line.startswith("epoch"), line
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "interrupted (Ctrl-C)" in err and "Traceback" not in err
    assert (tmp_path / "interrupted.npz").exists() and (tmp_path / "checkpoint.npz").exists()
    r = run("train", "--resume", str(tmp_path / "interrupted.npz"), "--epochs", "2", "--quiet")
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty test")
def test_progress_bar_in_a_terminal():
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_dnn", "train", "--dataset", "moons", "--epochs", "2"],
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True, env=ENV)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert p.wait(timeout=60) == 0
    text = out.decode(errors="replace")
    assert "epoch 1/2:" in text and "it/s" in text and "test accuracy" in text


def test_gru_on_mnist1d_learns(tmp_path):
    """The recurrent model end to end (a short run; the full command is in the README's results table)."""
    r = run("train", "--dataset", "mnist1d", "--model", "gru", "--epochs", "4", "--lr", "5e-3", "--channels", "8",
            "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["config"]["model"] == "gru" and m["test_accuracy"] > 0.3  # chance is 0.1
