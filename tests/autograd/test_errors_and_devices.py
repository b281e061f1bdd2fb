"""Bad input gets an error that names the op and the shapes/devices; devices never mix silently."""
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.autograd.function import DeviceMismatchError


def test_broadcast_shape_mismatch_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"Add: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        torch.ones(3, 4) + torch.ones(5)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(3, 4\) and \(5, 2\)"):
        torch.ones(3, 4) @ torch.ones(5, 2)


def test_reshape_invalid_names_shapes():
    with pytest.raises(RuntimeError, match=r"reshape: shape \(5,\) is invalid for input of shape \(2, 3\)"):
        torch.ones(2, 3).reshape(5)


def test_mixing_devices_is_an_error_naming_op_and_devices():
    a = torch.ones(2, device="cpu")
    b = torch.ones(2, device="strict")
    with pytest.raises(DeviceMismatchError, match=r"Add: .*on cpu.*on strict"):
        a + b
    with pytest.raises(DeviceMismatchError, match="MatMul"):
        torch.ones(2, 2) @ torch.ones(2, 2, device="strict")


def test_explicit_to_device_round_trip_is_differentiable():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("strict")
    assert str(y.device) == "strict"
    (y * y).sum().to("cpu").backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_implicit_host_conversion_of_a_strict_tensor_is_refused():
    import numpy as np

    y = torch.ones(2, device="strict")
    with pytest.raises(TypeError, match="explicitly"):
        np.asarray(y)
    assert y.numpy().tolist() == [1.0, 1.0]  # explicit is fine


def test_unknown_device_lists_choices():
    with pytest.raises(ValueError, match="expected 'cpu', 'cuda'"):
        torch.ones(2, device="tpu")


def test_cuda_request_without_gpu_says_what_to_do():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="not available"):
        torch.ones(2, device="cuda")


def test_same_seed_gives_identical_parameters_on_every_device():
    torch.manual_seed(3)
    a = torch.randn(4, 3)
    torch.manual_seed(3)
    b = torch.randn(4, 3, device="strict")
    assert a.tolist() == b.numpy().tolist()


def test_available_devices_lists_cpu_and_strict():
    devs = torch.available_devices()
    assert devs[0] == "cpu" and "strict" in devs


def test_wrong_dtype_for_mean_and_gradient_shape():
    with pytest.raises(RuntimeError, match="mean: expected a floating point tensor"):
        torch.tensor([1, 2]).mean()
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(torch.ones(3))


def test_gradcheck_refuses_float32():
    from tinygrad_dnn.gradcheck import gradcheck

    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda x: x * 2, (torch.ones(2, requires_grad=True),))


def test_gradcheck_failure_report_names_input_element_values_and_seed():
    from tinygrad_dnn.gradcheck import GradcheckError, gradcheck

    class Wrong(torch.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x._data * y._data

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * y  # second is wrong: should be g * x

    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([3.0, 5.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as e:
        gradcheck(Wrong.apply, (x, y))
    msg = str(e.value)
    assert "d input 1" in msg and "analytic" in msg and "numeric" in msg and "seed=0" in msg
    assert "Inputs with mismatches: [1]" in msg


def test_gradcheck_checks_every_input_not_only_the_first():
    from tinygrad_dnn.gradcheck import check_gradients

    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([3.0, 5.0], dtype=torch.float64, requires_grad=True)
    r = check_gradients(lambda a, b: a * b, (x, y))
    assert r.passed and r.n_checks == 8


def test_gradcheck_kink_option_skips_non_differentiable_points():
    from tinygrad_dnn.gradcheck import GradcheckError, check_gradients, gradcheck

    x = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64, requires_grad=True)
    f = lambda a: a.clamp(min=0.0) * 3  # kink at 0: analytic 3 (PyTorch's inclusive rule), numeric 1.5  # noqa: E731
    with pytest.raises(GradcheckError):
        gradcheck(f, (x,))
    r = check_gradients(f, (x,), check_kinks=True)
    assert r.passed and len(r.kinks) == 1


def test_gradcheck_directional_mode_for_large_inputs_catches_bugs():
    from tinygrad_dnn.gradcheck import check_gradients

    class Off(torch.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2.01

    x = torch.randn(40, 40, dtype=torch.float64, requires_grad=True)
    r = check_gradients(Off.apply, (x,))
    assert r.mode == "directional" and not r.passed


def test_float32_numerical_error_floor_matches_theory():
    """h ~ eps^(1/3): in float32 h=1e-6 is useless, h~5e-3 works (curriculum.md)."""
    from tinygrad_dnn.gradcheck import numerical_grad, rel_error

    x = torch.tensor([0.7], dtype=torch.float32)
    exact = torch.tensor([0.7]).cos()
    bad = rel_error(numerical_grad(lambda t: t.sin().sum(), x, eps=1e-6), exact)
    good = rel_error(numerical_grad(lambda t: t.sin().sum(), x, eps=5e-3), exact)
    assert good < 1e-4 < bad


@pytest.mark.parametrize("call", [
    lambda F, x: F.gelu(x), lambda F, x: F.softmax(x, 1), lambda F, x: F.layer_norm(x, (4,)),
    lambda F, x: F.mse_loss(x, x), lambda F, x: F.cross_entropy(x[0, 0], x[0, 0, :, 0] * 0),
    lambda F, x: F.fold(x.reshape(1, 4, 4)[:, :, :1].expand(1, 4, 9), (4, 4), 2), lambda F, x: F.group_norm(x, 1), lambda F, x: F.elu(x),
], ids=["gelu", "softmax", "layer_norm", "mse_loss", "cross_entropy", "fold", "group_norm", "elu"])
def test_integer_input_to_a_float_op_raises_torchs_type(call):
    # one exception type per kind of error (autograd/errors.py): torch raises NotImplementedError
    # ("... not implemented for 'Long'"), a RuntimeError; ours names the op, the dtype and the fix
    pt = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError):
        call(pt.nn.functional, pt.ones(1, 1, 4, 4, dtype=pt.long))
    with pytest.raises(NotImplementedError, match=r"not implemented for .*int64.*\.float\(\)"):
        call(torch.nn.functional, torch.ones(1, 1, 4, 4, dtype=torch.int64))


@pytest.mark.parametrize("fn", ["relu", "sigmoid", "tanh"])
def test_relu_sigmoid_tanh_accept_integers_as_torch(fn):
    pt = pytest.importorskip("torch")
    want = getattr(pt.nn.functional, fn)(pt.tensor([-1, 2, 7]))
    got = getattr(torch.nn.functional, fn)(torch.tensor([-1, 2, 7]))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == pytest.approx(want.tolist(), rel=1e-6)
    assert getattr(torch.tensor([-1, 2, 7]), fn)().dtype == got.dtype
