"""Host kernels for ``nn.init`` that the Array API lacks (kept in backend/, the only place using NumPy).

Random draws use the one host generator, so initialization is identical on every device.
"""
from __future__ import annotations

import numpy as _np

from . import random as _random


def orthogonal(backend, rows, cols, dtype, generator=None):
    """A (rows, cols) matrix with orthonormal rows (rows < cols) or columns, on ``backend``.

    QR of an N(0, 1) host matrix, with the signs of R's diagonal folded into Q so the result is
    uniformly (Haar) distributed, as ``torch.nn.init.orthogonal_``.
    """
    a = _random.generator_rng(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        a = a.T
    q, r = _np.linalg.qr(a)
    d = _np.sign(_np.diag(r))
    d[d == 0] = 1.0
    q = q * d
    if rows < cols:
        q = q.T
    return backend.from_host(_np.ascontiguousarray(q), dtype)
