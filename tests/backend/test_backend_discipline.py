"""Only the backend package imports numpy or cupy (tinygrad_dnn/data is the documented host boundary;
tinygrad_dnn/exercises holds students' NumPy exercises and their reference checks, outside the library)."""
import pathlib
import re

PKG = pathlib.Path(__file__).resolve().parents[2] / "tinygrad_dnn"
ALLOWED = {"backend", "data", "exercises"}
PATTERN = re.compile(r"^\s*(import (numpy|cupy)|from (numpy|cupy)[ .])", re.M)


def test_numpy_and_cupy_are_imported_only_in_the_backend():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ALLOWED:
            continue
        if PATTERN.search(path.read_text()):
            offenders.append(str(rel))
    assert not offenders, f"numpy/cupy imported outside backend/: {offenders}"


def test_core_never_imports_nn_optim_or_train():
    pat = re.compile(r"^\s*(from \.\.(nn|optim|train|data)\b|import tinygrad_dnn\.(nn|optim|train))", re.M)
    offenders = [str(p.relative_to(PKG)) for p in (PKG / "autograd").rglob("*.py") if pat.search(p.read_text())]
    assert not offenders, offenders
