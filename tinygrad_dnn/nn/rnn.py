"""Recurrent layers: RNN (tanh / relu), LSTM, GRU and their single-step cells, with PyTorch's math,
gate order, parameter names and shapes (so a PyTorch ``state_dict`` loads and gives the same outputs).

One step of each cell, with x_t the input, h the previous hidden state (rows are batch entries)::

    RNN:  h' = act(x_t W_ih^T + b_ih + h W_hh^T + b_hh)                      act = tanh or relu
    LSTM: [i, f, g, o] = x_t W_ih^T + b_ih + h W_hh^T + b_hh   (4 chunks of H, in this order)
          i, f, o = sigmoid(.),  g = tanh(.)
          c' = f * c + i * g,   h' = o * tanh(c')
    GRU:  [r, z, n]: r = sigmoid(x_r + h_r),  z = sigmoid(x_z + h_z)      (x_* = x_t W_i*^T + b_i*,
          n = tanh(x_n + r * h_n),  h' = (1 - z) * n + z * h                  h_* = h W_h*^T + b_h*)

How it is computed (speed and backprop through time):

* The input projection ``x W_ih^T + b_ih`` of ALL time steps is one matmul per layer and direction.
* The recurrence over time is one autograd node (:class:`Recurrence`): its forward loops over time
  on backend arrays (no graph nodes per step) and keeps the gates; its backward is BPTT written out
  (the gradient flows from step T back to step 1, adding each step's contribution to dW_hh, db_hh).
* Under ``create_graph=True`` (second derivatives) the backward re-runs the same formulas with
  Tensor ops, so the gradient is itself differentiable.

Layers: ``num_layers`` stacked (layer k's input is layer k-1's output), ``bidirectional`` runs a
second recurrence over the reversed sequence and concatenates the two outputs on the feature dim;
``dropout`` is applied to every layer's output except the last, in training mode only.
"""
from __future__ import annotations

import math

from ..autograd import creation as C
from ..autograd.function import Function
from ..autograd.grad_mode import _grad_enabled
from ..autograd.tensor import Tensor, _wrap
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----------------------------------------------------------------------------- the recurrence
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
        return C.cat(parts, -1)

    def lstm_gate_slopes(self, s, g, H):
        d = s * (1.0 - s)
        return C.cat([d[:, :2 * H], 1.0 - g * g, d[:, 3 * H:]], -1)

    def stack(self, parts):
        return C.stack(parts)

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
            res = tuple(None if r is None else _wrap(r, be) for r in res)
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


def _check_float_input(name, x, w):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(x).__name__}")
    if x.dtype is not w.dtype:
        raise ValueError(f"{name}: input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). Convert input: "
                         f"input.to({w.dtype}), or convert model: model.to({x.dtype})")
    if x.backend is not w.backend:
        raise RuntimeError(f"{name}: input on {x.device} but weights on {w.device}; move one with .to(device)")


# ----------------------------------------------------------------------------- layers
class RNNBase(Module):
    """Shared parts of RNN, LSTM and GRU: parameters ``weight_ih_l{k}[_reverse]`` (G*H, in),
    ``weight_hh_l{k}[_reverse]`` (G*H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H,), with G = 1 (RNN),
    4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n); all initialised U(-1/sqrt(H), 1/sqrt(H)) as PyTorch."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"{name}: hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be greater than zero, got {hidden_size}")
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size (LSTM with projections) is not implemented; use proj_size=0")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), bool(batch_first)
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), 0
        if dropout > 0 and num_layers == 1:
            import warnings

            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        G = _GATES[mode]
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                in_size = input_size if layer == 0 else hidden_size * dirs
                names = [("weight_ih" + suffix, (G * hidden_size, in_size)),
                         ("weight_hh" + suffix, (G * hidden_size, hidden_size))]
                if bias:
                    names += [("bias_ih" + suffix, (G * hidden_size,)), ("bias_hh" + suffix, (G * hidden_size,))]
                for n, shape in names:
                    setattr(self, n, Parameter(C.empty(*shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(n)
        self.reset_parameters()

    def reset_parameters(self):
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def flatten_parameters(self):
        """No-op (cuDNN weight packing in PyTorch); kept so tutorial code runs."""

    @property
    def all_weights(self):
        dirs = 2 if self.bidirectional else 1
        per = 4 if self.bias else 2
        ws = [getattr(self, n) for n in self._flat_weights_names]
        return [ws[i * per:(i + 1) * per] for i in range(self.num_layers * dirs)]

    def _weights(self, layer, d):
        s = f"_l{layer}" + ("_reverse" if d == 1 else "")
        if self.bias:
            return (getattr(self, "weight_ih" + s), getattr(self, "weight_hh" + s), getattr(self, "bias_ih" + s),
                    getattr(self, "bias_hh" + s))
        return getattr(self, "weight_ih" + s), getattr(self, "weight_hh" + s), None, None

    def _check_hidden(self, hx, expected, what):
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: Expected {what} size {expected}, got {list(hx.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        w0 = self.weight_ih_l0
        _check_float_input(name, input, w0)
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        batched = input.ndim == 3
        lstm = self.mode == "LSTM"
        x = input
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        T, B = x.shape[0], x.shape[1]
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        if T == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN (input shape "
                               f"{tuple(input.shape)})")
        dirs = 2 if self.bidirectional else 1
        L, H = self.num_layers * dirs, self.hidden_size
        hs = [hx] if not lstm else (list(hx) if hx is not None else [None])
        if lstm and hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise RuntimeError(f"{name}: hx must be a tuple (h_0, c_0) for LSTM, got {type(hx).__name__}")
        states = []
        for k, h in enumerate(hs):
            if h is None:
                states.append(None)
                continue
            _check_float_input(name, h, w0)
            if not batched and h.ndim != 2:
                raise RuntimeError(f"{name}: For unbatched 2-D input, hx should also be 2-D but got {h.ndim}-D tensor")
            if batched and h.ndim != 3:
                raise RuntimeError(f"{name}: For batched 3-D input, hx should also be 3-D but got {h.ndim}-D tensor")
            if not batched:
                h = h.unsqueeze(1)
            what = "hidden" if not lstm else f"hidden[{k}]"
            self._check_hidden(h, (L, B, H), what)
            states.append(h)
        if lstm and states[0] is not None:
            h0, c0 = states
        else:
            h0 = c0 = None
            if states[0] is not None:
                h0 = states[0]
        zeros = None
        if h0 is None or (lstm and c0 is None):
            zeros = C.zeros(B, H, dtype=w0.dtype, device=w0.device)
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                idx = layer * dirs + d
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                xw = F.linear(layer_in, w_ih, b_ih)
                h_init = zeros if h0 is None else h0[idx]
                c_init = None if not lstm else (zeros if c0 is None else c0[idx])
                out, hn, cn = _recurrence(self.mode, d == 1, xw, h_init, c_init, w_hh, b_hh)
                outs.append(out)
                h_n.append(hn)
                c_n.append(cn)
            layer_in = outs[0] if dirs == 1 else C.cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        output = layer_in
        h_n = C.stack(h_n)
        c_n = C.stack(c_n) if lstm else None
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh (default) or relu.

    Input (T, B, in) (or (B, T, in) with batch_first, or unbatched (T, in)); h_0 (layers*dirs, B, H).
    Returns (output (T, B, dirs*H), h_n (layers*dirs, B, H)).
    """

    def __init__(self, *args, nonlinearity="tanh", **kwargs):
        if len(args) > 3:  # positional (input_size, hidden_size, num_layers, nonlinearity, bias, ...) as torch
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), gates in PyTorch's order i, f, g, o.

    Returns (output (T, B, dirs*H), (h_n, c_n)), both states (layers*dirs, B, H).
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014), gates in PyTorch's order r, z, n with
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)). Returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


# ----------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One time step. Parameters ``weight_ih`` (G*H, in), ``weight_hh`` (G*H, H), ``bias_ih``,
    ``bias_hh`` (G*H,), initialised U(-1/sqrt(H), 1/sqrt(H)). Input (B, in) or unbatched (in,)."""

    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        G = _GATES[mode]
        self.mode, self.input_size, self.hidden_size, self.bias = mode, int(input_size), int(hidden_size), bool(bias)
        self.weight_ih = Parameter(C.empty(G * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(C.empty(G * hidden_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(C.empty(G * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(C.empty(G * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _step(self, input, hx):
        name = type(self).__name__
        _check_float_input(name, input, self.weight_ih)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        B, H = x.shape[0], self.hidden_size
        lstm = self.mode == "LSTM"
        if hx is None:
            z = C.zeros(B, H, dtype=x.dtype, device=x.device)
            states = [z, z] if lstm else [z]
        else:
            states = list(hx) if lstm else [hx]
            for k, h in enumerate(states):
                _check_float_input(name, h, self.weight_ih)
                if h.ndim != input.ndim:
                    raise RuntimeError(f"{name}: Expected hidden to be {input.ndim}D for {input.ndim}D input, got "
                                       f"{h.ndim}D (shape {tuple(h.shape)})")
                h = h if batched else h.unsqueeze(0)
                if h.shape[0] != B:
                    raise RuntimeError(f"{name}: Input batch size {B} doesn't match hidden{k} batch size {h.shape[0]}")
                if h.shape[1] != H:
                    raise RuntimeError(f"{name}: hidden{k} has inconsistent hidden_size: got {h.shape[1]}, "
                                       f"expected {H}")
                states[k] = h
        xw = F.linear(x, self.weight_ih, self.bias_ih).unsqueeze(0)
        _, h, c = _recurrence(self.mode, False, xw, states[0], states[1] if lstm else None, self.weight_hh,
                              self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if lstm else None
        return (h, c) if lstm else h

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias,
                         device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c') (gates i, f, g, o)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)


class GRUCell(RNNCellBase):
    """One GRU step: returns h' (gates r, z, n)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)
