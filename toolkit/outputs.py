"""Where sigbench may write: output targets, the advisory write lock, and keeping what an output holds.

Rules every writer follows (``docs/reliability.md``, "Outputs"):

- **Only regular files are replaced.** :func:`writable_target` refuses a character or block device, a FIFO,
  a socket or a folder (``-o /dev/null`` never replaces the node, even as root). A symbolic link is
  followed: the new file is built in the *target's* folder and replaces the target; the link stays.
- **An existing output keeps what it holds.** Result writers build the new file from the existing output
  (every run and signal it had) plus the new run; :func:`start_fresh` (the CLI's ``--overwrite``) makes the
  next write of one target drop the old contents instead.
- **One writer at a time.** :func:`write_lock` holds an advisory ``flock`` on ``.<name>.lock`` beside the
  output: a second writer of the same output waits (and says so) until the first is done, then builds on
  its file, so concurrent commands never lose a run. The lock is re-entrant within a process and the lock
  file is removed on release.
- **Inputs and reports.** :func:`check_outputs` refuses, before any work, an output that is one of the
  command's inputs (except a sigbench HDF5 file written back into itself, which only adds a run), and a
  report or figure over an existing HDF5 file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sigbench.errors import ValidationError, WriteError

__all__ = [
    "HDF5_SIGNATURE",
    "check_disk_space",
    "check_keepable",
    "check_outputs",
    "is_hdf5_file",
    "lock_path",
    "same_file",
    "start_fresh",
    "take_fresh",
    "writable_target",
    "write_lock",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

_KINDS = ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO (named pipe)"),
          (stat.S_ISSOCK, "socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def writable_target(path: str | os.PathLike[str]) -> Path:
    """The regular file a write to ``path`` creates or replaces.

    Parameters
    ----------
    path : path-like
        The output the user named.

    Returns
    -------
    pathlib.Path
        ``path`` itself, or for a symbolic link (also a dangling one) the file it points to: the new file is
        built in that file's folder and replaces it, the link is kept.

    Raises
    ------
    WriteError
        ``path`` (or what it points to) exists and is not a regular file: a character or block device, a
        FIFO, a socket or a folder. Nothing is written.
    """
    p = Path(path)
    try:
        st = os.stat(p)  # follows links
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteError(f"cannot write {p}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise WriteError(f"cannot write {p}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise WriteError(f"refusing to write {p}: it is a {_kind(st.st_mode)}, not a regular file "
                         "(sigbench only replaces regular files; use -o - to write to stdout)")
    if p.is_symlink():
        return Path(os.path.realpath(p))
    return p


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name the same existing file (links and relative paths resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def is_hdf5_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is an existing regular file that starts with the HDF5 signature."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == HDF5_SIGNATURE
    except OSError:
        return False


def _is_sigbench(path: str | os.PathLike[str]) -> bool:
    from sigbench.errors import SigbenchError
    from sigbench.h5safe import open_sigbench

    try:
        open_sigbench(path).close()
    except SigbenchError:
        return False
    return True


def check_outputs(inputs: Iterable[Any], outputs: Iterable[Any] = (), reports: Iterable[Any] = ()) -> None:
    """Refuse, before any work, outputs that would destroy something the command was not asked to replace.

    Parameters
    ----------
    inputs : iterable of path-like or None
        Files the command reads (``None`` and ``-`` are skipped).
    outputs : iterable of path-like or None
        HDF5 files the command writes. One may equal an input only when that input is a sigbench file (the
        run is added to it); a foreign input (a WAV, a CSV, a non-sigbench HDF5 file) is never replaced.
    reports : iterable of path-like or None
        Reports and figures (HTML, Markdown, PNG …). They may equal no input and no output, and never
        replace an existing HDF5 file.

    Raises
    ------
    ValidationError
        One of the above (exit 2), naming both paths; nothing has been written.
    WriteError
        An output is a device, FIFO, socket or folder (:func:`writable_target`).
    """
    ins = [Path(p) for p in inputs if p is not None and str(p) != "-"]
    outs = [Path(p) for p in outputs if p is not None and str(p) != "-"]
    reps = [Path(p) for p in reports if p is not None and str(p) != "-"]
    for out in outs + reps:
        writable_target(out)
    for out in outs:
        for src in ins:
            if same_file(out, src) and not _is_sigbench(src):
                raise ValidationError(f"expected an output other than the input {src}; received: -o {out} "
                                      "(it would replace the input, which is not a sigbench file)")
    for rep in reps:
        for other in ins + outs:
            if same_file(rep, other) or Path(os.path.abspath(rep)) == Path(os.path.abspath(other)):
                raise ValidationError(f"expected a report path other than {other}, which this command reads or "
                                      f"writes; received: {rep}")
        if is_hdf5_file(rep):
            raise ValidationError(f"refusing to write a report over {rep}: it is an HDF5 file (signals or results); "
                                  "choose another name, e.g. report.html")


def check_keepable(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds sigbench data that a keeping write builds on.

    Returns
    -------
    bool
        False when ``path`` is absent, not HDF5, or an HDF5 file without ``sigbench_format`` (a foreign file
        the user named as output is replaced, as asked); True for a readable sigbench file.

    Raises
    ------
    WriteError
        ``path`` is marked as a sigbench file but cannot be read (damaged, unsafe, another format version):
        it is left as it is, and the message names ``--overwrite``.
    """
    if not is_hdf5_file(path):
        return False
    import h5py

    from sigbench.errors import FileFormatError
    from sigbench.h5safe import open_sigbench

    try:
        with h5py.File(path, "r") as f:
            if "sigbench_format" not in f.attrs:
                return False
    except OSError:
        pass
    try:
        open_sigbench(path).close()
    except FileFormatError as exc:
        raise WriteError(f"{path} exists but cannot be read ({exc}); it was left as it is: pass --overwrite "
                         "to replace it, or choose another output") from None
    return True


#: free space a write leaves untouched on top of its estimate (file system metadata, other writers)
DISK_MARGIN_BYTES = 64 * 2**20


def check_disk_space(path: str | os.PathLike[str], nbytes: int) -> None:
    """Refuse, before writing, a file of about ``nbytes`` bytes that cannot fit beside ``path``.

    Parameters
    ----------
    path : path-like
        The output (its folder's file system is measured).
    nbytes : int
        Estimated size of the new file, bytes (the old file stays until the new one replaces it).

    Raises
    ------
    WriteError
        ``"disk full: …"`` with the estimate and the free space, in GiB.
    """
    folder = Path(path).parent if str(Path(path).parent) else Path(".")
    try:
        st = os.statvfs(folder)
    except OSError:
        return  # the write itself reports a missing folder
    free = st.f_bavail * st.f_frsize
    if nbytes + DISK_MARGIN_BYTES > free:
        raise WriteError(f"disk full: {path} needs about {nbytes / 2**30:.2f} GiB and {folder} has "
                         f"{free / 2**30:.2f} GiB free; nothing was written")


# -- the keep-or-overwrite policy ---------------------------------------------------------------------------
_FRESH: set[str] = set()


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(writable_target(path))


def start_fresh(path: str | os.PathLike[str]) -> None:
    """Make the next write of ``path`` drop the file's old contents (the CLI's ``--overwrite``).

    Only the next write: later checkpoints of the same command build on what it wrote.
    """
    _FRESH.add(_key(path))


def take_fresh(path: str | os.PathLike[str]) -> bool:
    """Whether the write of ``path`` now starting should ignore the existing file (and forget the request)."""
    key = _key(path)
    if key in _FRESH:
        _FRESH.discard(key)
        return True
    return False


# -- the advisory lock ---------------------------------------------------------------------------------------
_HELD: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth)
_HELD_GUARD = threading.Lock()


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of the output ``path``: ``.<name>.lock`` beside the file it writes."""
    target = writable_target(path)
    return target.with_name(f".{target.name}.lock")


def _acquire(lock: Path, target: Path) -> int | None:
    import fcntl

    told = False
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                return None  # a read-only folder: the write itself will fail with a clear message
            raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not told:
                    from sigbench.console import escape, get_console, is_quiet

                    if not is_quiet():
                        get_console().print(f"Waiting for another sigbench process writing {escape(str(target))} …")
                    told = True
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                os.close(fd)  # a file system without locks: write unlocked, as before
                with contextlib.suppress(OSError):
                    os.unlink(lock)
                return None
            os.close(fd)
            raise
        except BaseException:
            os.close(fd)
            raise
        try:  # the previous holder may have removed the file we locked: lock the current one
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def write_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the advisory write lock of the output ``path`` (re-entrant within a process).

    A second process asking for the same lock waits, printing one line on stderr, until the first releases
    it. On file systems without ``flock`` the block runs unlocked.

    Raises
    ------
    WriteError
        ``path`` is not a regular file (:func:`writable_target`), or the lock file cannot be created.
    """
    target = writable_target(path)
    lock = target.with_name(f".{target.name}.lock")
    key = os.path.abspath(lock)
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None:
            _HELD[key] = (held[0], held[1] + 1)
    if held is not None:
        try:
            yield
        finally:
            with _HELD_GUARD:
                outer_fd, depth = _HELD[key]
                _HELD[key] = (outer_fd, depth - 1)
        return
    if not target.parent.is_dir():  # the writer reports the missing folder
        yield
        return
    fd = _acquire(lock, target)
    if fd is None:
        yield
        return
    with _HELD_GUARD:
        _HELD[key] = (fd, 1)
    try:
        yield
    finally:
        with _HELD_GUARD:
            _HELD.pop(key, None)
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still holding it: a waiter re-checks the inode and retries
        os.close(fd)
