"""Module API: registration, traversal, modes, hooks, to(), repr, summary, state_dict, save/load."""
import copy

import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])
        self.head = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("count", torch.zeros(1, dtype=torch.int64))
        self.register_buffer("tmp", torch.zeros(2), persistent=False)

    def forward(self, x):
        x = self.act(self.fc1(x))
        for b in self.blocks:
            x = b(x)
        return self.head(x) * self.scale


def test_parameter_is_leaf_tensor():
    p = nn.Parameter(torch.randn(2, 3))
    assert isinstance(p, nn.Parameter) and isinstance(p, torch.Tensor)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert "Parameter containing" in repr(p)
    q = nn.Parameter(torch.randn(2), requires_grad=False)
    assert not q.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(torch.tensor([1, 2]))
    (p * 2).sum().backward()
    assert p.grad is not None and tuple(p.grad.shape) == (2, 3)


def test_parameter_shares_memory_with_source():
    t = torch.zeros(3)
    p = nn.Parameter(t)
    with torch.no_grad():
        p += 1.0
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_registration_and_traversal_names():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias", "head.0.weight", "head.0.bias"]
    assert [n for n, _ in m.named_buffers()] == ["count", "tmp"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "blocks", "head"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "blocks", "blocks.0", "blocks.1", "head",
                                                  "head.0", "head.1"]
    assert len(list(m.children())) == 4 and len(list(m.modules())) == 9
    assert m.num_parameters() == 1 + 15 + 12 + 12 + 8
    assert m.get_submodule("blocks.1") is m.blocks[1]
    assert m.get_parameter("head.0.bias") is m.head[0].bias


def test_shared_parameters_counted_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 12
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_rules_and_errors():
    m = nn.Module()
    m.w = nn.Parameter(torch.zeros(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match="Parameter or None"):
        m.w = torch.zeros(2)
    m.w = None
    assert m.w is None and list(m.parameters()) == []
    m.register_buffer("b", torch.ones(2))
    m.b = torch.zeros(3)
    assert tuple(m.b.shape) == (3,)
    with pytest.raises(TypeError):
        m.b = 5
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(torch.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()
    del m.b
    assert "b" not in m._buffers


def test_train_eval_recursive():
    m = Net()
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m
    assert not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())
    m.head.train(False)
    assert m.training and not m.head[1].training


def test_zero_grad_and_requires_grad():
    m = Net()
    m(torch.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum()) == 0.0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.fc1.requires_grad_(False)
    m(torch.randn(5, 4)).sum().backward()
    assert m.fc1.weight.grad is None and m.head[0].weight.grad is not None
    assert m.num_parameters(trainable_only=True) == m.num_parameters() - 15


def test_apply_visits_children_first():
    m = Net()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"

    def init_fn(mod):
        if isinstance(mod, nn.Linear):
            nn.init.zeros_(mod.weight)
    m.apply(init_fn)
    assert float(m.blocks[0].weight.abs().sum()) == 0.0


def test_hooks_and_removable_handles():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, inp: calls.append(("pre", tuple(inp[0].shape))))
    h2 = m.register_forward_hook(lambda mod, inp, out: calls.append(("post", tuple(out.shape))))
    m(torch.randn(3, 2))
    assert calls == [("pre", (3, 2)), ("post", (3, 2))]
    h1.remove()
    h2.remove()
    m(torch.randn(3, 2))
    assert len(calls) == 2
    # hooks that replace input / output
    m.register_forward_pre_hook(lambda mod, inp: (inp[0] * 0.0,))
    h = m.register_forward_hook(lambda mod, inp, out: out + 1.0)
    out = m(torch.randn(1, 2))
    assert np.allclose(out.numpy(), m.bias.detach().numpy() + 1.0)
    with h:
        pass
    assert np.allclose(m(torch.randn(1, 2)).numpy(), m.bias.detach().numpy())


def test_to_dtype_keeps_parameter_identity_and_optimizer_works():
    m = Net()
    params = list(m.parameters())
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    m.double()
    assert all(a is b for a, b in zip(params, m.parameters()))
    assert all(p.dtype == torch.float64 for p in m.parameters())
    assert m.count.dtype == torch.int64  # integer buffers keep their dtype
    x = torch.randn(2, 4, dtype=torch.float64)
    before = m.fc1.weight.detach().clone()
    m(x).sum().backward()
    opt.step()
    assert m.fc1.weight.dtype == torch.float64
    assert not np.allclose(before.numpy(), m.fc1.weight.detach().numpy())
    m.float()
    assert m.fc1.weight.dtype == torch.float32 and isinstance(m.fc1.weight, nn.Parameter)
    with pytest.raises(TypeError):
        m.to(torch.int64)


def test_to_device(device):
    m = Net()
    sd = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    w = m.fc1.weight
    m.to(device)
    assert m.fc1.weight is w and str(m.fc1.weight.device).startswith(device.split(":")[0])
    assert str(m.count.device).startswith(device.split(":")[0])
    out = m(torch.randn(2, 4, device=device))
    out.sum().backward()
    assert m.fc1.weight.grad.device == m.fc1.weight.device
    m.cpu()
    for k, v in m.state_dict().items():
        assert np.array_equal(v.numpy(), sd[k])


def test_repr_like_pytorch():
    m = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    assert repr(m) == ("Sequential(\n  (0): Linear(in_features=3, out_features=1, bias=True)\n"
                       "  (1): Flatten(start_dim=0, end_dim=1)\n)")
    r = repr(Net())
    assert "(blocks): ModuleList(\n    (0): Linear(in_features=3, out_features=3, bias=True)" in r
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


def test_summary_mlp_param_count():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(2352, 512), nn.ReLU(), nn.Linear(512, 10))
    s = mlp.summary((1, 3, 28, 28))
    assert s.total_params == 1_209_866 and mlp.num_parameters() == 1_209_866
    assert "1,209,866" in s
    shapes = [r[2] for r in s.rows]
    assert shapes[:4] == [(1, 2352), (1, 512), (1, 512), (1, 10)]
    assert mlp.training  # mode restored
    printed = []
    mlp.summary((2, 3, 28, 28), print_fn=printed.append)
    assert printed and "(2, 10)" in printed[0]


# ----------------------------------------------------------------------------- state dict
def test_state_dict_keys_shapes_and_sharing():
    m = Net()
    sd = m.state_dict()
    assert list(sd) == ["scale", "count", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias",
                        "blocks.1.weight", "blocks.1.bias", "head.0.weight", "head.0.bias"]
    assert "tmp" not in sd  # non-persistent
    assert tuple(sd["fc1.weight"].shape) == (3, 4)  # (out, in) as PyTorch
    assert not sd["fc1.weight"].requires_grad
    with torch.no_grad():
        m.fc1.weight.fill_(2.0)
    assert float(sd["fc1.weight"].sum()) == 24.0  # shares memory, as PyTorch
    assert m.state_dict(keep_vars=True)["fc1.weight"] is m.fc1.weight


def test_load_state_dict_roundtrip_keeps_identity():
    a, b = Net(), Net()
    w = b.fc1.weight
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert b.fc1.weight is w
    for (k, v1), v2 in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.array_equal(v1.numpy(), v2.numpy()), k
    with torch.no_grad():
        a.fc1.weight.fill_(7.0)
    assert float(b.fc1.weight.sum()) != 7.0 * 12  # load copied, not aliased


def _snapshot(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def test_load_state_dict_failures_change_nothing():
    src, dst = Net(), Net()
    before = _snapshot(dst)
    sd = dict(src.state_dict())
    # missing key
    bad = dict(sd)
    del bad["head.0.bias"]
    with pytest.raises(RuntimeError, match="missing keys: 'head.0.bias'"):
        dst.load_state_dict(bad)
    # unexpected key
    bad = dict(sd, extra=torch.zeros(1))
    with pytest.raises(RuntimeError, match="unexpected keys: 'extra'"):
        dst.load_state_dict(bad)
    # shape mismatch (reported with both shapes), even after valid entries
    bad = dict(sd, **{"head.0.weight": torch.zeros(3, 2)})
    with pytest.raises(RuntimeError, match=r"size mismatch for 'head.0.weight': checkpoint has shape \(3, 2\), "
                                           r"the model has shape \(2, 3\)"):
        dst.load_state_dict(bad)
    # dtype mismatch
    bad = dict(sd, **{"fc1.weight": sd["fc1.weight"].double()})
    with pytest.raises(RuntimeError, match="dtype mismatch for 'fc1.weight'"):
        dst.load_state_dict(bad)
    after = _snapshot(dst)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    # strict=False loads the matching part and reports the rest
    part = {k: v for k, v in sd.items() if k.startswith("fc1")}
    res = dst.load_state_dict(dict(part, junk=torch.zeros(1)), strict=False)
    assert "head.0.bias" in res.missing_keys and res.unexpected_keys == ["junk"]
    assert np.array_equal(dst.fc1.weight.numpy(), src.fc1.weight.numpy())
    # shape mismatches are errors even with strict=False
    with pytest.raises(RuntimeError, match="size mismatch"):
        dst.load_state_dict({"fc1.weight": torch.zeros(1)}, strict=False)


def test_save_load_file_and_failed_load_leaves_model_unchanged(tmp_path):
    a = Net()
    path = tmp_path / "ckpt.npz"
    torch.save(a.state_dict(), path)
    b = Net()
    b.load_state_dict(torch.load(path))
    assert all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    # a checkpoint of a different architecture
    other = nn.Sequential(nn.Linear(4, 3))
    torch.save(other.state_dict(), tmp_path / "other.npz")
    before = _snapshot(b)
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(torch.load(tmp_path / "other.npz"))
    assert "unexpected keys: '0.weight'" in str(e.value) and "missing keys" in str(e.value)
    assert all(np.array_equal(before[k], v) for k, v in _snapshot(b).items())
    # a corrupted file
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a valid"):
        torch.load(tmp_path / "bad.npz")


def test_load_from_numpy_arrays(device):
    a = Net()
    b = Net().to(device)
    b.load_state_dict({k: v.numpy() for k, v in a.state_dict().items()})
    assert np.array_equal(b.fc1.weight.numpy(), a.fc1.weight.numpy())
    assert str(b.fc1.weight.device).startswith(device.split(":")[0])


def test_state_dict_both_ways_with_torch():
    real = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    theirs = real.nn.Sequential(real.nn.Linear(4, 3), real.nn.ReLU(), real.nn.Linear(3, 2))
    # ours -> torch
    theirs.load_state_dict({k: real.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert np.allclose(ours(torch.tensor(x)).numpy(), theirs(real.from_numpy(x)).detach().numpy(), atol=1e-6)
    # torch -> ours (torch tensors are accepted directly)
    theirs2 = real.nn.Sequential(real.nn.Linear(4, 3), real.nn.ReLU(), real.nn.Linear(3, 2))
    ours.load_state_dict(theirs2.state_dict())
    assert np.allclose(ours(torch.tensor(x)).numpy(), theirs2(real.from_numpy(x)).detach().numpy(), atol=1e-6)
    assert list(ours.state_dict()) == list(theirs2.state_dict())


def test_deepcopy_module():
    m = Net()
    c = copy.deepcopy(m)
    assert c.fc1.weight is not m.fc1.weight and isinstance(c.fc1.weight, nn.Parameter)
    assert np.array_equal(c.fc1.weight.numpy(), m.fc1.weight.numpy())
    with torch.no_grad():
        c.fc1.weight.fill_(0.0)
    assert float(m.fc1.weight.abs().sum()) > 0


# ----------------------------------------------------------------------------- containers
def test_sequential_api():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and isinstance(s[1], nn.ReLU)
    sub = s[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is s[0]
    s.append(nn.Sigmoid())
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    with pytest.raises(IndexError):
        s[10]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and isinstance(s[1], nn.Linear)
    from collections import OrderedDict
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(lambda x: x)


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    assert len(ml) == 5 and isinstance(ml[-1], nn.Tanh) and isinstance(ml[1:3], nn.ModuleList)
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and list(ml._modules)[-1] == "5"
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    assert "a" in md and list(md.keys()) == ["a", "b"] and len(md) == 2
    md["c"] = nn.Linear(2, 1)
    assert list(md.state_dict()) == ["a.weight", "a.bias", "c.weight", "c.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and "b" not in md
    with pytest.raises(KeyError, match="no module named 'zz'"):
        md["zz"]
