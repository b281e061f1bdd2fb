"""Command line: ``tinygrad-dnn {train,gradcheck,bench,doctor,info,exercises}`` (also ``python -m tinygrad_dnn``).

Without a command it prints its usage and exits with status 2 (argparse's convention for a missing
argument). A closed stdout (``tinygrad-dnn train | head -1``) ends it quietly with status 141 (as a
process killed by SIGPIPE), without a traceback.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time


def _cmd_info(args):
    import tinygrad_dnn as tg
    from tinygrad_dnn.backend import available_devices

    print(f"tinygrad_dnn {tg.__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    from tinygrad_dnn.backend.numpy_backend import np

    print(f"numpy {np.__version__}")
    for mod in ("array_api_strict", "cupy", "torch", "sklearn", "matplotlib", "tqdm"):
        try:
            m = __import__(mod)
            print(f"{mod} {getattr(m, '__version__', '?')}")
        except Exception:
            print(f"{mod} not installed")
    print("devices: " + ", ".join(available_devices()))
    print(f"default dtype: {tg.get_default_dtype()}")
    return 0


def _cmd_gradcheck(args):
    from tinygrad_dnn.backend import available_devices
    from tinygrad_dnn.gradcheck import GradcheckError, check_gradients, gradgradcheck
    from tinygrad_dnn.testing import OPS

    if args.device not in [d.split(":")[0] for d in available_devices()] + available_devices():
        print(f"error: --device {args.device!r} is not available here; available: {', '.join(available_devices())}",
              file=sys.stderr)
        return 2
    if args.list:
        for s in OPS:
            print(s.name)
        return 0
    specs = [s for s in OPS if not args.only or any(k in s.name for k in args.only)]
    if not specs:
        print(f"error: no op matches {' '.join(args.only)}; `tinygrad-dnn gradcheck --list` lists the op names",
              file=sys.stderr)
        return 2
    width = max(len(s.name) for s in specs)
    print(f"{'op':<{width}}  {'checks':>6}  {'max rel err':>11}  {'2nd order':>9}  result")
    failed = 0
    t0 = time.perf_counter()
    for spec in specs:
        inputs = spec.make_inputs(args.device, dtype=args.dtype)
        allow32 = args.dtype != "float64"
        eps = 1e-6 if not allow32 else 5e-3
        atol, rtol = (spec.atol, spec.rtol) if not allow32 else (1e-2, 1e-1)
        try:
            r = check_gradients(spec.fn, inputs, eps, atol, rtol, allow_float32=allow32)
            ok = r.passed
            second = "-"
            if ok and spec.second_order and not args.first_order_only:
                try:
                    gradgradcheck(spec.fn, inputs, eps=eps, atol=atol, rtol=rtol, allow_float32=allow32)
                    second = "pass"
                except GradcheckError:
                    second, ok = "FAIL", False
            detail = f"{r.n_checks:>6}  {r.max_rel_error:>11.2e}  {second:>9}"
        except Exception as e:  # report and keep going
            ok, detail = False, f"{'':>6}  {'':>11}  {'':>9}  error: {type(e).__name__}: {e}"[:200]
        failed += not ok
        print(f"{spec.name:<{width}}  {detail}  {'pass' if ok else 'FAIL'}")
    print(f"{len(specs) - failed} passed, {failed} failed ({args.device}, {args.dtype}, "
          f"{time.perf_counter() - t0:.1f} s)")
    return 1 if failed else 0


def _cmd_train(args):
    try:
        from tinygrad_dnn.train.cli import run_train
    except ImportError as e:  # pragma: no cover - during development only
        print(f"error: training is not available: {e}", file=sys.stderr)
        return 2
    return run_train(args)


def _cmd_bench(args):
    if any(s in ("-h", "--help") for s in args.suites):  # `tinygrad-dnn bench -- --help`
        args.bench_parser.print_help()
        return 0
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from benchmarks import suites as bench_suites
        from benchmarks.runner import main as bench_main
    except ImportError as e:
        print(f"error: the benchmark suite lives in the source tree's benchmarks/ folder ({e}); "
              "run from a clone of the repository", file=sys.stderr)
        return 2
    unknown = [s for s in args.suites if s not in bench_suites.SUITES]
    if unknown and not args.list:
        print(f"error: unknown benchmark suite {', '.join(map(repr, unknown))}; `tinygrad-dnn bench --list` "
              f"lists them ({', '.join(bench_suites.SUITES)})", file=sys.stderr)
        return 2
    argv = list(args.suites) + (["--list"] if args.list else []) + (["--quick"] if args.quick else [])
    return bench_main(argv + ["--out", os.path.abspath(args.out)])


def _cmd_doctor(args):
    from tinygrad_dnn.doctor import run

    return run(devices=args.device or None, bench=not args.no_bench)


def _cmd_exercises(args):
    from tinygrad_dnn.exercises.cli import run

    return run(args)


def build_parser():
    p = argparse.ArgumentParser(prog="tinygrad-dnn", description="tinygrad_dnn: train, gradient-check, benchmark.")
    sub = p.add_subparsers(dest="command")
    t = sub.add_parser("train", help="train a model on a bundled dataset (default: BN+dropout MLP on digits)")
    try:
        from tinygrad_dnn.train.cli import add_train_arguments

        add_train_arguments(t)
    except ImportError:
        pass
    t.set_defaults(func=_cmd_train)
    g = sub.add_parser("gradcheck", help="run the op gradient-check suite and print a table")
    g.add_argument("--device", default="cpu", help="cpu, strict or cuda (default: cpu)")
    g.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                   help="float64 (default; finite differences need it) or float32 (loose tolerances)")
    g.add_argument("--only", nargs="*", help="only ops whose name contains one of these words")
    g.add_argument("--first-order-only", action="store_true", help="skip the second-order checks")
    g.add_argument("--list", action="store_true", help="list the op names (for --only) and exit")
    g.set_defaults(func=_cmd_gradcheck)
    b = sub.add_parser("bench", help="run the benchmark suite (or named parts): tinygrad-dnn bench mlp --quick",
                       description="Benchmarks: tinygrad_dnn vs hand-written NumPy/CuPy vs PyTorch (needs the "
                                   "source tree's benchmarks/ folder).")
    b.add_argument("suites", nargs="*", help="suites to run (default: all; see --list)")
    b.add_argument("--list", action="store_true", help="list the suites and exit")
    b.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    b.add_argument("--out", default="bench-results", metavar="DIR",
                   help="folder for the JSON/Markdown/PNG results (default: ./bench-results)")
    b.set_defaults(func=_cmd_bench, bench_parser=b)
    d = sub.add_parser("doctor", help="one-minute self-test of every device (ops vs CPU, training step, RNG, "
                                      "host syncs, speed vs PyTorch) with a verdict",
                       description="Checks every available device against the CPU and prints a verdict to paste "
                                   "into a question; exit status 0 when everything passed.")
    d.add_argument("--device", action="append", help="check only this device (repeatable): cpu, strict, cuda")
    d.add_argument("--no-bench", action="store_true", help="skip the quick benchmark")
    d.set_defaults(func=_cmd_doctor)
    i = sub.add_parser("info", help="versions, backends and devices")
    i.set_defaults(func=_cmd_info)
    from tinygrad_dnn.exercises.cli import add_arguments as _exercise_arguments

    e = sub.add_parser("exercises", help="graded exercises with an autograder: list, init DIR, check N | --all",
                       description="Exercises (students write the backward passes) and their grader.")
    _exercise_arguments(e)
    e.set_defaults(func=_cmd_exercises)
    return p


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:  # options but no command
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: choose a command: train, gradcheck, bench, doctor, info or exercises", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:  # stdout closed early (`| head`): stop quietly, as other command-line tools do
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
