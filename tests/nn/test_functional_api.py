"""The ``torch.nn`` / ``torch.nn.functional`` / ``torch.nn.init`` / ``torch.nn.utils`` namespaces."""
import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.nn import functional as F


def test_namespaces_like_pytorch():
    for name in ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Identity", "Flatten",
                 "Unflatten", "Maxout", "PReLU", "Residual", "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh",
                 "Softplus", "Softmax", "LogSoftmax", "Dropout", "Dropout2d", "GaussianNoise", "MSELoss", "L1Loss",
                 "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
                 "KLDivLoss", "HingeEmbeddingLoss", "MultiMarginLoss"]:
        assert hasattr(torch.nn, name), name
    for name in ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
                 "linear", "dropout", "dropout2d", "one_hot", "pad", "mse_loss", "cross_entropy", "nll_loss",
                 "binary_cross_entropy_with_logits", "kl_div"]:
        assert callable(getattr(torch.nn.functional, name)), name
    assert callable(torch.nn.init.kaiming_uniform_) and callable(torch.nn.utils.clip_grad_norm_)


def test_linear_functional_matches_module_and_errors():
    m = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    assert np.allclose(F.linear(x, m.weight, m.bias).numpy(), m(x).numpy())
    assert np.allclose(F.linear(x, m.weight).numpy(), (x @ m.weight.T).numpy(), atol=1e-6)
    with pytest.raises(RuntimeError, match=r"input of shape \(4, 3\) does not match weight of shape \(2, 4\)"):
        F.linear(x, torch.randn(2, 4))
    with pytest.raises(RuntimeError, match="bias of shape"):
        F.linear(x, m.weight, torch.zeros(3))


def test_one_hot_and_pad():
    oh = F.one_hot(torch.tensor([0, 2, 1]), 4)
    assert oh.dtype == torch.int64 and oh.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert tuple(F.one_hot(torch.tensor([[1, 3]])).shape) == (1, 2, 4)
    with pytest.raises(ValueError, match=r"must be in \[0, 3\)"):
        F.one_hot(torch.tensor([0, 3]), 3)
    y = F.pad(torch.ones(2, 3), (1, 2))
    assert tuple(y.shape) == (2, 6) and y.numpy()[:, 0].sum() == 0


def test_clip_grad_utils_delegate_to_optim():
    m = nn.Linear(4, 4)
    (m(torch.randn(8, 4)) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    assert float(total) > 1.0
    norm = sum(float((p.grad * p.grad).sum()) for p in m.parameters()) ** 0.5
    assert abs(norm - 1.0) < 1e-4
    nn.utils.clip_grad_value_(m.parameters(), 0.01)
    assert all(float(p.grad.abs().max()) <= 0.01 + 1e-9 for p in m.parameters())


def test_parameters_vector_roundtrip():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    v = nn.utils.parameters_to_vector(m.parameters())
    assert tuple(v.shape) == (m.num_parameters(),)
    nn.utils.vector_to_parameters(v * 0.0 + 1.0, m.parameters())
    assert all(np.all(p.numpy() == 1.0) for p in m.parameters())
