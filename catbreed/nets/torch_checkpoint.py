"""Read a legacy (pre-1.6, non-zip) PyTorch state dict without torch, and without trusting it.

A torch checkpoint is a pickle, and unpickling runs whatever code the file names. So the file's
sha256 is checked first, and the unpickler resolves only the handful of globals a plain state dict
needs (an OrderedDict, the tensor rebuild helper, the storage types); anything else is refused.

Legacy layout, as `torch.serialization._legacy_load` reads it: four pickles (magic number,
protocol version, system info, the state dict whose tensors point at storages by persistent id),
a fifth pickle listing the storage keys, then each storage as int64 element count + raw bytes.
"""

from __future__ import annotations

import collections
import hashlib
import pickle
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UntrustedCheckpointError(ValueError):
    """The file is not the checkpoint we expected, or asks for code a state dict never needs."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Storage:
    """Placeholder for a storage whose bytes come after the pickles."""

    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype = np.dtype(dtype)
        self.numel = numel
        self.array: np.ndarray | None = None


class _TensorRef:
    """A view into a storage, filled in once the storage bytes are read."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def _check_bounds(self) -> None:
        """`as_strided` reads wherever the sizes and strides point: a crafted file could make it read
        far past the storage, so every element a view can reach must lie inside it."""
        numbers = (self.offset, *self.size, *self.stride)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise UntrustedCheckpointError("a tensor has a negative or non-integer size, stride or offset")
        if len(self.size) != len(self.stride):
            raise UntrustedCheckpointError("a tensor's sizes and strides do not match")
        if self.storage.array is None:
            raise UntrustedCheckpointError("a tensor points at a storage the file does not hold")
        if 0 in self.size:
            return
        last = self.offset + sum((n - 1) * step for n, step in zip(self.size, self.stride))
        if last >= len(self.storage.array):
            raise UntrustedCheckpointError("a tensor reaches past the end of its storage")

    def to_numpy(self) -> np.ndarray:
        self._check_bounds()
        if 0 in self.size:
            return np.zeros(self.size, dtype=self.storage.dtype)
        itemsize = self.storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.array[self.offset :],
            shape=self.size,
            strides=tuple(s * itemsize for s in self.stride),
        )
        return np.array(view)  # own the memory, so the storage can be freed


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    return _TensorRef(storage, storage_offset, size, stride)


class _StorageType:
    def __init__(self, name: str):
        self.dtype = _STORAGE_DTYPES[name]


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: dict):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UntrustedCheckpointError(f"checkpoint asks for {module}.{name}, which a state dict never needs")

    def persistent_load(self, saved_id):
        kind = saved_id[0].decode() if isinstance(saved_id[0], bytes) else saved_id[0]
        if kind != "storage":
            raise UntrustedCheckpointError(f"unexpected persistent object {kind!r} in checkpoint")
        storage_type, key, _location, numel, view_metadata = saved_id[1:6]
        if view_metadata is not None:
            raise UntrustedCheckpointError("storage views are not supported in this checkpoint reader")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, numel)
        return self._storages[key]


def load_legacy_state_dict(path: Path, expected_sha256: str) -> dict[str, np.ndarray]:
    """Return {parameter name: array} from a legacy torch checkpoint whose hash must match."""
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise UntrustedCheckpointError(
            f"{path} has sha256 {actual}, expected {expected_sha256}; reinstall the weights package"
        )
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as f:
        plain = _RestrictedUnpickler(f, storages)
        if plain.load() != LEGACY_MAGIC_NUMBER:
            raise UntrustedCheckpointError(f"{path} is not a legacy torch checkpoint")
        plain.load()  # protocol version
        plain.load()  # system info (endianness, type sizes)
        state = _RestrictedUnpickler(f, storages).load()
        keys = _RestrictedUnpickler(f, storages).load()
        for key in keys:
            storage = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            data = f.read(numel * storage.dtype.itemsize)
            if numel != storage.numel or len(data) != numel * storage.dtype.itemsize:
                raise UntrustedCheckpointError(f"{path} is truncated or corrupt")
            storage.array = np.frombuffer(data, dtype=storage.dtype)
    if not isinstance(state, dict):
        raise UntrustedCheckpointError(f"{path} does not hold a state dict")
    return {name: ref.to_numpy() for name, ref in state.items() if isinstance(ref, _TensorRef)}
