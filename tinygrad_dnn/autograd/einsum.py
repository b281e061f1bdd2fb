"""``torch.einsum`` and ``torch.meshgrid``, written with Tensor ops (so both are differentiable)."""
from __future__ import annotations

import builtins
import collections


def einsum(equation, *operands):
    """Einstein summation (``torch.einsum``): repeated labels take a diagonal, then the operands are
    contracted left to right, each pair as one batched matmul (permute/expand/reshape/matmul), and labels
    no later operand or the output uses are summed. Differentiable in every operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    ell = ""
    if "..." in eq:  # '...' becomes private labels, aligned from the right (broadcasting)
        n_ell = builtins.max((op.ndim - len(t.replace("...", "")) for t, op in zip(terms, operands) if "..." in t),
                             default=0)
        ell = "".join(chr(0x100 + k) for k in range(builtins.max(n_ell, 0)))
        terms = [t.replace("...", ell[len(ell) - (op.ndim - len(t.replace("...", ""))):] if op.ndim > len(
            t.replace("...", "")) else "") for t, op in zip(terms, operands)]
        if out is not None:
            out = out.replace("...", ell)
    if out is None:
        counts = collections.Counter("".join(terms))
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    sizes = {}
    aligned = []
    for term, op in zip(terms, operands):
        if len(term) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                               f"the number of dimensions ({op.ndim}) for operand {len(aligned)} and no ellipsis "
                               "was given")
        x, t = op, term
        while len(set(t)) != len(t):  # a repeated label: take the diagonal
            c = next(ch for ch in t if t.count(ch) > 1)
            i = t.index(c)
            j = t.index(c, i + 1)
            x = x.diagonal(0, i, j)
            t = t[:i] + t[i + 1:j] + t[j + 1:] + c
        for c, s in zip(t, x.shape):
            if c in sizes and sizes[c] != s and s != 1 and sizes[c] != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                                   f"subscript {c} has size {s} for an operand and {sizes[c]} for another")
            sizes[c] = builtins.max(sizes.get(c, 1), s)
        aligned.append((x, t))
    # contract left to right, each pair as one batched matmul; a label is summed as soon as no later
    # operand and not the output uses it
    x, t = aligned[0]
    for k in range(1, len(aligned)):
        later = set(out).union(*(set(tt) for _, tt in aligned[k + 1:]))
        y, u = aligned[k]
        x, t = _contract(x, t, y, u, later, sizes)
    x, t = _sum_labels(x, t, set(out))
    full = tuple(sizes[c] for c in t)
    if tuple(x.shape) != full:
        x = x.expand(full)
    perm = [t.index(c) for c in out]
    return x.permute(*perm) if perm != list(range(len(perm))) else x


def _sum_labels(x, t, keep):
    """Sum ``x`` (labels ``t``) over the labels not in ``keep``."""
    red = tuple(k for k, c in enumerate(t) if c not in keep)
    if not red:
        return x, t
    return x.sum(dim=red), "".join(c for c in t if c in keep)


def _contract(a, ta, b, tb, keep, sizes):
    """einsum of two operands keeping the labels in ``keep``: a batched matmul over the shared labels."""
    a, ta = _sum_labels(a, ta, keep | set(tb))
    b, tb = _sum_labels(b, tb, keep | set(ta))
    batch = [c for c in ta if c in tb and c in keep]
    contr = [c for c in ta if c in tb and c not in keep]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]

    def arrange(x, t, order):
        perm = [t.index(c) for c in order]
        x = x.permute(*perm) if perm != list(range(len(perm))) else x
        full = tuple(sizes[c] for c in order)
        return x.expand(full) if tuple(x.shape) != full else x

    def size(cs):
        n = 1
        for c in cs:
            n *= sizes[c]
        return n

    A = arrange(a, ta, batch + left + contr).reshape(size(batch), size(left), size(contr))
    B = arrange(b, tb, batch + contr + right).reshape(size(batch), size(contr), size(right))
    y = (A @ B).reshape(tuple(sizes[c] for c in batch + left + right))
    return y, "".join(batch + left + right)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-d tensors; indexing 'ij' (the default, as torch) or 'xy'."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    ts = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    n = len(ts)
    out = [t.reshape(tuple(-1 if k == i else 1 for k in range(n))).expand(shape) for i, t in enumerate(ts)]
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)
