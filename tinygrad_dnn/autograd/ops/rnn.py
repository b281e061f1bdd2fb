"""The recurrence of RNN/LSTM/GRU as one Function (``nn/rnn.py`` builds the layers on it).

How it is computed (speed and backprop through time):

* The input projection ``x W_ih^T + b_ih`` of ALL time steps is one matmul per layer and direction.
* The recurrence over time is one autograd node (:class:`Recurrence`): its forward loops over time
  on backend arrays (no graph nodes per step) and keeps the gates; its backward is BPTT written out
  (the gradient flows from step T back to step 1, adding each step's contribution to dW_hh, db_hh).
* The gradient is itself a Function (:class:`RecurrenceGrad`, Chainer's pattern): its forward is BPTT on
  arrays; its backward (second derivatives, ``create_graph=True``) re-runs the recurrence and BPTT with
  Tensor ops and backpropagates through them with a nested ``grad``.
"""
from __future__ import annotations

from .. import joining as J
from ..function import Function, grad
from ..grad_mode import enable_grad

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class _ArrayOps:
    """The few operations the recurrence needs, on raw backend arrays (fast path)."""

    def __init__(self, xp):
        self.xp = xp

    def sigmoid(self, a):
        # sigmoid(a) = (1 + tanh(a / 2)) / 2: never overflows, three cheap kernels (the per-step hot path)
        return 0.5 * self.xp.tanh(0.5 * a) + 0.5

    def tanh(self, a):
        return self.xp.tanh(a)

    def relu(self, a):
        return self.xp.maximum(a, 0.0)

    def transposed(self, w):  # a contiguous copy of w^T: h @ W^T per step runs ~15% faster than on a view
        out = self.xp.empty((w.shape[1], w.shape[0]), dtype=w.dtype, device=w.device)
        out[...] = w.T
        return out

    def positive(self, h, like):
        return self.xp.astype(h > 0, like.dtype)

    def cat(self, parts):
        return self.xp.concat(parts, axis=-1)

    def lstm_gate_slopes(self, s, g, H):  # [s(1-s) | s(1-s) | 1-g^2 | s(1-s)] in five kernels
        d = s * (1.0 - s)
        d[:, 2 * H:3 * H] = 1.0 - g * g
        return d

    def stack(self, parts):
        return self.xp.stack(parts)

    def step(self, a, t):
        return a[t, ...]

    def flat(self, a, n):
        return self.xp.reshape(a, (-1, n))

    def sum01(self, a):
        return self.xp.sum(a, axis=(0, 1))


class _TensorOps(_ArrayOps):
    """The same operations with differentiable Tensor ops (used for ``create_graph=True``)."""

    def __init__(self):
        pass

    def sigmoid(self, a):
        return a.sigmoid()

    def tanh(self, a):
        return a.tanh()

    def relu(self, a):
        return a.relu()

    def transposed(self, w):
        return w.T

    def positive(self, h, like):
        return (h > 0).to(like.dtype)

    def cat(self, parts):
        return J.cat(parts, -1)

    def lstm_gate_slopes(self, s, g, H):
        d = s * (1.0 - s)
        return J.cat([d[:, :2 * H], 1.0 - g * g, d[:, 3 * H:]], -1)

    def stack(self, parts):
        return J.stack(parts)

    def step(self, a, t):
        return a[t]

    def flat(self, a, n):
        return a.reshape(-1, n)

    def sum01(self, a):
        return a.sum((0, 1))


def _run(o, mode, xw, h0, c0, w_hh, b_hh, reverse):
    """Forward recurrence over xw (T, B, G*H) = input projections. Returns the hidden states in time
    order, the final h and c, and per step (h_prev, gates) for the backward."""
    T, H = xw.shape[0], h0.shape[-1]
    wT = o.transposed(w_hh)
    outs, saved = [None] * T, [None] * T
    h, c = h0, c0
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        x_t = o.step(xw, t)
        hw = h @ wT
        if b_hh is not None:
            hw = hw + b_hh
        if mode == "LSTM":
            a = x_t + hw
            s = o.sigmoid(a)
            g = o.tanh(a[:, 2 * H:3 * H])
            c_new = s[:, H:2 * H] * c + s[:, :H] * g
            tc = o.tanh(c_new)
            h_new = s[:, 3 * H:] * tc
            saved[t] = (h, (s, g, c, tc))
            c = c_new
        elif mode == "GRU":
            rz = o.sigmoid(x_t[:, :2 * H] + hw[:, :2 * H])
            hn = hw[:, 2 * H:]
            n = o.tanh(x_t[:, 2 * H:] + rz[:, :H] * hn)
            h_new = n + rz[:, H:] * (h - n)
            saved[t] = (h, (rz, n, hn))
        else:
            a = x_t + hw
            h_new = o.tanh(a) if mode == "RNN_TANH" else o.relu(a)
            saved[t] = (h, None)
        outs[t] = h_new
        h = h_new
    return outs, h, c, saved


def _bptt(o, mode, outs, saved, g_out, g_h, g_c, w_hh, reverse, d_xw_out=None):
    """Backprop through time. g_out (T, B, H): gradient of every output; g_h, g_c: of h_n, c_n.
    Returns d(xw) (T, B, G*H) (written into ``d_xw_out`` when given, arrays only), dh0, dc0, dW_hh, db_hh."""
    T = len(outs)
    H = w_hh.shape[1]
    dh, dc = g_h, g_c
    dxw, dhw = [None] * T, [None] * T
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        dh = dh + o.step(g_out, t)
        h_prev, sv = saved[t]
        if mode == "LSTM":
            s, g, c_prev, tc = sv
            i, f, og = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
            dc = dc + dh * og * (1.0 - tc * tc)
            # d(loss)/d(gate) for [i, f, g, o], times each gate's derivative [s(1-s), s(1-s), 1-g^2, s(1-s)]
            da = o.cat([dc * g, dc * c_prev, dc * i, dh * tc]) * o.lstm_gate_slopes(s, g, H)
            dc = dc * f
            dxw[t] = dhw[t] = da
            dh = da @ w_hh
        elif mode == "GRU":
            rz, n, hn = sv
            r, z = rz[:, :H], rz[:, H:]
            dan = dh * (1.0 - z) * (1.0 - n * n)
            drz = o.cat([dan * hn, dh * (h_prev - n)]) * rz * (1.0 - rz)
            dxw[t] = o.cat([drz, dan])
            dhw[t] = o.cat([drz, dan * r])
            dh = dh * z + dhw[t] @ w_hh
        else:
            h = outs[t]
            da = dh * (1.0 - h * h) if mode == "RNN_TANH" else dh * o.positive(h, dh)
            dxw[t] = dhw[t] = da
            dh = da @ w_hh
    d_xw = o.stack(dxw) if d_xw_out is None else _stack_into(d_xw_out, dxw)
    d_hw = d_xw if mode != "GRU" else o.stack(dhw)
    G = d_hw.shape[-1]
    h_prevs = o.stack([saved[t][0] for t in range(T)])
    dW = o.flat(d_hw, G).T @ o.flat(h_prevs, H)
    return d_xw, dh, dc, dW, o.sum01(d_hw)


def _stack_into(out, parts):
    for t, p in enumerate(parts):
        out[t, ...] = p
    return out


class Recurrence(Function):
    """One layer, one direction of an RNN / LSTM / GRU over a whole sequence, as one node.

    Inputs: ``xw`` (T, B, G*H) = x W_ih^T + b_ih for every step, ``h0`` (B, H), ``c0`` (B, H) or None,
    ``w_hh`` (G*H, H), ``b_hh`` (G*H,) or None. Output: (T + 1, B, H) = [h_1 .. h_T, h_n] for RNN/GRU,
    (T + 2, B, H) = [h_1 .. h_T, h_n, c_n] for LSTM (``reverse``: h_n is the state after step 1).
    Backward: BPTT (see the module docstring), computed by :class:`RecurrenceGrad`.
    """

    @staticmethod
    def forward(ctx, mode, reverse, xw, h0, c0, w_hh, b_hh):
        be = xw.backend
        o = _ArrayOps(be.xp)
        outs, h, c, saved = _run(o, mode, xw._data, h0._data, None if c0 is None else c0._data, w_hh._data,
                                 None if b_hh is None else b_hh._data, reverse)
        ctx.mode, ctx.reverse, ctx.raw = mode, reverse, (outs, saved)
        ctx.save_for_backward(xw, h0, c0, w_hh, b_hh)
        return be.xp.stack(outs + [h] + ([c] if mode == "LSTM" else []))

    @staticmethod
    def backward(ctx, g):
        ins = ctx.saved_tensors
        packed = RecurrenceGrad.apply(ctx.mode, ctx.reverse, ctx.raw, g, *ins)
        grads = _unpack(packed, [None if t is None else tuple(t.shape) for t in ins])
        return (None, None) + tuple(gi if need else None for gi, need in zip(grads, ctx.needs_input_grad[2:]))


class RecurrenceGrad(Function):
    """The gradient of :class:`Recurrence`: (g, xw, h0, c0, w_hh, b_hh) -> d_xw, dh0, dc0, dW_hh, db_hh,
    flattened and concatenated into one vector (a Function has one output; ``_unpack`` splits it).

    forward: BPTT on arrays, from the states the forward pass kept (``raw``).
    backward: the derivative of BPTT itself. It re-runs the recurrence and BPTT with Tensor ops on the
    saved inputs and backpropagates ``gg`` through them with ``grad(..., create_graph=True)``, so the
    result is differentiable again (any order).
    """

    @staticmethod
    def forward(ctx, mode, reverse, raw, g, xw, h0, c0, w_hh, b_hh):
        xp = g.backend.xp
        outs, saved = raw
        T, gd = xw.shape[0], g._data
        ins = (xw, h0, c0, w_hh, b_hh)
        sizes = [0 if t is None else t._data.size for t in ins]
        flat = xp.empty((sum(sizes),), dtype=gd.dtype, device=g.backend.device)
        res = _bptt(_ArrayOps(xp), mode, outs, saved, gd, gd[T, ...], gd[T + 1, ...] if mode == "LSTM" else None,
                    w_hh._data, reverse, d_xw_out=xp.reshape(flat[:sizes[0]], xw._data.shape))
        at = sizes[0]  # d_xw, the big one, was written in place; copy the small ones after it
        for r, n in zip(res[1:], sizes[1:]):
            if n:
                flat[at:at + n] = xp.reshape(r, (-1,))
                at += n
        ctx.mode, ctx.reverse = mode, reverse
        ctx.save_for_backward(g, xw, h0, c0, w_hh, b_hh)
        return flat

    @staticmethod
    def backward(ctx, gg):
        saved = ctx.saved_tensors
        wrt = [i for i, t in enumerate(saved) if t is not None and t.requires_grad]
        out = [None] * 6
        if not wrt:
            return (None, None, None) + tuple(out)
        with enable_grad():
            # fresh aliases (clones) of the inputs: the nested grad stops at them, so it gives the partial
            # derivatives of BPTT (g itself depends on xw through the forward), and its result stays attached
            # to the graph behind them (higher orders)
            ins = [t.clone() if i in wrt else t for i, t in enumerate(saved)]
            g, xw, h0, c0, w_hh, b_hh = ins
            T, lstm, o = xw.shape[0], ctx.mode == "LSTM", _TensorOps()
            outs, _, _, states = _run(o, ctx.mode, xw, h0, c0, w_hh, b_hh, ctx.reverse)
            res = _bptt(o, ctx.mode, outs, states, g, g[T], g[T + 1] if lstm else None, w_hh, ctx.reverse)
        ggs = _unpack(gg, [None if t is None else tuple(t.shape) for t in saved[1:]])
        pairs = [(r, gi) for r, gi in zip(res, ggs) if gi is not None and r.requires_grad]
        if pairs:
            found = grad([r for r, _ in pairs], [ins[i] for i in wrt], [gi for _, gi in pairs],
                         create_graph=True, allow_unused=True)
            for i, gi in zip(wrt, found):
                out[i] = gi
        return (None, None, None) + tuple(out)


def _unpack(flat, shapes):
    """Split a vector made by :class:`RecurrenceGrad` into pieces of ``shapes`` (None: no piece)."""
    out, at = [], 0
    for shape in shapes:
        if shape is None:
            out.append(None)
            continue
        n = 1
        for s in shape:
            n *= s
        out.append(flat[at:at + n].reshape(shape))
        at += n
    return out


def _recurrence(mode, reverse, xw, h0, c0, w_hh, b_hh):
    """Run :class:`Recurrence`; returns (output (T, B, H), h_n, c_n or None)."""
    T = xw.shape[0]
    y = Recurrence.apply(mode, reverse, xw, h0, c0, w_hh, b_hh)
    return y[:T], y[T], (y[T + 1] if mode == "LSTM" else None)
