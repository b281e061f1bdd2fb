"""Checks of exercises 8 and 9: optimizer steps and the warmup-cosine schedule.

Expected values: ``tinygrad_dnn.optim`` (SGD, Adam, AdamW, SequentialLR of LinearLR and
CosineAnnealingLR), which the library's tests hold to PyTorch; with ``torch=True`` (``--torch``)
the optimizer trajectories are also compared with ``torch.optim`` directly. Tolerance rtol 1e-9 on
the parameters: a correct step agrees to ~1e-15 (measured), a convention slip (eps inside the square
root, no bias correction, slide-style momentum under a changed lr) is off by 1e-6 or much more.
"""
from __future__ import annotations

import math

import numpy as np

import tinygrad_dnn as tg

from .grader import CheckFailed, pattern

# (title, student function, kwargs, library class, lr per step)
_LRS_CHANGING = [0.1, 0.1, 0.05, 0.05, 0.02]
_CONFIGS = [
    ("SGD, no momentum, weight_decay 0.01", "sgd_step", {"momentum": 0.0, "weight_decay": 0.01}, "SGD", [0.1] * 5),
    ("SGD momentum 0.9, dampening 0.1 (lr changes at steps 3 and 5)", "sgd_step",
     {"momentum": 0.9, "dampening": 0.1}, "SGD", _LRS_CHANGING),
    # lr changes here too: the Sutskever / CS231n form of Nesterov (v = mu v - lr g; theta += -mu v_prev + (1+mu) v)
    # equals PyTorch's at a constant lr and differs once the lr changes
    ("SGD Nesterov momentum 0.9, weight_decay 0.01 (lr changes at steps 3 and 5)", "sgd_step",
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, "SGD", _LRS_CHANGING),
    ("Adam defaults (lr 0.01)", "adam_step", {}, "Adam", [0.01] * 5),
    ("Adam betas (0.8, 0.99), eps 1e-3, L2 weight_decay 0.1", "adam_step",
     {"betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.1}, "Adam", [0.01] * 5),
    ("AdamW weight_decay 0.1 (decoupled)", "adamw_step", {"weight_decay": 0.1}, "AdamW", [0.01] * 5),
]
_HINTS = {
    "sgd_step": "PyTorch's momentum: b = g on the first step, then b = mu*b + (1-dampening)*g; theta -= lr*b "
                "(Nesterov: theta -= lr*(g + mu*b)); weight decay adds lambda*theta to g first. The slides' velocity "
                "v = mu*v - lr*g (also their Nesterov form) puts lr inside the buffer: it agrees only while lr is constant",
    "adam_step": "t starts at 1; m_hat = m/(1-beta1^t), v_hat = v/(1-beta2^t); theta -= lr*m_hat/(sqrt(v_hat)+eps) "
                 "with eps OUTSIDE the square root; Adam's weight_decay adds lambda*theta to g (L2)",
    "adamw_step": "AdamW decays the weights directly, theta *= 1 - lr*lambda, then takes the Adam step WITHOUT "
                  "adding lambda*theta to the gradient",
}


def _trajectory_lib(kind, kwargs, p0, grads, lrs, use_torch=False):
    """Parameters after each step with the library's (or torch's) optimizer."""
    if use_torch:
        import torch

        p = torch.tensor(p0.copy(), requires_grad=True)
        opt = getattr(torch.optim, kind)([p], lr=lrs[0], **kwargs)
    else:
        p = tg.tensor(p0.copy(), requires_grad=True)
        opt = getattr(tg.optim, kind)([p], lr=lrs[0], **kwargs)
    mod = torch if use_torch else tg
    out = []
    for gr, lr in zip(grads, lrs):
        opt.param_groups[0]["lr"] = lr
        p.grad = mod.tensor(gr.copy())
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def check_ex08(g, use_torch=False):
    r = np.random.default_rng(80)
    p0 = r.standard_normal((3, 4))
    grads = [r.standard_normal((3, 4)) for _ in range(5)]
    for title, fname, kwargs, kind, lrs in _CONFIGS:
        refs = [("tinygrad_dnn.optim." + kind, _trajectory_lib(kind, kwargs, p0, grads, lrs))]
        if use_torch:
            refs.append(("torch.optim." + kind, _trajectory_lib(kind, kwargs, p0, grads, lrs, use_torch=True)))
        for ref_name, expected in refs:
            with g.check(f"{fname}: {title}: 5 steps match {ref_name}", hint=_HINTS[fname]):
                param, state = p0.copy(), {}
                for step, (gr, lr) in enumerate(zip(grads, lrs), start=1):
                    before_step = param.copy()
                    ret = g.call(fname, param, gr.copy(), state, lr, mutable=(0, 1, 2), **kwargs)
                    if ret is not None and ret is not param:
                        raise CheckFailed(f"{fname} must update param IN PLACE (param -= ...) and return None; it "
                                          f"returned a {type(ret).__name__} at step {step}")
                    if np.array_equal(param, before_step):
                        raise CheckFailed(f"{fname}: param did not change at step {step}: update it IN PLACE "
                                          "(`param -= lr * g`); `param = param - lr * g` only rebinds the local "
                                          "name and the caller's array stays as it was")
                    call = ", ".join(["param", "grad", "state", f"lr={lr}"] + [f"{k}={v}" for k, v in kwargs.items()])
                    try:
                        g.close(f"param after step {step} of {fname}({call})", expected[step - 1], param,
                                rtol=1e-9, atol=1e-12, hint=_HINTS[fname])
                    except CheckFailed as e:
                        before = p0 if step == 1 else expected[step - 2]
                        pat = pattern(expected[step - 1] - before, np.asarray(param) - before)
                        raise CheckFailed(str(e) + (f"\nthe update (param change) of step {step}: {pat}" if pat
                                                    else "")) from None


def check_ex09(g):
    cfg = {"base_lr": 0.1, "warmup_steps": 5, "total_steps": 20, "min_lr": 0.001, "start_factor": 0.1}

    def formula(t, base_lr, warmup_steps, total_steps, min_lr, start_factor):
        if t < warmup_steps:
            return base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
        if t >= total_steps:
            return min_lr
        return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * (t - warmup_steps) /
                                                            (total_steps - warmup_steps))) / 2

    p = tg.tensor(np.zeros(1), requires_grad=True)
    opt = tg.optim.SGD([p], lr=cfg["base_lr"])
    sch = tg.optim.lr_scheduler
    sched = sch.SequentialLR(opt, [sch.LinearLR(opt, cfg["start_factor"], 1.0, total_iters=cfg["warmup_steps"]),
                                   sch.CosineAnnealingLR(opt, T_max=cfg["total_steps"] - cfg["warmup_steps"],
                                                         eta_min=cfg["min_lr"])],
                             milestones=[cfg["warmup_steps"]])
    lib = []
    for _ in range(cfg["total_steps"] + 1):
        lib.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    args = ", ".join(f"{k}={v}" for k, v in cfg.items())
    with g.check("warmup_cosine_lr: steps 0..20 match SequentialLR(LinearLR, CosineAnnealingLR)"):
        got = [g.call("warmup_cosine_lr", t, **cfg) for t in range(cfg["total_steps"] + 1)]
        g.close(f"[warmup_cosine_lr(t, {args}) for t in 0..20] (index = step t)", lib, got, rtol=1e-9, atol=1e-12,
                hint="warmup: base*(s + (1-s)*t/W) for t < W; cosine: min + (base-min)*(1+cos(pi*(t-W)/(T-W)))/2")
    with g.check("warmup_cosine_lr: stays at min_lr after total_steps"):
        got = [g.call("warmup_cosine_lr", t, **cfg) for t in range(21, 30)]
        g.close(f"[warmup_cosine_lr(t, {args}) for t in 21..29] (index 0 = step 21)", [cfg["min_lr"]] * 9, got,
                rtol=1e-12, atol=0, hint="for t > total_steps return min_lr (a plain cosine would rise again)")
    cfg0 = {"base_lr": 1.0, "warmup_steps": 0, "total_steps": 8, "min_lr": 0.0, "start_factor": 0.1}
    with g.check("warmup_cosine_lr: no warmup (warmup_steps = 0) is a plain cosine from base_lr"):
        got = [g.call("warmup_cosine_lr", t, **cfg0) for t in range(10)]
        g.close("[warmup_cosine_lr(t, base_lr=1.0, warmup_steps=0, total_steps=8) for t in 0..9]",
                [formula(t, **cfg0) for t in range(10)], got, rtol=1e-12, atol=1e-15,
                hint="with W = 0 skip the warmup branch (and never divide by W)")
