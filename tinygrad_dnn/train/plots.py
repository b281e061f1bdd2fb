"""Figures of a training run: :func:`plot_history` and the helpers the diagnostics share."""
from __future__ import annotations

import os

from .history import History


def figure(nrows, ncols, size):
    """A matplotlib Figure with an Agg canvas (no display needed) and a grid of axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path):
    """Save a matplotlib Figure to PNG atomically-ish (temp file + rename); returns the path."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    fig.tight_layout()
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)
    return path


def plot_history(history, path=None):
    """Loss, accuracy and learning-rate curves per epoch (train and validation) to a PNG.

    ``history`` is a :class:`History` or its ``to_dict()``. Returns the matplotlib Figure (and
    writes ``path`` when given). Uses the Agg canvas, so no display is needed.
    """
    h = history.history if isinstance(history, History) else dict(history)
    epochs = h.get("epoch") or list(range(1, len(h.get("loss", [])) + 1))
    panels = [("loss", "loss"), ("accuracy", "accuracy")]
    panels = [p for p in panels if p[0] in h or "val_" + p[0] in h]
    show_lr = "lr" in h
    fig, axes = figure(1, len(panels) + show_lr, (4.2 * (len(panels) + show_lr), 3.4))
    for ax, (key, title) in zip(axes[0], panels):
        for k, label, style in ((key, "train", "-"), ("val_" + key, "validation", "--")):
            if k in h:
                pts = [(e, v) for e, v in zip(epochs, h[k]) if v is not None]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="." if len(pts) < 30 else None,
                            label=label)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    if show_lr:
        ax = axes[0][-1]
        ax.plot(epochs, h["lr"], color="tab:green")
        if all(v is not None and v > 0 for v in h["lr"]):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title("learning rate")
        ax.grid(alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig
