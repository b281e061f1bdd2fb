"""``tinygrad-dnn exercises {list,init,check}``: the command line of the exercises and their grader.

    tinygrad-dnn exercises list                      one numbered line per exercise
    tinygrad-dnn exercises init DIR                  copy the blank student files to DIR (never overwrites)
    tinygrad-dnn exercises check 3 [5 ...] [--dir DIR]   grade some exercises
    tinygrad-dnn exercises check --all [--dir DIR]   grade all of them
    tinygrad-dnn exercises check --all --solutions   grade the reference solutions (instructors, CI)

Files graded without --dir: $TINYGRAD_DNN_EXERCISES, else ./exercises when it holds exercise files,
else the current folder when it does, else the packaged blank skeletons. Exit status: 0 when every
check passed, 1 when any failed, 2 for a usage error (unknown exercise, nothing to check).
"""
from __future__ import annotations

import sys


def add_arguments(parser):
    sub = parser.add_subparsers(dest="exercises_command", metavar="{list,init,check}")
    sub.add_parser("list", help="one numbered line per exercise")
    i = sub.add_parser("init", help="copy the blank student files to DIR (refuses to overwrite)")
    i.add_argument("dir", metavar="DIR", help="folder to create or fill (e.g. my_exercises)")
    c = sub.add_parser("check", help="grade exercises: check 3, check 3 5, check --all",
                       description="Grade exercises and report what is wrong and where. Files: --dir, else "
                                   "$TINYGRAD_DNN_EXERCISES, else ./exercises if it holds exercise files, else . if it does, else the "
                                   "packaged blank skeletons. Exit status 0 only when every check passed.")
    c.add_argument("which", nargs="*", metavar="N", help="exercise numbers or names (see `list`)")
    c.add_argument("--all", action="store_true", help="grade every exercise")
    c.add_argument("--dir", metavar="DIR", help="folder with the student's exNN_*.py files")
    c.add_argument("--solutions", action="store_true", help="grade the reference solutions instead")
    c.add_argument("--torch", action="store_true", help="also compare the optimizer steps with torch.optim")


def run(args):
    from . import EXERCISES, get, grade, init, list_exercises, resolve_dir, summary

    cmd = getattr(args, "exercises_command", None)
    if cmd == "list":
        print("\n".join(list_exercises()))
        return 0
    if cmd == "init":
        try:
            copied = init(args.dir)
        except FileExistsError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"copied {len(copied)} exercise files to {args.dir}; edit the blanks (# BEGIN YOUR CODE), then run\n"
              f"  tinygrad-dnn exercises check --all --dir {args.dir}")
        return 0
    if cmd != "check":
        print("usage: tinygrad-dnn exercises {list,init DIR,check N|--all}", file=sys.stderr)
        return 2
    if not args.which and not args.all:
        print("error: name the exercises to check (check 3, check 3 5) or use --all; `tinygrad-dnn exercises list` "
              "lists them", file=sys.stderr)
        return 2
    try:
        chosen = EXERCISES if args.all else [get(w) for w in args.which]
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    if args.torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("error: --torch needs PyTorch installed", file=sys.stderr)
            return 2
    folder, why = resolve_dir(args.dir, args.solutions)
    print(f"grading {folder} ({why})\n")
    results = []
    for ex in chosen:
        r = grade(ex.number, args.dir, args.solutions, torch=args.torch)
        print(r.report() + "\n")
        results.append(r)
    if len(results) > 1:
        print(summary(results).lstrip("\n"))
    return 0 if all(r.passed for r in results) else 1
