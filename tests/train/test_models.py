"""Ready-made models: shapes, layer order, parameter counts, bad arguments."""
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn.train.models import CNN1d, CNN2d, MLP, GRUClassifier, ResidualMLP, build_model


def _types(m):
    return [type(x).__name__ for x in m.net]


def test_mlp_layouts_and_counts():
    m = MLP(2352, 10, hidden=[512])
    assert sum(p.numel() for p in m.parameters()) == 2352 * 512 + 512 + 512 * 10 + 10
    assert _types(MLP(4, 3, depth=2, width=8, batchnorm="before", dropout=0.2)) == [
        "Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert _types(MLP(4, 3, hidden=[8], batchnorm="after", activation="tanh")) == [
        "Flatten", "Linear", "Tanh", "BatchNorm1d", "Linear"]
    assert MLP(4, 3, hidden=[8], batchnorm="before").net[1].bias is None
    assert MLP(4, 3, hidden=[5, 6, 7])(tg.randn(9, 4)).shape == (9, 3)
    assert MLP(64, 10)(tg.randn(3, 1, 8, 8)).shape == (3, 10)  # flattens


@pytest.mark.parametrize("kw,match", [({"batchnorm": "middle"}, "batchnorm"), ({"dropout": 1.0}, "dropout"),
                                      ({"activation": "swishy"}, "activation"), ({"hidden": [0]}, "positive")])
def test_mlp_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        MLP(4, 3, **kw)


def test_residual_mlp_and_cnns():
    r = ResidualMLP(10, 4, width=16, n_blocks=3, batchnorm="before", dropout=0.1)
    assert r(tg.randn(5, 10)).shape == (5, 4)
    c1 = CNN1d(40, 10, channels=8)
    assert c1(tg.randn(4, 1, 40)).shape == (4, 10) and c1(tg.randn(4, 40)).shape == (4, 10)
    c2 = CNN2d(10, channels=4)
    assert c2(tg.randn(3, 1, 8, 8)).shape == (3, 10) and c2(tg.randn(3, 64)).shape == (3, 10)
    y = c2(tg.randn(3, 1, 8, 8))
    y.sum().backward()
    assert all(p.grad is not None for p in c2.parameters())


def test_build_model():
    assert isinstance(build_model("mlp", (64,), 10), MLP)
    assert isinstance(build_model("resmlp", (2,), 3), ResidualMLP)
    assert isinstance(build_model("cnn", (1, 40), 10), CNN1d)
    assert isinstance(build_model("cnn", (40,), 10), CNN1d)
    assert isinstance(build_model("cnn", (1, 8, 8), 10), CNN2d)
    assert isinstance(build_model("gru", (40,), 10), GRUClassifier)
    with pytest.raises(ValueError, match="mlp, resmlp, cnn, gru"):
        build_model("transformer", (2,), 2)
    with pytest.raises(ValueError, match="gru: needs 1-D signals"):
        build_model("gru", (1, 8, 8), 10)
    with pytest.raises(ValueError, match="too short"):
        build_model("cnn", (2,), 2)


def test_gru_classifier_shapes_and_gradients():
    m = GRUClassifier(40, 10, hidden_size=5)
    assert m.gru.bidirectional and m.gru.batch_first and tuple(m.linear.weight.shape) == (10, 2 * 5 * 40)
    y = m(tg.randn(3, 40))
    assert y.shape == (3, 10) and m(tg.randn(3, 1, 40)).shape == (3, 10)
    y.sum().backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in m.parameters())
    assert build_model("gru", (40,), 10).gru.hidden_size == 32
    assert build_model("gru", (40,), 10, channels=6).gru.hidden_size == 6
