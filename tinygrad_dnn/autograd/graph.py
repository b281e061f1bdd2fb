"""Teaching views of the graph: DOT, Mermaid and plain text, and a backward trace.

No graphviz binary is needed: ``to_dot`` returns text that any Graphviz viewer renders.
"""
from __future__ import annotations

import contextlib

from .function import Context, _trace
from .tensor import Tensor


def _walk(t):
    """(nodes, edges, leaves) reachable from tensor ``t``; edges go from input to consumer."""
    nodes, edges, leaves, seen = [], [], [], set()
    stack = [t.grad_fn] if t.grad_fn is not None else []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        nodes.append(n)
        for nx in n.next:
            if nx is None:
                continue
            if type(nx) is Context:
                edges.append((nx, n))
                stack.append(nx)
            else:
                if all(nx is not lf for lf in leaves):
                    leaves.append(nx)
                edges.append((nx, n))
    return nodes, edges, leaves


def _label(obj, names):
    if isinstance(obj, Tensor):
        nm = names.get(id(obj), "leaf")
        return f"{nm} {tuple(obj.shape)}"
    return obj.name()


def to_dot(t, names=None) -> str:
    """Graphviz DOT text of the graph behind ``t``; ``names`` maps leaf tensors to labels."""
    names = {id(v): k for k, v in (names or {}).items()}
    nodes, edges, leaves = _walk(t)
    lines = ["digraph G {", "  rankdir=BT;"]
    for lf in leaves:
        lines.append(f'  n{id(lf)} [label="{_label(lf, names)}", shape=box, style=filled, fillcolor=lightblue];')
    for n in nodes:
        lines.append(f'  n{id(n)} [label="{n.name()}"];')
    lines.append(f'  out [label="output {tuple(t.shape)}", shape=box, style=filled, fillcolor=lightgreen];')
    if t.grad_fn is not None:
        lines.append(f"  n{id(t.grad_fn)} -> out;")
    for a, b in edges:
        lines.append(f"  n{id(a)} -> n{id(b)};")
    lines.append("}")
    return "\n".join(lines)


def to_mermaid(t, names=None) -> str:
    """Mermaid flowchart text (renders in Jupyter/GitHub Markdown)."""
    names = {id(v): k for k, v in (names or {}).items()}
    nodes, edges, leaves = _walk(t)
    lines = ["flowchart BT"]
    for lf in leaves:
        lines.append(f'  n{id(lf)}["{_label(lf, names)}"]')
    for n in nodes:
        lines.append(f'  n{id(n)}("{n.name()}")')
    for a, b in edges:
        lines.append(f"  n{id(a)} --> n{id(b)}")
    return "\n".join(lines)


def to_text(t, names=None) -> str:
    """Indented tree of the graph, output at the top (shared subgraphs printed once)."""
    names = {id(v): k for k, v in (names or {}).items()}
    out, seen = [], set()

    def rec(obj, depth):
        if isinstance(obj, Tensor):
            out.append("  " * depth + _label(obj, names))
            return
        mark = " (shown above)" if id(obj) in seen else ""
        out.append("  " * depth + obj.name() + mark)
        if mark:
            return
        seen.add(id(obj))
        for nx in obj.next:
            if nx is not None:
                rec(nx, depth + 1)

    if t.grad_fn is None:
        return _label(t, names)
    rec(t.grad_fn, 0)
    return "\n".join(out)


@contextlib.contextmanager
def trace_backward(printer=print):
    """Print one line per backward step: the node, the incoming gradient's shape and what it returns,
    including where the engine sums a broadcast gradient down to an input's shape."""

    def hook(node, g, in_grads):
        parts = []
        for shape, gi in zip(node.in_shapes, in_grads):
            if gi is None or shape is None:
                continue
            gshape = tuple(gi.shape)
            note = f" -> un-broadcast to {tuple(shape)}" if gshape != tuple(shape) else ""
            parts.append(f"{gshape}{note}")
        printer(f"{node.name()}: grad_out {tuple(g.shape)} -> grads [{', '.join(parts)}]")

    prev = _trace[0]
    _trace[0] = hook
    try:
        yield
    finally:
        _trace[0] = prev


def saved_tensors(t):
    """The distinct tensors the graph behind ``t`` keeps alive for ``backward`` (saved inputs, saved
    outputs, each array once), in graph order from ``t``: what an autograd engine must hold in memory
    between the forward and the backward pass. ``sum(x.nbytes for x in saved_tensors(loss))`` is the
    activation (and weight) memory of a training step. Empty for a leaf or after ``backward()`` freed
    the graph."""
    from .tensor import _wrap

    nodes, _, _ = _walk(t)
    out, seen = [], set()
    for n in nodes:
        if n._freed:
            continue
        kept = list(n._saved) + ([n._out[0]] if n._out is not None else [])
        for s in kept:
            if s is None:
                continue
            arr = s._data if isinstance(s, Tensor) else s  # some ops keep a raw array (a mask, an index)
            if id(arr) in seen or not hasattr(arr, "shape"):
                continue
            seen.add(id(arr))
            out.append(s if isinstance(s, Tensor) else _wrap(arr, t.backend))
    return out
