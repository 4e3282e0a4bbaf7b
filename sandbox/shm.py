"""Anonymous shared memory (memfd): sealed read-only inputs and per-worker result slots.

memfds have no name in any filesystem: when the last descriptor and mapping go (even
when the owner is SIGKILLed) the kernel frees them, so nothing is ever left in /dev/shm.
"""
from __future__ import annotations

import fcntl
import mmap
import os
from dataclasses import dataclass
from typing import Mapping

import numpy as np

__all__ = ["ArraySpec", "SharedInputs", "Slot", "map_inputs", "share_inputs"]

_SEALS = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL


@dataclass(frozen=True)
class ArraySpec:
    """Where one named array lives inside the inputs memfd."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    offset: int


@dataclass(frozen=True)
class SharedInputs:
    """A sealed memfd of `size` bytes holding the arrays described by `specs`."""

    fd: int
    size: int
    specs: tuple[ArraySpec, ...]


def _page_round(n: int) -> int:
    return -(-n // mmap.PAGESIZE) * mmap.PAGESIZE


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"input names must be identifiers not starting with '_', got {name!r}")


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def share_inputs(arrays: Mapping[str, np.ndarray]) -> SharedInputs:
    """Copy `arrays` once into a new memfd and seal it so nobody can ever write it again."""
    layout, offset = [], 0
    for name, array in arrays.items():
        _check_name(name)
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject:
            raise ValueError(f"input {name!r} has dtype {array.dtype}; object arrays cannot be shared")
        layout.append((ArraySpec(name, array.dtype.str, array.shape, offset), array))
        offset += _page_round(array.nbytes)  # page-aligned: each array starts a fresh page
    size = max(offset, mmap.PAGESIZE)
    fd = os.memfd_create("sandbox-inputs", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, size)
        for spec, array in layout:
            if array.nbytes:
                _pwrite_all(fd, memoryview(array).cast("B"), spec.offset)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
    except BaseException:
        os.close(fd)
        raise
    return SharedInputs(fd, size, tuple(spec for spec, _ in layout))


def map_inputs(fd: int, size: int, specs: tuple[ArraySpec, ...]) -> dict[str, np.ndarray]:
    """Map the inputs memfd PROT_READ and return read-only array views (no copy)."""
    memory = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    arrays = {}
    for spec in specs:
        dtype = np.dtype(spec.dtype)
        count = int(np.prod(spec.shape, dtype=np.int64))
        array = np.frombuffer(memory, dtype=dtype, count=count, offset=spec.offset)
        arrays[spec.name] = array.reshape(spec.shape)
    return arrays


class Slot:
    """A memfd the child writes one float64 output into and the parent reads it back from."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.size = size
        self._view: mmap.mmap | None = None

    @classmethod
    def create(cls, nbytes: int) -> Slot:
        """Make a slot for up to `nbytes` of output (pages are only allocated when written)."""
        size = max(_page_round(nbytes), mmap.PAGESIZE)
        fd = os.memfd_create("sandbox-slot", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, size)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, size)

    def map_for_writing(self, nbytes: int | None = None) -> mmap.mmap:
        """Map the slot writable in a child; with `nbytes`, prefault exactly that many bytes."""
        if nbytes is None:
            return mmap.mmap(self.fd, self.size, flags=mmap.MAP_SHARED)
        length = min(max(_page_round(nbytes), mmap.PAGESIZE), self.size)
        return mmap.mmap(self.fd, length, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE)

    def read(self, shape: tuple[int, ...]) -> np.ndarray:
        """Copy a float64 array of `shape` out of the slot (caller checked it fits)."""
        if self._view is None:
            self._view = mmap.mmap(self.fd, self.size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        count = int(np.prod(shape, dtype=np.int64))
        return np.frombuffer(self._view, dtype=np.float64, count=count).reshape(shape).copy()

    def close(self) -> None:
        """Unmap and close the memfd (idempotent)."""
        if self._view is not None:
            self._view.close()
            self._view = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
