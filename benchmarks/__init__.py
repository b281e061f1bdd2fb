"""tinygrad_dnn benchmarks (not part of the installed package). ``run(suites, quick, out)`` or ``python -m benchmarks``."""
from .runner import main, run  # noqa: F401
