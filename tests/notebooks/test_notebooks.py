"""Execute every teaching notebook (``notebooks/[0-9]*.py``, jupytext percent format) top to bottom.

Each notebook is converted to .ipynb with jupytext in a temporary directory and run with nbclient
(a fresh ipykernel, working directory ``notebooks/``) in the reduced-size mode
``TINYGRAD_DNN_NOTEBOOK_SMALL=1`` with ``MPLBACKEND=Agg``. A cell error (including a failed
``assert`` that checks a claim in the text) fails the test with the cell's source and traceback.
Figures go to a temporary directory (``TINYGRAD_DNN_NOTEBOOK_FIGURES``) so the committed full-size
PNGs in ``notebooks/figures/`` are left alone; each notebook must save at least one figure.

Regenerate the committed figures at full size (class mode) with::

    python tests/notebooks/test_notebooks.py            # all notebooks
    python tests/notebooks/test_notebooks.py 01 03      # the ones whose name starts with 01 or 03
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9]*.py"))
TIMEOUT_PER_CELL = 300  # seconds; the whole notebook should take well under a minute in small mode


def execute(src: Path, workdir: Path, small: bool = True, figures: Path | None = None) -> float:
    """Run notebook ``src`` (jupytext .py) and return its wall time in seconds; raise on a cell error."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {"MPLBACKEND": "Agg", "TINYGRAD_DNN_NOTEBOOK_SMALL": "1" if small else "0"}
    if figures is not None:
        env["TINYGRAD_DNN_NOTEBOOK_FIGURES"] = str(figures)
    saved = {k: os.environ.get(k) for k in list(env) + ["TINYGRAD_DNN_NOTEBOOK_FIGURES", "PYDEVD_DISABLE_FILE_VALIDATION"]}
    os.environ.update(env, PYDEVD_DISABLE_FILE_VALIDATION="1")
    if figures is None:
        os.environ.pop("TINYGRAD_DNN_NOTEBOOK_FIGURES", None)
    t0 = time.perf_counter()
    try:
        client = NotebookClient(nb, timeout=TIMEOUT_PER_CELL, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        try:
            client.execute()  # the kernel inherits os.environ; raises CellExecutionError on the first error
        except CellExecutionError as e:  # the cell, the error and its traceback, without terminal colours
            raise AssertionError(f"{src.name} failed:\n" + re.sub(r"\x1b\[[0-9;]*m", "", str(e))) from None
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    elapsed = time.perf_counter() - t0
    import nbformat

    nbformat.write(nb, workdir / (src.stem + ".ipynb"))  # executed copy, handy when debugging
    return elapsed


def test_there_are_notebooks():
    assert SOURCES, f"no notebooks/[0-9]*.py found under {NOTEBOOKS}"


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_notebook_runs_small(src, tmp_path):
    pytest.importorskip("jupytext")
    pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    figures = tmp_path / "figures"
    figures.mkdir()
    elapsed = execute(src, tmp_path, small=True, figures=figures)
    pngs = sorted(p.name for p in figures.glob("*.png"))
    assert pngs, f"{src.name} saved no figure (use savefig(fig, 'what') from its setup cell)"
    prefix = src.stem.split("_")[0] + "_"
    assert all(p.startswith(prefix) for p in pngs), f"{src.name}: figure names must start with {prefix!r}: {pngs}"
    print(f"{src.name}: {elapsed:.1f} s, figures {pngs}")


if __name__ == "__main__":  # full-size run: regenerates notebooks/figures/*.png
    import tempfile

    wanted = sys.argv[1:]
    with tempfile.TemporaryDirectory() as d:
        for src in SOURCES:
            if wanted and not any(src.name.startswith(w) for w in wanted):
                continue
            print(f"{src.name}: {execute(src, Path(d), small=False):.1f} s (full size)", flush=True)
