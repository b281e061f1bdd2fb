"""The committed notebooks ``notebooks/NN_*.ipynb`` match their jupytext sources ``NN_*.py`` (no execution).

Students open the ``.ipynb`` (Jupyter, Colab); the ``.py`` is what is edited and reviewed. This checks,
for every ``NN_*.py``, that the ``.ipynb`` exists, holds the same cells (type and source, as jupytext
reads the ``.py``), was executed at full size by ``notebooks/build_ipynb.py`` (every code cell ran, no
error output) and stays small enough to open quickly; and that no ``.ipynb`` is left without a source.
Fix a failure with ``python notebooks/build_ipynb.py NN`` (full-size run, writes the ``.ipynb``).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SOURCES = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.py") if re.match(r"^\d\d_\w+\.py$", p.name))
MAX_MIB = 2.5  # the figures are embedded as PNG; measured sizes are in notebooks/README.md
FIX = "run `python notebooks/build_ipynb.py {n}` from the repository root and commit the .ipynb"


def cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_ipynb_has_a_source():
    orphans = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if not p.with_suffix(".py").exists())
    assert not orphans, f"notebooks without a jupytext source NN_*.py: {orphans}"


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_ipynb_in_sync(src):
    jupytext = pytest.importorskip("jupytext")
    import nbformat

    n = src.name[:2]
    ipynb = src.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: {FIX.format(n=n)}"
    want, nb = jupytext.read(src), nbformat.read(ipynb, as_version=4)
    got_cells, want_cells = cells(nb), cells(want)
    if got_cells != want_cells:
        diff = next((i for i, (a, b) in enumerate(zip(got_cells, want_cells)) if a != b), min(map(len, (got_cells, want_cells))))
        where = want_cells[diff][1][:200] if diff < len(want_cells) else "(end of the .py)"
        raise AssertionError(f"{ipynb.name} differs from {src.name} from cell {diff} on "
                             f"({len(got_cells)} vs {len(want_cells)} cells); the .py has:\n{where}\n{FIX.format(n=n)}")
    assert nb.metadata.get("tinygrad_dnn", {}).get("size") == "full", \
        f"{ipynb.name} was not executed at full size: {FIX.format(n=n)}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    not_run = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not not_run, f"{ipynb.name}: code cells {not_run} have no output: {FIX.format(n=n)}"
    errors = [i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"{ipynb.name}: code cells {errors} hold an error: {FIX.format(n=n)}"
    size = ipynb.stat().st_size / 2**20
    assert size < MAX_MIB, f"{ipynb.name} is {size:.1f} MiB (> {MAX_MIB}): use fewer or smaller embedded figures"


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_first_cell_checks_the_install(src):
    """The first code cell says how to install when ``import tinygrad_dnn`` fails (Colab, fresh kernels)."""
    jupytext = pytest.importorskip("jupytext")
    first = next(c for c in jupytext.read(src).cells if c.cell_type == "code")
    assert 'find_spec("tinygrad_dnn")' in first.source and 'pip install -e \\".[notebooks]\\"' in first.source, \
        f"{src.name}: the first code cell must check `import tinygrad_dnn` and say how to install it " \
        f"(copy it from 01_autograd_from_scratch.py)"
