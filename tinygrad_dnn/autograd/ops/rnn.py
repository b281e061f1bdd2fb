"""The recurrence of RNN/LSTM/GRU as one Function (``nn/rnn.py`` builds the layers on it).

How it is computed (speed and backprop through time):

* The input projection ``x W_ih^T + b_ih`` of ALL time steps is one matmul per layer and direction.
* The recurrence over time is one autograd node (:class:`Recurrence`): its forward loops over time
  on backend arrays (no graph nodes per step) and keeps the gates; its backward is BPTT written out
  (the gradient flows from step T back to step 1, adding each step's contribution to dW_hh, db_hh).
* Under ``create_graph=True`` (second derivatives) the backward re-runs the same formulas with
  Tensor ops, so the gradient is itself differentiable.
"""
from __future__ import annotations

from .. import function as _function
from .. import joining as J
from ..function import Function
from ..grad_mode import _grad_enabled

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


def _bptt(o, mode, outs, saved, g_out, g_h, g_c, w_hh, reverse):
    """Backprop through time. g_out (T, B, H): gradient of every output; g_h, g_c: of h_n, c_n.
    Returns d(xw) (T, B, G*H), dh0, dc0, dW_hh, db_hh."""
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
    d_xw = o.stack(dxw)
    d_hw = d_xw if mode != "GRU" else o.stack(dhw)
    G = d_hw.shape[-1]
    h_prevs = o.stack([saved[t][0] for t in range(T)])
    dW = o.flat(d_hw, G).T @ o.flat(h_prevs, H)
    return d_xw, dh, dc, dW, o.sum01(d_hw)


class Recurrence(Function):
    """One layer, one direction of an RNN / LSTM / GRU over a whole sequence, as one node.

    Inputs: ``xw`` (T, B, G*H) = x W_ih^T + b_ih for every step, ``h0`` (B, H), ``c0`` (B, H) or None,
    ``w_hh`` (G*H, H), ``b_hh`` (G*H,) or None. Output: (T + 1, B, H) = [h_1 .. h_T, h_n] for RNN/GRU,
    (T + 2, B, H) = [h_1 .. h_T, h_n, c_n] for LSTM (``reverse``: h_n is the state after step 1).
    Backward: BPTT (see the module docstring); with ``create_graph`` it is built from Tensor ops.
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
        xw, h0, c0, w_hh, b_hh = ctx.saved_tensors
        mode, reverse, T = ctx.mode, ctx.reverse, xw.shape[0]
        lstm = mode == "LSTM"
        if _grad_enabled[0]:  # create_graph: recompute with Tensor ops so this gradient is differentiable
            o = _TensorOps()
            outs, _, _, saved = _run(o, mode, xw, h0, c0, w_hh, b_hh, reverse)
            res = _bptt(o, mode, outs, saved, g, g[T], g[T + 1] if lstm else None, w_hh, reverse)
        else:
            be = g.backend
            outs, saved = ctx.raw
            gd = g._data
            res = _bptt(_ArrayOps(be.xp), mode, outs, saved, gd, gd[T, ...], gd[T + 1, ...] if lstm else None,
                        w_hh._data, reverse)
            res = tuple(None if r is None else _function._wrap(r, be) for r in res)
        d_xw, dh0, dc0, dW, db = res
        need = ctx.needs_input_grad
        return (None, None, d_xw if need[2] else None, dh0 if need[3] else None,
                dc0 if lstm and need[4] else None, dW if need[5] else None,
                db if b_hh is not None and need[6] else None)


def _recurrence(mode, reverse, xw, h0, c0, w_hh, b_hh):
    """Run :class:`Recurrence`; returns (output (T, B, H), h_n, c_n or None)."""
    T = xw.shape[0]
    y = Recurrence.apply(mode, reverse, xw, h0, c0, w_hh, b_hh)
    return y[:T], y[T], (y[T + 1] if mode == "LSTM" else None)
