"""The one atomic writer of files that are not HDF5: reports, figures, exported signals.

A file is written to a temp file beside its target (a unique ``O_EXCL`` name
``.<target>.<pid>.<random>.tmp``), flushed and fsynced, given the target's mode bits (or the
umask's for a new file), ``os.replace``-d over the target and the directory is fsynced — so a
reader sees the old file or the new one, never half of one, and a crash or an exception (including
``KeyboardInterrupt``) leaves the target untouched and no temp file behind. The HDF5 writer
(:func:`sigbench.h5.atomic_h5`) follows the same steps and adds the read-back validation.

>>> import os, tempfile
>>> from sigbench.atomic import atomic_write_bytes
>>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
>>> atomic_write_bytes(path, b"hello").read_bytes()
b'hello'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sigbench.errors import WriteError

__all__ = ["atomic_open", "atomic_write_bytes"]


def _disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary stream whose content replaces ``target`` atomically when the block ends without error.

    Parameters
    ----------
    target : path-like
        The file to create or replace (its directory must exist).

    Yields
    ------
    BinaryIO
        A stream open for writing into the temp file beside ``target``.

    Raises
    ------
    WriteError
        The directory is missing or not writable, ``target`` is a directory, the disk is full; the
        target is untouched and no temp file is left.
    """
    path = Path(target)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise WriteError(f"cannot write {path}: directory {directory} does not exist")
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a directory")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"disk full: cannot write {path}" if _disk_full(exc)
                         else f"cannot write {path}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
        _fsync_dir(directory)
    except OSError as exc:
        if _disk_full(exc):
            raise WriteError(f"disk full while writing {path}; the previous file is untouched") from None
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}; the previous file is untouched") from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_open`); returns the path.

    Raises
    ------
    WriteError
        As :func:`atomic_open`.
    """
    with atomic_open(target) as fh:
        fh.write(data)
    return Path(target)
