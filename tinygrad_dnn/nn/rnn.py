"""Recurrent layers: RNN (tanh / relu), LSTM, GRU and their single-step cells, with PyTorch's math,
gate order, parameter names and shapes (so a PyTorch ``state_dict`` loads and gives the same outputs).

One step of each cell, with x_t the input, h the previous hidden state (rows are batch entries)::

    RNN:  h' = act(x_t W_ih^T + b_ih + h W_hh^T + b_hh)                      act = tanh or relu
    LSTM: [i, f, g, o] = x_t W_ih^T + b_ih + h W_hh^T + b_hh   (4 chunks of H, in this order)
          i, f, o = sigmoid(.),  g = tanh(.)
          c' = f * c + i * g,   h' = o * tanh(c')
    GRU:  [r, z, n]: r = sigmoid(x_r + h_r),  z = sigmoid(x_z + h_z)      (x_* = x_t W_i*^T + b_i*,
          n = tanh(x_n + r * h_n),  h' = (1 - z) * n + z * h                  h_* = h W_h*^T + b_h*)

How it is computed: the input projection of all time steps is one matmul per layer and direction;
the recurrence over time is one Function, ``Recurrence`` in ``autograd/ops/rnn.py`` (forward loop on
arrays, backpropagation through time written out, differentiable again under ``create_graph``).

Layers: ``num_layers`` stacked (layer k's input is layer k-1's output), ``bidirectional`` runs a
second recurrence over the reversed sequence and concatenates the two outputs on the feature dim;
``dropout`` is applied to every layer's output except the last, in training mode only.
"""
from __future__ import annotations

import math

from ..autograd import creation as C
from ..autograd import joining as J
from ..autograd.errors import check_same_device
from ..autograd.ops.rnn import _GATES, _recurrence
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]



def _check_float_input(name, x, w):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(x).__name__}")
    if x.dtype is not w.dtype:
        raise ValueError(f"{name}: input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). Convert input: "
                         f"input.to({w.dtype}), or convert model: model.to({x.dtype})")
    if x.backend is not w.backend:
        check_same_device(name, input=x, weights=w)


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
            layer_in = outs[0] if dirs == 1 else J.cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        output = layer_in
        h_n = J.stack(h_n)
        c_n = J.stack(c_n) if lstm else None
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
