"""Profile the tinygrad_dnn MLP step (cProfile) next to the hand-written NumPy step.

``python -m benchmarks.profile_step [--steps N] [--sort tottime]``
"""
from __future__ import annotations

import argparse
import cProfile
import pstats

from .models import HandMLP, TgMLP, init_weights, make_batch


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--sort", default="tottime")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lines", type=int, default=30)
    a = p.parse_args(argv)
    w = init_weights([784, 512, 512, 10])
    x, y = make_batch(a.batch, 784, 10)
    for name, m in (("tinygrad_dnn", TgMLP(w)), ("numpy", HandMLP(w))):
        m.set_batch(x, y)
        for _ in range(3):
            m.step()
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(a.steps):
            m.step()
        pr.disable()
        print(f"===== {name}: {a.steps} steps, batch {a.batch}")
        pstats.Stats(pr).sort_stats(a.sort).print_stats(a.lines)


if __name__ == "__main__":
    main()
