"""Host-side ``.npz`` reading and writing for checkpoints (the file format lives with NumPy).

Reading is defensive: every member's declared sizes are checked before anything is allocated
(a member larger than ``max_member_bytes``, a compression ratio above ``MAX_COMPRESSION_RATIO``, or
an ``.npy`` header that declares more data than the member holds is refused), and each array is
read once, straight into its final buffer.
"""
from __future__ import annotations

import zipfile

import numpy as np

_META = "__tinygrad_dnn_meta__"
# tinygrad_dnn writes members uncompressed (ratio 1); a deflated member this much smaller than it claims
# to be is a decompression bomb, not a checkpoint
MAX_COMPRESSION_RATIO = 100
MAX_MEMBER_BYTES = 1 << 36  # 64 GiB: far beyond any checkpoint this library writes


def write_npz(fh, arrays: dict, meta: str):
    payload = dict(arrays)
    payload[_META] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    np.savez(fh, **payload)


def _read_member(z, info, max_member_bytes):
    name = info.filename
    if info.file_size > max_member_bytes:
        raise ValueError(f"member {name!r} declares {info.file_size} bytes, more than the limit of "
                         f"{max_member_bytes} bytes (load(..., max_member_bytes=) raises it)")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > (1 << 20) \
            and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ValueError(f"member {name!r} declares {info.file_size} bytes compressed into {info.compress_size} "
                         f"(ratio above {MAX_COMPRESSION_RATIO}): refused as a decompression bomb")
    with z.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if dtype.hasobject:
            raise ValueError(f"member {name!r} holds Python objects; refused (loading never runs code)")
        count = 1
        for s in shape:
            count *= int(s)
        nbytes = count * dtype.itemsize
        if nbytes > info.file_size:
            raise ValueError(f"member {name!r}: its header declares {shape} {dtype} ({nbytes} bytes) but the "
                             f"member holds only {info.file_size} bytes (corrupted or truncated)")
        arr = np.empty(count, dtype=dtype)
        view = memoryview(arr.view(np.uint8).reshape(-1)) if nbytes else memoryview(b"")
        got = 0
        while got < nbytes:
            n = f.readinto(view[got:got + (1 << 20)])  # in chunks: zipfile buffers each read
            if not n:
                raise ValueError(f"member {name!r} ends after {got} of {nbytes} bytes (truncated)")
            got += n
        if f.read(1):  # reading to the end also makes zipfile verify the member's CRC
            raise ValueError(f"member {name!r} holds more bytes than its header declares (corrupted)")
    arr = arr.reshape(shape[::-1]).transpose() if fortran else arr.reshape(shape)
    return arr


def read_npz(f, max_member_bytes=MAX_MEMBER_BYTES):
    """``(arrays, meta)`` from a path or a readable binary file object."""
    with zipfile.ZipFile(f) as z:
        infos = {i.filename[:-4] if i.filename.endswith(".npy") else i.filename: i for i in z.infolist()}
        if _META not in infos:
            raise ValueError("missing tinygrad_dnn metadata")
        meta = _read_member(z, infos.pop(_META), max_member_bytes).tobytes().decode("utf-8")
        arrays = {k: _read_member(z, info, max_member_bytes) for k, info in infos.items()}
    return arrays, meta
