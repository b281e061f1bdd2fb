"""Helpers shared by the training tests (imported by name; pytest puts this folder on sys.path)."""


def small_mlp(dropout=0.1, batchnorm="after"):
    from tinygrad_dnn.train.models import MLP

    return MLP(2, 2, hidden=[16, 16], batchnorm=batchnorm, dropout=dropout)


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}
