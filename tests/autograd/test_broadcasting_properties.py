"""Property tests: broadcasting gradients are summed back to every input's shape, for any shapes."""
from hypothesis import given, settings
from hypothesis import strategies as st

import numpy as np

import tinygrad_dnn as torch
from tinygrad_dnn.gradcheck import gradcheck
from tinygrad_dnn.testing.strategies import arrays, broadcastable_shapes, tensors

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "maximum": lambda a, b: a.maximum(b * 1.0001 + 0.001),
}


@settings(max_examples=40, deadline=None)
@given(shapes=broadcastable_shapes(), op=st.sampled_from(sorted(OPS)), data=st.data())
def test_binary_op_gradient_has_input_shape_and_matches_numpy_sum(shapes, op, data):
    sa, sb = shapes
    a = torch.tensor(data.draw(arrays(sa)), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(data.draw(arrays(sb)), dtype=torch.float64, requires_grad=True)
    out = OPS[op](a, b)
    out.sum().backward()
    assert tuple(a.grad.shape) == sa and tuple(b.grad.shape) == sb
    if op == "add":  # d sum(a + b) / da = number of times each a element is broadcast
        reps = int(np.prod(out.shape)) // max(int(np.prod(sa)), 1)
        np.testing.assert_allclose(a.grad.numpy(), np.full(sa, float(reps)))


@settings(max_examples=15, deadline=None)
@given(shapes=broadcastable_shapes(max_dims=3, max_side=3), op=st.sampled_from(sorted(OPS)), data=st.data())
def test_binary_op_gradcheck_on_random_broadcast_shapes(shapes, op, data):
    sa, sb = shapes
    a = torch.tensor(data.draw(arrays(sa)), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(data.draw(arrays(sb)), dtype=torch.float64, requires_grad=True)
    assert gradcheck(OPS[op], (a, b))


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_non_contiguous_inputs_give_the_same_gradients(data):
    x = data.draw(tensors((3, 4), non_contiguous=True))
    y = torch.tensor(x.numpy().copy(), dtype=torch.float64, requires_grad=True)
    (x.tanh() @ x.T).sum().backward()
    (y.tanh() @ y.T).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy())
