"""docs/derivatives.md is generated from the ops' docstrings and must be current."""
from tinygrad_dnn.testing import derivatives


def test_derivatives_doc_is_current():
    with open(derivatives.DOC, encoding="utf-8") as f:
        committed = f.read()
    assert committed == derivatives.render(), (
        "docs/derivatives.md is stale: regenerate it with `python -m tinygrad_dnn.testing.derivatives --write`")


def test_every_function_has_a_formula_and_a_location():
    rows = derivatives.functions()
    assert len(rows) > 50
    for path, line, cls in rows:
        assert (cls.__doc__ or "").strip(), f"{cls.__name__} ({path}:{line}) has no docstring with its formula"
        assert path.startswith("tinygrad_dnn/") and line > 0
    text = derivatives.render()
    assert "| `Mul` | `MulBackward` |" in text and "dz/da = b" in text


def test_no_op_branches_on_grad_mode():
    # docs/architecture.md: a gradient that needs array math for speed is itself a Function with a
    # differentiable backward (Chainer's pattern), never a `_grad_enabled` branch inside an op
    import pathlib

    ops = pathlib.Path(derivatives.__file__).resolve().parents[1] / "autograd" / "ops"
    offenders = [p.name for p in sorted(ops.glob("*.py")) if "_grad_enabled" in p.read_text(encoding="utf-8")]
    assert offenders == [], f"ops reading grad mode: {offenders}"
