"""``python benchmarks/run.py [suite ...] [--quick] [--out DIR]`` (same as ``python -m benchmarks``)."""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.runner import main

    sys.exit(main())
