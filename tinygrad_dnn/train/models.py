"""Ready-made models for the lectures' experiments: :class:`MLP`, :class:`ResidualMLP`,
:class:`CNN1d` (MNIST-1D) and :class:`CNN2d` (8x8 digits); :func:`build_model` picks one by name.

All are ordinary ``nn.Module`` compositions of public layers (Linear, BatchNorm1d/2d, Dropout,
Conv1d/Conv2d, pooling), so ``summary()``, ``state_dict()`` and hooks work on them.
"""
from __future__ import annotations

from tinygrad_dnn import nn

ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": lambda: nn.ELU(),
    "gelu": lambda: nn.GELU(),
    "tanh": lambda: nn.Tanh(),
    "sigmoid": lambda: nn.Sigmoid(),
    "softplus": lambda: nn.Softplus(),
}
BATCHNORM_CHOICES = (None, "none", "before", "after")


def make_activation(name):
    """An activation module by name (``relu``, ``leaky_relu``, ``elu``, ``gelu``, ``tanh``, ``sigmoid``,
    ``softplus``), or a module class/instance passed through."""
    if isinstance(name, nn.Module):
        return name
    if isinstance(name, type) and issubclass(name, nn.Module):
        return name()
    key = str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]()


def _check_bn(batchnorm):
    if batchnorm not in BATCHNORM_CHOICES:
        raise ValueError(f"batchnorm must be None, 'before' or 'after' (the activation), got {batchnorm!r}")
    return None if batchnorm == "none" else batchnorm


def _check_dropout(p):
    if not 0.0 <= float(p) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {p}")
    return float(p)


def _block(in_f, out_f, activation, batchnorm, dropout):
    """Linear -> [BN] -> act -> [BN] -> [Dropout]. With BN before the activation the Linear has no bias
    (BN's shift replaces it)."""
    layers = [nn.Linear(in_f, out_f, bias=batchnorm != "before")]
    if batchnorm == "before":
        layers.append(nn.BatchNorm1d(out_f))
    layers.append(make_activation(activation))
    if batchnorm == "after":
        layers.append(nn.BatchNorm1d(out_f))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return layers


class MLP(nn.Module):
    """A multilayer perceptron: ``in_features -> hidden[0] -> ... -> out_features``.

    Args:
        in_features, out_features: input and output sizes (inputs with more dims are flattened).
        hidden: a list of hidden widths, or None to use ``depth`` layers of ``width`` units.
        activation: name or module class (default ``relu``).
        batchnorm: None, ``'before'`` or ``'after'`` the activation.
        dropout: drop probability after each hidden block (0 = none).
    """

    def __init__(self, in_features, out_features, hidden=None, depth=2, width=256, activation="relu",
                 batchnorm=None, dropout=0.0):
        super().__init__()
        batchnorm, dropout = _check_bn(batchnorm), _check_dropout(dropout)
        hidden = list(hidden) if hidden is not None else [int(width)] * int(depth)
        if any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden sizes must be positive, got {hidden}")
        self.in_features, self.out_features, self.hidden = int(in_features), int(out_features), hidden
        layers = [nn.Flatten()]
        prev = self.in_features
        for h in hidden:
            layers += _block(prev, int(h), activation, batchnorm, dropout)
            prev = int(h)
        layers.append(nn.Linear(prev, self.out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class ResidualBlock(nn.Module):
    """``x + f(x)`` with ``f`` = [BN] -> act -> Linear -> [BN] -> act -> [Dropout] -> Linear (pre-activation
    style when ``batchnorm='before'``; BN after each activation with ``'after'``)."""

    def __init__(self, width, activation="relu", batchnorm=None, dropout=0.0):
        super().__init__()
        layers = []
        for i in range(2):
            if batchnorm == "before":
                layers.append(nn.BatchNorm1d(width))
            layers.append(make_activation(activation))
            if batchnorm == "after":
                layers.append(nn.BatchNorm1d(width))
            if i == 1 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.Linear(width, width))
        self.f = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.f(x)


class ResidualMLP(nn.Module):
    """Linear(in, width) -> ``n_blocks`` :class:`ResidualBlock` s -> act -> Linear(width, out)."""

    def __init__(self, in_features, out_features, width=128, n_blocks=2, activation="relu", batchnorm=None,
                 dropout=0.0):
        super().__init__()
        batchnorm, dropout = _check_bn(batchnorm), _check_dropout(dropout)
        self.flatten = nn.Flatten()
        self.stem = nn.Linear(in_features, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width, activation, batchnorm, dropout) for _ in range(n_blocks)])
        tail = []
        if batchnorm is not None:
            tail.append(nn.BatchNorm1d(width))
        tail.append(make_activation(activation))
        self.head = nn.Sequential(*tail, nn.Linear(width, out_features))

    def forward(self, x):
        return self.head(self.blocks(self.stem(self.flatten(x))))


class CNN1d(nn.Module):
    """A small 1-D CNN for MNIST-1D (input (N, 1, L) or (N, L)).

    Three blocks Conv1d(k=5, padding 2) -> [BatchNorm1d] -> ReLU, the last two followed by MaxPool1d(2);
    then Flatten -> [Dropout] -> Linear(channels * L/4, out).
    """

    def __init__(self, length=40, out_features=10, channels=32, in_channels=1, batchnorm=True, dropout=0.0,
                 activation="relu"):
        super().__init__()
        dropout = _check_dropout(dropout)
        layers, c_in, L = [], in_channels, int(length)
        for i in range(3):
            layers.append(nn.Conv1d(c_in, channels, 5, padding=2, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm1d(channels))
            layers.append(make_activation(activation))
            if i > 0:
                layers.append(nn.MaxPool1d(2))
                L //= 2
            c_in = channels
        layers.append(nn.Flatten())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(channels * L, out_features))
        self.in_channels = in_channels
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim == 2:
            x = x.unsqueeze(1)
        return self.net(x)


class CNN2d(nn.Module):
    """A small 2-D CNN for 8x8 digits (input (N, 1, 8, 8) or (N, 64)).

    Conv(1->c, 3, pad 1) -> [BN] -> ReLU -> Conv(c->2c, 3, pad 1) -> [BN] -> ReLU -> MaxPool(2)
    -> Conv(2c->2c, 3, pad 1) -> [BN] -> ReLU -> MaxPool(2) -> Flatten -> [Dropout] -> Linear(2c*2*2, out).
    """

    def __init__(self, out_features=10, channels=16, in_channels=1, size=8, batchnorm=True, dropout=0.0,
                 activation="relu"):
        super().__init__()
        dropout = _check_dropout(dropout)
        c = channels

        def conv(ci, co):
            mods = [nn.Conv2d(ci, co, 3, padding=1, bias=not batchnorm)]
            if batchnorm:
                mods.append(nn.BatchNorm2d(co))
            mods.append(make_activation(activation))
            return mods

        layers = conv(in_channels, c) + conv(c, 2 * c) + [nn.MaxPool2d(2)] + conv(2 * c, 2 * c) + [nn.MaxPool2d(2)]
        layers.append(nn.Flatten())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(2 * c * (size // 4) ** 2, out_features))
        self.size, self.in_channels = size, in_channels
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim == 2:
            x = x.reshape(x.shape[0], self.in_channels, self.size, self.size)
        return self.net(x)


class GRUClassifier(nn.Module):
    """Recurrent classifier for 1-D signals (the MNIST-1D reference GRU, Greydanus 2020): the signal is read
    one sample per time step by a bidirectional GRU, and a Linear layer classifies all time steps' hidden
    states, flattened: (N, L) -> GRU -> (N, L, 2H) -> (N, 2HL) -> (N, classes)."""

    def __init__(self, length=40, out_features=10, hidden_size=6, in_channels=1, bidirectional=True, num_layers=1):
        super().__init__()
        self.length, self.in_channels = length, in_channels
        self.gru = nn.GRU(in_channels, hidden_size, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional)
        self.linear = nn.Linear(hidden_size * length * (2 if bidirectional else 1), out_features)

    def forward(self, x):
        if x.ndim == 3:  # (N, C, L) -> (N, L, C)
            x = x.transpose(1, 2)
        else:
            x = x.reshape(x.shape[0], self.length, self.in_channels)
        out, _ = self.gru(x)
        return self.linear(out.reshape(out.shape[0], -1))


MODELS = ("mlp", "resmlp", "cnn", "gru")


def build_model(name, input_shape, num_classes, hidden=None, depth=2, width=256, activation="relu",
                batchnorm=None, dropout=0.0, channels=None):
    """A model by name for inputs of ``input_shape`` (one sample, no batch dim).

    ``mlp`` -> :class:`MLP`; ``resmlp`` -> :class:`ResidualMLP` (``depth`` blocks of ``width``);
    ``cnn`` -> :class:`CNN1d` for 1-D signals (``(L,)`` or ``(C, L)``), :class:`CNN2d` for square images
    ``(C, H, W)``; ``gru`` -> :class:`GRUClassifier` for 1-D signals (hidden size ``channels``, default 32;
    the reference used 6).
    """
    input_shape = tuple(int(s) for s in input_shape)
    n_in = 1
    for s in input_shape:
        n_in *= s
    if name == "mlp":
        return MLP(n_in, num_classes, hidden=hidden, depth=depth, width=width, activation=activation,
                   batchnorm=batchnorm, dropout=dropout)
    if name == "resmlp":
        return ResidualMLP(n_in, num_classes, width=width, n_blocks=depth, activation=activation,
                           batchnorm=batchnorm, dropout=dropout)
    if name == "cnn":
        bn = batchnorm is not None and batchnorm != "none"
        if len(input_shape) == 3:
            size, c_in = input_shape[-1], input_shape[0]
            if size < 4:
                raise ValueError(f"cnn: images of size {size} are too small (need >= 4)")
            return CNN2d(num_classes, channels=channels or 16, in_channels=c_in, size=size, batchnorm=bn,
                         dropout=dropout, activation=activation)
        if len(input_shape) in (1, 2):
            length = input_shape[-1]
            c_in = input_shape[0] if len(input_shape) == 2 else 1
            if length < 4:
                raise ValueError(f"cnn: signals of length {length} are too short for the 1-D CNN (need >= 4); "
                                 "use --model mlp for 2-D point data")
            return CNN1d(length, num_classes, channels=channels or 32, in_channels=c_in, batchnorm=bn,
                         dropout=dropout, activation=activation)
        raise ValueError(f"cnn: no CNN for inputs of shape {input_shape}")
    if name == "gru":
        if len(input_shape) not in (1, 2):
            raise ValueError(f"gru: needs 1-D signals of shape (L,) or (C, L), got inputs of shape {input_shape}")
        c_in = input_shape[0] if len(input_shape) == 2 else 1
        return GRUClassifier(input_shape[-1], num_classes, hidden_size=channels or 32, in_channels=c_in)
    raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
