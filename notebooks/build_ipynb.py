"""Regenerate the committed notebooks ``notebooks/NN_*.ipynb`` from their jupytext sources ``NN_*.py``.

Every ``notebooks/NN_*.py`` (two digits, an underscore, any name: new notebooks are picked up
automatically) is read with jupytext, executed top to bottom with nbclient in a fresh ``python3`` kernel
(working directory ``notebooks/``, full size: ``TINYGRAD_DNN_NOTEBOOK_SMALL=0``, matplotlib's inline
backend so the figures are embedded as PNG) and written next to it as ``NN_*.ipynb`` with its outputs.
The ``.ipynb`` is paired with the ``.py`` (jupytext ``formats: ipynb,py:percent``); the ``.py`` stays the
source that is edited and reviewed. ``tests/notebooks/test_ipynb_sync.py`` checks that both hold the same
cells.

Usage (from the repository root)::

    python notebooks/build_ipynb.py               # all notebooks, full size; figures to a scratch folder
    python notebooks/build_ipynb.py 03 12         # only notebooks/03_*.py and notebooks/12_*.py
    python notebooks/build_ipynb.py --figures     # also regenerate the committed notebooks/figures/*.png
    python notebooks/build_ipynb.py --small       # reduced size (quick check; do not commit the result)

A cell error (a failed ``assert`` included) stops that notebook with its traceback; the script then
goes on with the next one and exits non-zero at the end, leaving the failed notebook's ``.ipynb`` as it
was.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent
FIGURES = NOTEBOOKS / "figures"
PATTERN = re.compile(r"^\d\d_\w+\.py$")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
TIMEOUT_PER_CELL = 600  # seconds


def sources(folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebook sources ``NN_*.py`` in ``folder``, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.py") if PATTERN.match(p.name))


def read(src: Path):
    """The notebook of jupytext source ``src`` (no outputs), paired with ``.ipynb`` and a python3 kernel."""
    import jupytext

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    return nb


def execute(nb, name: str, *, small: bool, figures: Path, backend: str | None = None) -> float:
    """Run notebook ``nb`` in place (outputs kept); return its wall time in seconds.

    ``small`` selects the reduced CI size, ``figures`` is where its ``savefig`` writes, ``backend`` is
    matplotlib's (``None``: the inline backend, which embeds the figures in the outputs). Raises
    ``AssertionError`` with the failing cell and its traceback on the first cell error.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {"TINYGRAD_DNN_NOTEBOOK_SMALL": "1" if small else "0",
           "TINYGRAD_DNN_NOTEBOOK_FIGURES": str(figures),
           "MPLBACKEND": backend or "module://matplotlib_inline.backend_inline",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits os.environ
    t0 = time.perf_counter()
    try:
        client = NotebookClient(nb, timeout=TIMEOUT_PER_CELL, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        try:
            client.execute()
        except CellExecutionError as e:  # the cell, the error and its traceback, without terminal colours
            raise AssertionError(f"{name} failed:\n" + re.sub(r"\x1b\[[0-9;]*m", "", str(e))) from None
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return time.perf_counter() - t0


def build(src: Path, *, small: bool = False, figures: Path | None = None) -> tuple[Path, float]:
    """Execute ``src`` and write ``src.with_suffix('.ipynb')``; return that path and the run time."""
    import nbformat

    nb = read(src)
    with tempfile.TemporaryDirectory() as scratch:
        elapsed = execute(nb, src.name, small=small, figures=figures or Path(scratch))
    nb.metadata["tinygrad_dnn"] = {"size": "small" if small else "full"}
    out = src.with_suffix(".ipynb")
    nbformat.write(nb, out)
    return out, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="name prefixes (e.g. 03 12); default: every NN_*.py")
    parser.add_argument("--figures", action="store_true",
                        help=f"save the figures into {FIGURES} (the committed PNGs) instead of a scratch folder")
    parser.add_argument("--small", action="store_true", help="reduced size (TINYGRAD_DNN_NOTEBOOK_SMALL=1)")
    args = parser.parse_args(argv)
    todo = [s for s in sources() if not args.only or any(s.name.startswith(w) for w in args.only)]
    if not todo:
        print(f"no notebooks/NN_*.py matches {args.only}", file=sys.stderr)
        return 2
    if args.figures:
        FIGURES.mkdir(exist_ok=True)
    failed = []
    for src in todo:
        try:
            out, elapsed = build(src, small=args.small, figures=FIGURES if args.figures else None)
        except AssertionError as e:
            print(e, file=sys.stderr)
            failed.append(src.name)
            continue
        print(f"{out.name}: {elapsed:.1f} s ({'small' if args.small else 'full'} size), "
              f"{out.stat().st_size / 2**20:.2f} MiB", flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)} (their .ipynb were not rewritten)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
