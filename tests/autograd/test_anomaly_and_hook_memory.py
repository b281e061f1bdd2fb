"""Issue 14 items 8 and 15: leaf hooks do not keep tensors alive; anomaly mode sees float16 NaNs and
names the backward a NaN is born in."""
import gc
import weakref

import pytest

import tinygrad_dnn as torch


def test_a_hook_whose_closure_refers_to_its_tensor_does_not_leak_it():
    refs = []
    for _ in range(20):
        t = torch.randn(64, 64, requires_grad=True)
        t.register_hook(lambda g, t=t: g * 1.0)  # the closure holds t: a cycle, as in PyTorch
        (t * 2).sum().backward()
        refs.append(weakref.ref(t))
        del t
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_leaf_hooks_still_run_and_can_be_removed():
    w = torch.ones(3, requires_grad=True)
    h = w.register_hook(lambda g: g * 10)
    (w * 2).sum().backward()
    assert w.grad.tolist() == [20.0, 20.0, 20.0]
    h.remove()
    w.grad = None
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_anomaly_mode_catches_float16_nan():
    x = torch.tensor([1.0, 0.0], dtype=torch.float16, requires_grad=True)
    with torch.autograd.detect_anomaly():
        with pytest.raises(FloatingPointError, match="Div produced NaN in its forward pass"):
            x / x


def test_anomaly_mode_names_the_backward_a_nan_is_born_in():
    w = torch.tensor([0.0], requires_grad=True)
    with torch.autograd.detect_anomaly():
        y = w.sqrt()  # the forward is fine: sqrt(0) = 0
        with pytest.raises(FloatingPointError, match=r"SqrtBackward \(its Div step\) produced NaN in its backward"):
            (y * 0).sum().backward()  # backward: 0 / (2 sqrt 0) = nan
