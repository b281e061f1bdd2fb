import tinygrad_dnn as torch
from tinygrad_dnn.autograd import to_dot, to_mermaid, to_text, trace_backward


def _graph():
    x = torch.randn(3, 4, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    return x, b, ((x + b).tanh() * 2).sum()


def test_dot_lists_every_op_and_leaf():
    x, b, y = _graph()
    dot = to_dot(y, names={"x": x, "b": b})
    for word in ("AddBackward", "TanhBackward", "MulBackward", "SumBackward", "x (3, 4)", "b (4,)"):
        assert word in dot
    assert dot.startswith("digraph")


def test_mermaid_and_text():
    x, b, y = _graph()
    assert "flowchart" in to_mermaid(y)
    text = to_text(y, names={"x": x})
    assert text.splitlines()[0] == "SumBackward" and "x (3, 4)" in text


def test_trace_shows_unbroadcast_reduction():
    x, b, y = _graph()
    lines = []
    with trace_backward(lines.append):
        y.backward()
    add = [line for line in lines if line.startswith("AddBackward")][0]
    assert "un-broadcast to (4,)" in add
    assert len(lines) == 4
