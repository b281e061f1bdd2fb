"""``save(obj, path)`` / ``load(path)``: state dicts (nested dicts of tensors and plain values) in ``.npz``.

Writes to a path are atomic: the data goes to a temporary file ``.tmp-<pid>-*.npz`` in the same
folder, is flushed and fsynced, then renamed over the target, so a crash never leaves a half-written
checkpoint. The temporary file is removed on every error (KeyboardInterrupt included), and temporary
files left by dead processes (kill -9) are removed by the next save into that folder. Saving to a
symlink writes its target (the link stays); the file gets the permissions ``open()`` would give it
(an existing file keeps its mode, a new one gets ``0o666 & ~umask``). ``save``/``load`` also take
binary file objects (written/read directly, as in PyTorch).
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
    from .autograd.creation import as_tensor

    if isinstance(node, dict):
        if "__tensor__" in node:
            # the array read from the file becomes the tensor's storage (one copy per array on the CPU)
            t = as_tensor(arrays.pop(node["__tensor__"]), device=map_location)
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


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_tmp(folder):
    """Delete ``.tmp-<pid>-*.npz`` files in ``folder`` whose writing process is gone (kill -9 mid-save)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(".tmp-") and name.endswith(".npz")):
            continue
        pid = name[5:].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def _target_mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def save(obj, f):
    """Save ``obj`` to ``f``: a path (atomically: temp file + fsync + rename) or a writable binary file object."""
    arrays = {}
    skeleton = _flatten(obj, "", arrays)
    payload = {k: v[0] for k, v in arrays.items()}
    if hasattr(f, "write"):
        write_npz(f, payload, json.dumps(skeleton))
        return
    path = os.fspath(f)
    if os.path.islink(path):
        path = os.path.realpath(path)  # write the link's target; replacing the link would break it
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    _remove_stale_tmp(folder)
    mode = _target_mode(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", suffix=".npz", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            write_npz(fh, payload, json.dumps(skeleton))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def load(f, map_location=None, weights_only=True, max_member_bytes=None):
    """Load what :func:`save` wrote, from a path or a readable binary file object.

    Raises ``ValueError`` naming the file if it is not a valid checkpoint, or if a member declares
    more than ``max_member_bytes`` (default 64 GiB) or is compressed suspiciously well (a
    decompression bomb); nothing is allocated for such a member.
    """
    path = f if hasattr(f, "read") else os.fspath(f)
    try:
        arrays, skeleton = read_npz(path, **({} if max_member_bytes is None else
                                             {"max_member_bytes": int(max_member_bytes)}))
        skeleton = json.loads(skeleton)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise ValueError(f"load: {path!r} is not a valid tinygrad_dnn checkpoint (corrupted or truncated?): {e}") from e
    return _unflatten(skeleton, arrays, map_location)
