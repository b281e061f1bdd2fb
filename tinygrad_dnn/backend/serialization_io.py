"""Host-side ``.npz`` reading and writing for checkpoints (the file format lives with NumPy)."""
from __future__ import annotations

import numpy as np

_META = "__tinygrad_dnn_meta__"


def write_npz(fh, arrays: dict, meta: str):
    payload = dict(arrays)
    payload[_META] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    np.savez(fh, **payload)


def read_npz(path):
    with np.load(path, allow_pickle=False) as z:
        if _META not in z.files:
            raise ValueError("missing tinygrad_dnn metadata")
        meta = z[_META].tobytes().decode("utf-8")
        arrays = {k: z[k] for k in z.files if k != _META}
    return arrays, meta
