"""``tinygrad-dnn train``: train a ready-made model on a bundled dataset.

With no arguments: a BatchNorm+dropout MLP (2 x 256) trained with AdamW on scikit-learn's digits on
the CPU (standardized features, cosine schedule), about 97-98% test accuracy in well under a minute.

``--out DIR`` writes ``metrics.json`` (config, per-epoch history, test metrics, timings, and under
``"files"`` which file holds what), ``curves.png`` (loss/accuracy/lr) and ``checkpoint.npz`` (full
trainer state after every epoch; ``--resume DIR/checkpoint.npz`` continues it exactly). With
``--early-stopping`` the restored best weights (the model the test metrics describe) are written to
``best.npz`` (``model.load_state_dict(tinygrad_dnn.load(...))``); ``checkpoint.npz`` stays the last
state, for resuming. A folder that already holds a run is refused unless ``--resume`` or
``--overwrite``; ``DIR/.lock`` (the run's pid) keeps two runs out of one folder (a lock left by a
dead process is taken over). Ctrl-C finishes the current step, saves ``interrupted.npz`` (in DIR,
or in the current folder without ``--out``) with the position inside the epoch, and exits with
status 130; ``--resume DIR/interrupted.npz`` then reproduces the uninterrupted run bit for bit, and
the stale ``interrupted.npz`` is removed once the resumed run completes.

Exit status: 0 done, 1 training failed (NaN/inf loss, out of memory), 2 bad arguments, unusable
``--out`` or checkpoint, 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time

DATASETS = ("digits", "mnist1d", "spirals", "moons", "circles")
MODELS = ("mlp", "resmlp", "cnn", "gru")
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
              "adadelta": "Adadelta", "nadam": "NAdam", "adamax": "Adamax"}
SCHEDULES = ("none", "step", "cosine", "plateau", "onecycle", "exponential")
DEVICES = ("cpu", "cuda", "strict")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid")

# defaults of the options that define the model/run; they are None on the parser so a resumed run
# can tell what the user asked for from what the checkpoint says
DEFAULTS = dict(dataset="digits", model="mlp", optimizer="adamw", lr=None, schedule="cosine", epochs=40,
                batch_size=64, hidden="256,256", activation="relu", batchnorm="after", dropout=0.15,
                weight_decay=None, momentum=None, seed=0, val_fraction=None, early_stopping=0,
                clip_grad_norm=None, clip_grad_value=None, channels=None, standardize=True, min_lr=1e-5)
DEFAULT_LR = {"sgd": 0.05, "adam": 2e-3, "adamw": 2e-3, "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0,
              "nadam": 2e-3, "adamax": 2e-3}
# run files: a folder holding one of these is an existing run (refused without --resume/--overwrite)
RUN_FILES = ("checkpoint.npz", "metrics.json", "interrupted.npz", "best.npz")
LOCK_NAME = ".lock"
# changing these on --resume would change the model or the optimizer's state layout
STRUCTURAL = ("dataset", "model", "hidden", "activation", "batchnorm", "channels", "optimizer", "schedule",
              "standardize", "val_fraction", "seed", "batch_size")


def _number(flag, cast, lo=None, hi=None, lo_open=False, hi_open=False, allow_none=False):
    def parse(s):
        if allow_none and str(s).lower() in ("none", "off"):
            return None
        try:
            v = cast(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {'number' if cast is float else 'whole number'}, got {s!r}")
        if cast is float and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be finite, got {s!r}")
        if lo is not None and (v <= lo if lo_open else v < lo):
            raise argparse.ArgumentTypeError(f"must be {'>' if lo_open else '>='} {lo:g}, got {s}")
        if hi is not None and (v >= hi if hi_open else v > hi):
            raise argparse.ArgumentTypeError(f"must be {'<' if hi_open else '<='} {hi:g}, got {s}")
        return v
    return parse


def _hidden(s):
    try:
        sizes = [int(v) for v in str(s).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated layer widths like 256,256, got {s!r}")
    if not sizes or any(v < 1 for v in sizes):
        raise argparse.ArgumentTypeError(f"needs at least one positive width (e.g. 256,256), got {s!r}")
    return ",".join(str(v) for v in sizes)


def add_train_arguments(p):
    """Add the ``train`` options to an argparse (sub)parser."""
    p.description = ("Train a model on a bundled dataset. Without options: BatchNorm+dropout MLP, AdamW, "
                     "digits, CPU, ~97-98% test accuracy in well under a minute.")
    d = DEFAULTS
    g = p.add_argument_group("data and model")
    g.add_argument("--dataset", choices=DATASETS, default=None, help=f"dataset (default {d['dataset']})")
    g.add_argument("--model", choices=MODELS, default=None,
                   help=f"mlp, residual mlp, cnn (1-D for mnist1d, 2-D for digits) or gru (bidirectional GRU "
                        f"over a 1-D signal: mnist1d) (default {d['model']})")
    g.add_argument("--hidden", type=_hidden, default=None,
                   help=f"MLP hidden widths, comma-separated; resmlp: width x blocks (default {d['hidden']})")
    g.add_argument("--activation", choices=ACTIVATIONS, default=None, help=f"(default {d['activation']})")
    g.add_argument("--batchnorm", choices=("none", "before", "after"), default=None,
                   help=f"BatchNorm before or after the activation, or none (default {d['batchnorm']})")
    g.add_argument("--dropout", type=_number("--dropout", float, 0.0, 1.0, hi_open=True), default=None,
                   help=f"drop probability, in [0, 1) (default {d['dropout']})")
    g.add_argument("--channels", type=_number("--channels", int, 1), default=None,
                   help="CNN width (default 32 for 1-D, 16 for 2-D); GRU hidden size (default 32)")
    g.add_argument("--no-standardize", dest="standardize", action="store_const", const=False, default=None,
                   help="do not standardize the inputs with the training set's mean/std")
    g.add_argument("--val-fraction", type=_number("--val-fraction", float, 0.0, 0.5), default=None,
                   help="part of the training set held out for validation (default: 0, i.e. train on all of it "
                        "and report test accuracy; 0.1 when --early-stopping or --schedule plateau needs it)")
    o = p.add_argument_group("optimization")
    o.add_argument("--optimizer", choices=list(OPTIMIZERS), default=None, help=f"(default {d['optimizer']})")
    o.add_argument("--lr", type=_number("--lr", float, 0.0, lo_open=True), default=None,
                   help="learning rate, > 0 (default: 2e-3 for Adam-type, 0.05 for SGD)")
    o.add_argument("--momentum", type=_number("--momentum", float, 0.0, 1.0, hi_open=True), default=None,
                   help="SGD/RMSprop momentum (default 0.9 for SGD, 0 for RMSprop)")
    o.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    o.add_argument("--weight-decay", type=_number("--weight-decay", float, 0.0), default=None,
                   help="weight decay, >= 0 (default: 0.01 for AdamW, 0 otherwise)")
    o.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help=f"learning-rate schedule (plateau: ReduceLROnPlateau factor 0.2 patience 5) "
                        f"(default {d['schedule']})")
    o.add_argument("--min-lr", type=_number("--min-lr", float, 0.0), default=None,
                   help=f"floor for plateau/cosine schedules (default {d['min_lr']})")
    o.add_argument("--epochs", type=_number("--epochs", int, 1), default=None, help=f"(default {d['epochs']})")
    o.add_argument("--batch-size", type=_number("--batch-size", int, 1), default=None,
                   help=f"(default {d['batch_size']})")
    o.add_argument("--early-stopping", type=_number("--early-stopping", int, 0), default=None, metavar="PATIENCE",
                   help="stop when val_loss has not improved for PATIENCE epochs and restore the best weights "
                        "(0 = off)")
    o.add_argument("--clip-grad-norm", type=_number("--clip-grad-norm", float, 0.0, lo_open=True), default=None)
    o.add_argument("--clip-grad-value", type=_number("--clip-grad-value", float, 0.0, lo_open=True), default=None)
    r = p.add_argument_group("run")
    r.add_argument("--device", choices=DEVICES, default="cpu", help="cpu (NumPy), cuda (CuPy) or strict (Array API)")
    r.add_argument("--threads", type=_number("--threads", int, 0), default=1,
                   help="BLAS threads on the CPU (0 = the library's default). Small models train several times "
                        "faster on one thread than with a contended thread pool (default 1)")
    r.add_argument("--seed", type=_number("--seed", int, 0), default=None, help=f"(default {d['seed']})")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="write metrics.json, curves.png and checkpoint.npz here")
    r.add_argument("--resume", default=None, metavar="PATH", help="continue from a checkpoint.npz written by --out")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (by default an existing run folder is refused)")
    r.add_argument("--diagnostics", action="store_true",
                   help="babysitting: initial-loss check, activation/gradient plots and update ratios (into --out)")
    r.add_argument("--find-lr", action="store_true",
                   help="run an LR range test (loss vs exponentially growing lr), print the suggestion and stop")
    r.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    r.add_argument("--nproc", type=_number("--nproc", int, 1), default=None, metavar="N",
                   help="data-parallel training on N processes: relaunches this command under the environment's "
                        "mpiexec (same as `mpiexec -n N tinygrad-dnn train ...`); --batch-size is the global batch")
    return p


# ------------------------------------------------------------------------------------------ config
def _resolve(args, saved=None):
    """Merge command line, checkpoint config and defaults. Raises ValueError on a conflict with ``saved``."""
    cfg = {}
    given = {k: getattr(args, k, None) for k in DEFAULTS}
    conflicts = []
    for k, default in DEFAULTS.items():
        v = given[k]
        if saved is not None and k in saved:
            if v is not None and k in STRUCTURAL and v != saved[k]:
                conflicts.append(f"--{k.replace('_', '-')} {v} (the checkpoint has {saved[k]})")
            cfg[k] = v if v is not None else saved[k]
        else:
            cfg[k] = v if v is not None else default
    if conflicts:
        raise ValueError("the checkpoint was trained with different settings: " + "; ".join(conflicts)
                         + ". Leave those options out to continue it, or start a new run without --resume")
    if cfg["val_fraction"] is None:
        cfg["val_fraction"] = 0.1 if (cfg["early_stopping"] or cfg["schedule"] == "plateau") else 0.0
    if cfg["lr"] is None:
        cfg["lr"] = DEFAULT_LR[cfg["optimizer"]]
    if cfg["weight_decay"] is None:
        cfg["weight_decay"] = 0.01 if cfg["optimizer"] == "adamw" else 0.0
    if cfg["momentum"] is None:
        cfg["momentum"] = 0.9 if cfg["optimizer"] == "sgd" else 0.0
    if cfg["model"] == "cnn" and cfg["dataset"] not in ("digits", "mnist1d"):
        raise ValueError(f"--model cnn needs an image or signal dataset (digits, mnist1d), not "
                         f"--dataset {cfg['dataset']} (2-D points); use --model mlp or resmlp")
    if cfg["model"] == "gru" and cfg["dataset"] != "mnist1d":
        raise ValueError(f"--model gru reads a 1-D signal one sample per time step: use --dataset mnist1d, not "
                         f"--dataset {cfg['dataset']}")
    cfg["nesterov"] = bool(getattr(args, "nesterov", False)) or bool((saved or {}).get("nesterov", False))
    return cfg


# ------------------------------------------------------------------------------------------ data
def _standardize(x_train, others, per_feature):
    """(x - mean) / std with the training set's statistics (per feature, or one scalar for CNN inputs)."""
    if per_feature:
        mean = x_train.mean(dim=0, keepdim=True)
        std = x_train.std(dim=0, keepdim=True)
    else:
        mean, std = x_train.mean(), x_train.std()
    std = std + (std < 1e-6).float()  # constant features (digits' border pixels) are only centred
    return [(x - mean) / std for x in [x_train] + list(others)]


def load_data(cfg, device):
    """``(x_train, y_train, x_val, y_val, x_test, y_test, num_classes)`` as Tensors on ``device``."""
    import tinygrad_dnn as tg
    from tinygrad_dnn import data

    name, cnn = cfg["dataset"], cfg["model"] == "cnn"
    if name == "digits":
        s = data.load_digits(flatten=not cnn)
        xtr, ytr, xte, yte, c = s.x_train, s.y_train, s.x_test, s.y_test, s.num_classes
    elif name == "mnist1d":
        s = data.load_mnist1d(channel_dim=cnn)
        xtr, ytr, xte, yte, c = s.x_train, s.y_train, s.x_test, s.y_test, s.num_classes
    else:
        make = {"spirals": lambda seed: data.make_spirals(n_per_class=300, seed=seed),
                "moons": lambda seed: data.make_moons(n_samples=1000, noise=0.2, seed=seed),
                "circles": lambda seed: data.make_circles(n_samples=1000, noise=0.1, seed=seed)}[name]
        (xtr, ytr), (xte, yte) = make(0), make(1)  # the test set is a fresh sample of the same distribution
        c = 3 if name == "spirals" else 2
    # validation split from the training set, seeded by --seed
    n = int(xtr.shape[0])
    nv = int(round(cfg["val_fraction"] * n))
    xva = yva = None
    if nv > 0:
        with tg.fork_rng():
            tg.manual_seed(10_000 + int(cfg["seed"]))
            perm = tg.randperm(n) if hasattr(tg, "randperm") else tg.rand(n).argsort()
        xva, yva = xtr[perm[:nv]], ytr[perm[:nv]]
        xtr, ytr = xtr[perm[nv:]], ytr[perm[nv:]]
    if cfg["standardize"]:
        others = [xte] + ([xva] if xva is not None else [])
        out = _standardize(xtr, others, per_feature=not cnn and cfg["model"] != "gru")
        xtr, xte = out[0], out[1]
        if xva is not None:
            xva = out[2]
    move = (lambda t: t if t is None else t.to(device)) if device != "cpu" else (lambda t: t)
    return move(xtr), move(ytr), move(xva), move(yva), move(xte), move(yte), c


def build_model_from_config(cfg, input_shape, num_classes):
    from .models import build_model

    hidden = [int(v) for v in cfg["hidden"].split(",")]
    bn = None if cfg["batchnorm"] == "none" else cfg["batchnorm"]
    if cfg["model"] == "resmlp":
        return build_model("resmlp", input_shape, num_classes, depth=len(hidden), width=hidden[0],
                           activation=cfg["activation"], batchnorm=bn, dropout=cfg["dropout"])
    return build_model(cfg["model"], input_shape, num_classes, hidden=hidden, activation=cfg["activation"],
                       batchnorm=bn, dropout=cfg["dropout"], channels=cfg["channels"])


def build_optimizer(cfg, params):
    from tinygrad_dnn import optim

    cls_name = OPTIMIZERS[cfg["optimizer"]]
    cls = getattr(optim, cls_name, None)
    if cls is None:
        raise ValueError(f"--optimizer {cfg['optimizer']}: tinygrad_dnn.optim has no {cls_name}")
    kw = {"lr": cfg["lr"]}
    if cfg["weight_decay"] or cfg["optimizer"] == "adamw":
        kw["weight_decay"] = cfg["weight_decay"]
    if cfg["optimizer"] in ("sgd", "rmsprop") and cfg["momentum"]:
        kw["momentum"] = cfg["momentum"]
    if cfg["optimizer"] == "sgd" and cfg["nesterov"]:
        kw["nesterov"] = True
    return cls(params, **kw)


def build_scheduler(cfg, optimizer, steps_per_epoch):
    from tinygrad_dnn.optim import lr_scheduler as S

    s, epochs = cfg["schedule"], cfg["epochs"]
    if s == "none":
        return None
    if s == "step":
        return S.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if s == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=cfg["min_lr"])
    if s == "plateau":
        return S.ReduceLROnPlateau(optimizer, mode="min", factor=0.2, patience=5, min_lr=cfg["min_lr"])
    if s == "onecycle":
        return S.OneCycleLR(optimizer, max_lr=cfg["lr"], total_steps=epochs * steps_per_epoch)
    if s == "exponential":
        return S.ExponentialLR(optimizer, gamma=0.95)
    raise ValueError(f"unknown --schedule {s!r}")


def _err(msg):
    print(f"error: {msg}", file=sys.stderr, flush=True)
    return 2


def _limit_blas_threads(n):
    """Cap the BLAS thread pool (threadpoolctl, installed with scikit-learn); a no-op without it."""
    if not n:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return
    threadpool_limits(limits=int(n), user_api="blas")


def _check_device(device):
    import tinygrad_dnn as tg

    avail = tg.available_devices()
    if device == "cuda" and not any(d.startswith("cuda") for d in avail):
        return f"--device cuda: no CUDA GPU/CuPy here (available: {', '.join(avail)})"
    if device == "strict" and "strict" not in avail:
        return "--device strict needs the array-api-strict package (pip install array-api-strict)"
    return None


# ------------------------------------------------------------------------------------------ --out
def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _check_out(out):
    """A problem with ``--out DIR`` (is a file, lies under a file, cannot be created or written), or None."""
    if os.path.exists(out) and not os.path.isdir(out):
        return f"--out {out}: is a file, not a folder; choose a folder"
    parent = os.path.abspath(out)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"--out {out}: lies under {parent}, which is a file; choose a folder"
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        return f"--out {out}: cannot create the folder ({e.strerror or e})"
    if not os.access(out, os.W_OK | os.X_OK):
        return f"--out {out}: the folder is not writable; choose another one"
    return None


class RunLock:
    """``DIR/.lock`` holding this process's pid for the life of the run; a lock whose pid is dead is stale."""

    def __init__(self, folder):
        self.path = os.path.join(folder, LOCK_NAME)
        self.held = False

    def acquire(self):
        """None when acquired, else a message naming the holder."""
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    with open(self.path) as f:
                        pid = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _pid_alive(pid):
                    return (f"--out {os.path.dirname(self.path)}: another training (pid {pid}) is writing to this "
                            "folder; wait for it to finish or choose another --out")
                try:  # stale: its process is gone
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
                continue
            except OSError as e:
                return f"--out {os.path.dirname(self.path)}: cannot write the lock file ({e.strerror or e})"
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()}\n")
            self.held = True
            return None
        return f"--out {os.path.dirname(self.path)}: could not take the lock {self.path}"

    def release(self):
        if self.held:
            self.held = False
            try:
                os.unlink(self.path)
            except OSError:
                pass


# ------------------------------------------------------------------------------------------ main
def run_train(args):
    """Run ``tinygrad-dnn train`` from parsed ``args``; returns the exit status."""
    from . import distributed as D

    nproc = getattr(args, "nproc", None)
    if nproc and nproc > 1 and D.launched_world_size() <= 1:
        return D.relaunch(nproc)
    try:
        return _run_train(args)
    except BrokenPipeError:
        raise  # handled by tinygrad_dnn.cli.main (stdout closed by `| head`); the lock is released below
    except KeyboardInterrupt:  # outside the training loop (loading data, building the model, evaluating)
        print("interrupted (Ctrl-C) outside the training loop; nothing was saved", file=sys.stderr, flush=True)
        return 130
    except MemoryError:
        print("error: out of memory: the model or the data does not fit (try a smaller --hidden, --channels or "
              "--batch-size)", file=sys.stderr, flush=True)
        return 1
    finally:
        lock = getattr(args, "_run_lock", None)
        if lock is not None:
            lock.release()


def _run_train(args):
    import tinygrad_dnn as tg
    from tinygrad_dnn.data import DataLoader, TensorDataset

    from . import callbacks as C
    from .loop import CheckpointError, NonFiniteLossError, Trainer, plot_history

    t_start = time.perf_counter()
    device = getattr(args, "device", "cpu") or "cpu"
    _limit_blas_threads(getattr(args, "threads", 1))
    problem = _check_device(device)
    if problem:
        return _err(problem)
    from . import distributed as D

    world, rank = D.init()  # (1, 0) unless started by mpiexec (see train/distributed.py)
    if world > 1 and (args.find_lr or args.diagnostics):
        return _err("--find-lr and --diagnostics run on one process; leave out --nproc / mpiexec")
    saved_state = None
    if args.resume:
        try:
            saved_state = Trainer.read_checkpoint(args.resume)
        except CheckpointError as e:
            return _err(f"--resume: {e}")
    try:
        cfg = _resolve(args, (saved_state or {}).get("config") if saved_state else None)
    except ValueError as e:
        return _err(f"--resume {args.resume}: {e}" if saved_state else str(e))
    out = args.out or (os.path.dirname(os.path.abspath(args.resume)) if args.resume else None)
    changed = {}
    if args.resume:
        saved_cfg = saved_state.get("config") or {}
        done = int(saved_state.get("epoch", 0))
        if cfg["epochs"] < done:
            return _err(f"--resume {args.resume}: the checkpoint has already trained {done} epochs, more than "
                        f"--epochs {cfg['epochs']} (the total, counting the epochs done); pass --epochs {done} or more")
        if cfg["schedule"] in ("cosine", "onecycle") and saved_cfg.get("epochs") is not None:
            if cfg["epochs"] > saved_cfg["epochs"]:
                return _err(f"--resume {args.resume}: the checkpoint's {cfg['schedule']} schedule was set up for "
                            f"{saved_cfg['epochs']} epochs and cannot be extended to {cfg['epochs']} (the learning "
                            "rate would rise again); start a new run with the longer schedule")
            if cfg["epochs"] < saved_cfg["epochs"]:
                print(f"note: the {cfg['schedule']} schedule stays the one for {saved_cfg['epochs']} epochs; training "
                      f"stops after epoch {cfg['epochs']}, before it reaches its end", file=sys.stderr)
        try:
            changed = _changed_hyperparameters(args, cfg, saved_cfg)
        except ValueError as e:
            return _err(f"--resume {args.resume}: {e}")
    quiet = bool(args.quiet) or rank > 0
    if world > 1 and cfg["batch_size"] % world:
        return _err(f"--batch-size {cfg['batch_size']} is the global batch and must be a multiple of the {world} "
                    f"processes (each takes batch-size / {world} samples per step)")
    if rank > 0:
        out = None  # rank 0 alone writes the run's files
    if out:
        problem = _check_out(out)
        if problem:
            return _err(problem)
        existing = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
        if existing and not args.resume and not getattr(args, "overwrite", False) and not args.find_lr:
            return _err(f"--out {out} already holds a run ({', '.join(existing)}); continue it with --resume "
                        f"{os.path.join(out, 'checkpoint.npz')}, replace it with --overwrite, or choose another folder")
        lock = RunLock(out)
        problem = lock.acquire()
        if problem:
            return _err(problem)
        args._run_lock = lock  # released by run_train when the run ends, however it ends
        if existing and getattr(args, "overwrite", False) and not args.resume:
            for f in existing:  # the old run's files would otherwise sit next to the new run's
                os.unlink(os.path.join(out, f))

    tg.manual_seed(cfg["seed"])
    xtr, ytr, xva, yva, xte, yte, n_classes = load_data(cfg, device)
    try:
        model = build_model_from_config(cfg, tuple(xtr.shape[1:]), n_classes)
    except ValueError as e:
        return _err(str(e))
    model.to(device)
    if world > 1:
        model, _ddp = D.prepare_model(model)  # ddp's hooks average the gradients; the trainer keeps the plain model
    n_train, has_bn = int(xtr.shape[0]), any("BatchNorm" in type(m).__name__ for m in model.modules())
    drop_last = has_bn and n_train % cfg["batch_size"] == 1 and n_train > 1
    if has_bn and n_train == 1:
        return _err("the training set has a single sample: BatchNorm cannot train on batches of one "
                    "(use --batchnorm none)")
    if drop_last and not quiet:
        print(f"note: {n_train} training samples in batches of {cfg['batch_size']} would leave a last batch of 1, "
              "which BatchNorm cannot train on; that sample is skipped each epoch (drop_last)", flush=True)
    set_epoch = None
    if world > 1:
        train_loader, set_epoch = D.train_loader(TensorDataset(xtr, ytr), cfg["batch_size"], world, rank, cfg["seed"],
                                                 has_bn)
    else:
        train_loader = DataLoader(TensorDataset(xtr, ytr), batch_size=cfg["batch_size"], shuffle=True,
                                  seed=cfg["seed"], drop_last=drop_last)
    val_loader = DataLoader(TensorDataset(xva, yva), batch_size=512) if xva is not None else None
    test_loader = DataLoader(TensorDataset(xte, yte), batch_size=512)
    try:
        optimizer = build_optimizer(cfg, model.parameters())
    except ValueError as e:
        return _err(str(e))
    scheduler = build_scheduler(cfg, optimizer, len(train_loader))
    cbs = [set_epoch] if set_epoch is not None else []
    if cfg["early_stopping"]:
        cbs.append(C.EarlyStopping("val_loss" if val_loader is not None else "loss", patience=cfg["early_stopping"],
                                   restore_best_weights=True, verbose=not quiet))
    ckpt_path = os.path.join(out, "checkpoint.npz") if out else None
    if ckpt_path:
        cbs.append(C.ModelCheckpoint(ckpt_path))
    monitor = None
    if args.diagnostics:
        from .diagnostics import UpdateRatioMonitor

        monitor = UpdateRatioMonitor(every=max(1, len(train_loader) // 4))
        cbs.append(monitor)
    cfg_saved = dict(cfg, device=device)
    trainer = Trainer(model, optimizer, callbacks=cbs, scheduler=scheduler,
                      clip_grad_norm=cfg["clip_grad_norm"], clip_grad_value=cfg["clip_grad_value"], device=device,
                      progress=not quiet, verbose=not quiet,
                      interrupt_checkpoint=os.path.join(out or ".", "interrupted.npz") if rank == 0 else
                      os.path.join(tempfile.gettempdir(), f"tinygrad-dnn-rank{rank}-interrupted.npz"),
                      config=cfg_saved)
    n_params = sum(p.numel() for p in model.parameters())
    if args.resume:
        try:
            trainer.load_state_dict(saved_state, path=repr(args.resume))
        except CheckpointError as e:
            return _err(f"--resume: {e}")
        trainer.config = cfg_saved
        if changed:
            _apply_hyperparameters(changed, optimizer, scheduler)
            print("applied on resume: " + ", ".join(f"{k.replace('_', '-')} {v[1]:g} (was {v[0]:g})"
                                                    for k, v in changed.items()), file=sys.stderr, flush=True)
    if not quiet:
        what = (f"{cfg['model']} ({n_params:,} parameters) on {cfg['dataset']} "
                f"({xtr.shape[0]} train / {0 if xva is None else xva.shape[0]} val / {xte.shape[0]} test), "
                f"{cfg['optimizer']} lr {cfg['lr']:g}, schedule {cfg['schedule']}, {cfg['epochs']} epochs, "
                f"batch {cfg['batch_size']}, device {device}")
        print(("resuming from epoch %d: " % trainer.epoch if args.resume else "training ") + what, flush=True)
        if world > 1:
            print(D.banner(world, cfg["batch_size"], cfg["lr"]), flush=True)
    if args.find_lr:
        return _find_lr(model, optimizer, train_loader, out, device)
    if args.diagnostics:
        with _no_side_effects(model):
            _diagnostics_before(model, xtr, ytr, n_classes, out, quiet)

    t0 = time.perf_counter()
    try:
        history = trainer.fit(train_loader, val_loader, epochs=cfg["epochs"])  # resumed state already loaded
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    train_time = time.perf_counter() - t0
    if history.stop_reason == "interrupted":
        print(f"resume with: tinygrad-dnn train --resume {trainer.interrupted_checkpoint}", file=sys.stderr)
        return 130
    test = trainer.evaluate(test_loader, prefix="test_")
    files = {}
    if out:
        files = {"resume": "checkpoint.npz", "model": "checkpoint.npz",
                 "note": "test metrics describe 'model'; continue training from 'resume'"}
        es = next((cb for cb in trainer.callbacks if isinstance(cb, C.EarlyStopping)), None)
        if es is not None:
            tg.save(model.state_dict(), os.path.join(out, "best.npz"))
            files.update(model="best.npz", model_epoch=es.best_epoch if es.best_weights is not None else len(history),
                         note="test metrics describe 'model' (best.npz: the restored best weights, a state_dict); "
                              "'resume' (checkpoint.npz) is the full state after the last epoch")
    result = {
        "config": cfg_saved,
        "parameters": int(n_params),
        "epochs_run": len(history),
        "stop_reason": history.stop_reason,
        "test_loss": test["test_loss"],
        "test_accuracy": test.get("test_accuracy"),
        "final_val_accuracy": history.last("val_accuracy"),
        "train_time_s": round(train_time, 3),
        "total_time_s": round(time.perf_counter() - t_start, 3),
        "history": history.to_dict(),
        "files": files,
        "distributed": {"world_size": world, "global_batch": cfg["batch_size"],
                        "per_process_batch": cfg["batch_size"] // world, "lr_rule": "as given for the global batch"},
    }
    if out:
        os.makedirs(out, exist_ok=True)
        _write_json(os.path.join(out, "metrics.json"), result)
        stale = os.path.join(out, "interrupted.npz")
        if os.path.exists(stale):  # this run got past the interruption: the file would only mislead
            os.unlink(stale)
        plot_history(history, os.path.join(out, "curves.png"))
        if monitor is not None:
            from .diagnostics import activation_stats, plot_activations, plot_update_ratios

            plot_update_ratios(monitor.ratios, os.path.join(out, "update_ratios.png"))
            with _no_side_effects(model):
                plot_activations(activation_stats(model, xtr[:256]), os.path.join(out, "activations_final.png"))
    acc = result["test_accuracy"]
    if rank > 0:
        return 0
    print(f"test accuracy {acc:.4f} ({acc * 100:.2f}%), test loss {result['test_loss']:.4f}, "
          f"{len(history)} epochs in {train_time:.1f} s" + (f"; wrote {out}" if out else ""), flush=True)
    return 0


def _changed_hyperparameters(args, cfg, saved_cfg):
    """``{name: (checkpoint value, new value)}`` for optimizer settings changed on --resume; raises ValueError
    for the ones that cannot be applied honestly (the schedule owns them)."""
    changed = {}
    for k in ("lr", "weight_decay", "momentum", "min_lr"):
        v = getattr(args, k, None)
        if v is not None and k in saved_cfg and v != saved_cfg[k]:
            changed[k] = (saved_cfg[k], v)
    if "lr" in changed and cfg["schedule"] not in ("none", "plateau"):
        raise ValueError(f"--lr {changed['lr'][1]:g}: the checkpoint's {cfg['schedule']} schedule sets the learning "
                         f"rate from its starting value {changed['lr'][0]:g}; leave --lr out to continue it, or start "
                         "a new run")
    if "min_lr" in changed and cfg["schedule"] == "cosine":
        raise ValueError(f"--min-lr {changed['min_lr'][1]:g}: the checkpoint's cosine schedule ends at "
                         f"{changed['min_lr'][0]:g}; leave --min-lr out to continue it, or start a new run")
    if "momentum" in changed and cfg["optimizer"] not in ("sgd", "rmsprop"):
        raise ValueError(f"--momentum: {cfg['optimizer']} has no momentum setting")
    return changed


def _apply_hyperparameters(changed, optimizer, scheduler):
    for group in optimizer.param_groups:
        for k in ("lr", "weight_decay", "momentum"):
            if k in changed:
                group[k] = changed[k][1]
    if "min_lr" in changed and hasattr(scheduler, "min_lrs"):
        scheduler.min_lrs = [changed["min_lr"][1]] * len(scheduler.min_lrs)


class _no_side_effects:
    """Diagnostics must not change the run: the random state, the model's parameters, buffers, gradients
    and mode are put back as they were."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        import tinygrad_dnn as tg

        from .checkpoint import clone_state

        self.rng = tg.get_rng_state()
        self.state = clone_state(self.model.state_dict())
        self.training = self.model.training
        return self

    def __exit__(self, *exc):
        import tinygrad_dnn as tg

        tg.set_rng_state(self.rng)
        self.model.load_state_dict(self.state)
        self.model.train(self.training)
        for p in self.model.parameters():
            p.grad = None
        return False


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, default=float)
    os.replace(tmp, path)


def _diagnostics_before(model, xtr, ytr, n_classes, out, quiet):
    from .diagnostics import activation_stats, check_initial_loss, compute_gradient_norms, plot_activations, \
        plot_gradient_norms

    xb, yb = xtr[:256], ytr[:256]
    r = check_initial_loss(model, xb, yb, n_classes)
    print(("" if r["ok"] else "warning: ") + r["message"], flush=True)
    stats = activation_stats(model, xb, train_mode=True)
    for st in stats:
        extra = ""
        if st["dead_fraction"] is not None:
            extra = f" dead {st['dead_fraction']:.1%}"
        if st["saturated_fraction"] is not None:
            extra = f" saturated {st['saturated_fraction']:.1%}"
        print(f"  {st['name']:<12} {st['type']:<9} mean {st['mean']:+.3f} std {st['std']:.3f}{extra}")
    if out:
        plot_activations(stats, os.path.join(out, "activations_init.png"))
        plot_gradient_norms(compute_gradient_norms(model, xb, yb), os.path.join(out, "gradient_norms_init.png"))


def _find_lr(model, optimizer, loader, out, device):
    from .diagnostics import lr_range_test, plot_lr_range

    r = lr_range_test(model, optimizer, loader, num_iter=min(100, 4 * len(loader)), start_lr=1e-6, end_lr=10.0,
                      device=device)
    print(f"LR range test: steepest descent at lr {r['suggested_lr']:.3g}, lowest loss at lr "
          f"{r['min_loss_lr']:.3g} (a common pick: {r['min_loss_lr'] / 10:.3g})")
    if out:
        plot_lr_range(r, os.path.join(out, "lr_range.png"))
        print(f"wrote {os.path.join(out, 'lr_range.png')}")
    return 0
