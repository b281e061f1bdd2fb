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


def test_rnn_suite_hand_written_gradients_match_torch():
    """The hand-written NumPy BPTT and attention backward of the ``rnn`` suite are the real gradients."""
    import numpy as np

    torch = pytest.importorskip("torch")
    from benchmarks.suites import rnn

    p = rnn.lstm_init()
    x, y = rnn.lstm_batch()
    hand = rnn.HandLSTM(p)
    hand.set_batch(x, y)
    lib = rnn.LibLSTM(torch, p)
    lib.set_batch(x, y)
    assert float(hand.step()) == pytest.approx(float(lib.step()), rel=1e-5)
    for k, v in lib.model.state_dict().items():  # the weights after one SGD step
        np.testing.assert_allclose(hand.p[k[len("lstm."):] if k.startswith("lstm.") else k], v.numpy(),
                                   rtol=1e-5, atol=1e-6)
    p = rnn.attn_init()
    x, gy = rnn.attn_batch()
    hand = rnn.HandAttention(p)
    hand.set_batch(x, gy)
    lib = rnn.LibAttention(torch, p)
    lib.set_batch(x, gy)
    assert float(hand.step()) == pytest.approx(float(lib.step()), rel=1e-5)
    grads = {"qkv.weight": lib.qkv.weight.grad, "qkv.bias": lib.qkv.bias.grad, "x": lib.x.grad,
             "proj.weight": lib.proj.weight.grad, "proj.bias": lib.proj.bias.grad}
    for k, g in grads.items():
        np.testing.assert_allclose(hand.grads[k], g.numpy(), rtol=1e-4, atol=2e-4)


def test_threads_are_set_after_the_import_and_recorded_truthfully(monkeypatch):
    # `import tinygrad_dnn` picks a BLAS thread count from the machine's load; the harness must set its
    # count after that import, so NumPy, tinygrad_dnn and PyTorch run on the count the record states
    from benchmarks import harness

    import tinygrad_dnn

    before = tinygrad_dnn.get_num_threads()
    try:
        for n in (1, 2):
            rec = harness.configure_threads(n)
            assert rec["blas_threads"] == n == tinygrad_dnn.get_num_threads() == harness.blas_threads()[0]
            if "torch_threads" in rec:
                assert rec["torch_threads"] == n
    finally:
        tinygrad_dnn.set_num_threads(before)
