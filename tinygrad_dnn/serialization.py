"""``save(obj, path)`` / ``load(path)``: state dicts (nested dicts of tensors and plain values) in ``.npz``.

Writes are atomic: the data goes to a temporary file in the same folder, is flushed and fsynced,
then renamed over the target, so a crash never leaves a half-written checkpoint.
"""
from __future__ import annotations

import json
import os
import tempfile

from .backend.serialization_io import read_npz, write_npz
from .autograd.tensor import Tensor


def _flatten(obj, prefix, arrays, meta_path=""):
    """Split ``obj`` into a JSON skeleton and a dict of arrays (keys 'a0', 'a1', ...)."""
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = (obj.backend.to_host(obj._data), str(obj.device))
        return {"__tensor__": key, "requires_grad": obj.requires_grad}
    if isinstance(obj, dict):
        items = [[_flatten(k, prefix, arrays), _flatten(v, prefix, arrays)] for k, v in obj.items()]
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        return {"__list__" if isinstance(obj, list) else "__tuple__": [_flatten(v, prefix, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "dtype") and hasattr(obj, "shape"):  # a host array
        key = f"a{len(arrays)}"
        arrays[key] = (obj, None)
        return {"__array__": key}
    raise TypeError(f"save: cannot serialize an object of type {type(obj).__name__}; "
                    "save state_dict()s, tensors, arrays, numbers, strings, lists and dicts")


def _unflatten(node, arrays, map_location):
    from .autograd.creation import tensor

    if isinstance(node, dict):
        if "__tensor__" in node:
            t = tensor(arrays[node["__tensor__"]], device=map_location)
            return t.requires_grad_(True) if node.get("requires_grad") else t
        if "__array__" in node:
            return arrays[node["__array__"]]
        if "__dict__" in node:
            return {_unflatten(k, arrays, map_location): _unflatten(v, arrays, map_location) for k, v in node["__dict__"]}
        if "__list__" in node:
            return [_unflatten(v, arrays, map_location) for v in node["__list__"]]
        if "__tuple__" in node:
            return tuple(_unflatten(v, arrays, map_location) for v in node["__tuple__"])
    return node


def save(obj, f):
    """Save ``obj`` to path ``f`` atomically (temp file + fsync + rename)."""
    arrays = {}
    skeleton = _flatten(obj, "", arrays)
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write_npz(fh, {k: v[0] for k, v in arrays.items()}, json.dumps(skeleton))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(f, map_location=None, weights_only=True):
    """Load what :func:`save` wrote. Raises ``ValueError`` naming the file if it is not a valid checkpoint."""
    path = os.fspath(f)
    try:
        arrays, skeleton = read_npz(path)
        skeleton = json.loads(skeleton)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise ValueError(f"load: {path!r} is not a valid tinygrad_dnn checkpoint (corrupted or truncated?): {e}") from e
    return _unflatten(skeleton, arrays, map_location)
