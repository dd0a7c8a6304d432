"""Writing files that other programs read: whole or not at all, with the
mode a new file gets from open() (mkstemp's 0600 is for secrets, not for
sources, configs and libraries that a server or a build reads); and what to
say of a path given where a file or folder should be."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


def missing(path: Path, kind: str, nothing: str = "") -> str:
    """What a path that is no `kind` ("file", "folder") is: a thing of another kind, a link to nothing,
    or nothing (`nothing`, default "no such <kind>")."""
    path = Path(path)
    if path.exists():
        return f"not a {kind}"
    if path.is_symlink():
        return f"a link to {os.readlink(path)}, which does not exist"
    return nothing or f"no such {kind}"


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    return 0o666 & ~umask()


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename: a reader sees the old file or
    the new one. A new file gets open()'s mode, an existing one keeps its own;
    a symbolic link stays one (its target is replaced)."""
    path = Path(path).resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (renameat2 RENAME_EXCHANGE). False where the
    C library or the file system cannot (glibc < 2.28, some network file systems)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def replace_folder(new: Path, dest: Path, keep: Path) -> None:
    """Put folder `new` at `dest`. An existing `dest` is moved to `keep` and
    deleted by the caller: readers of `dest` see the old folder or the new
    one, never neither (one exchange where the system offers it). Where
    anything fails, `dest` is what it was before."""
    if not dest.exists():
        new.rename(dest)
        return
    if _exchange(new, dest):
        new.rename(keep)
        return
    dest.rename(keep)
    try:
        new.rename(dest)
    except BaseException:
        keep.rename(dest)
        raise


def tree_sha256(folder: Path, only: tuple[str, ...] = (), leave_out=lambda folder: False) -> str:
    """One sha256 for the files under `folder` (or, with `only`, under those
    of its entries): each file's path relative to `folder` and its bytes, in
    path order. Symbolic links are followed, as a compiler follows them; a
    dangling one counts by its target's name. Hidden entries, __pycache__,
    folders for which `leave_out` is true and what is neither a file nor a
    folder (a pipe, a socket) are left out: they are not sources. A file or
    folder that cannot be read raises OSError."""
    folder = Path(folder)
    found = []

    def raise_it(error: OSError):
        raise error

    for top in [folder / name for name in only] if only else [folder]:
        if not top.is_dir():
            found.append(top)
            continue
        for root, dirs, names in os.walk(top, followlinks=True, onerror=raise_it):
            parts = Path(root).relative_to(top).parts
            if os.path.realpath(root) in {os.path.realpath(top.joinpath(*parts[:i])) for i in range(len(parts))}:
                dirs.clear()  # a link back up the tree
                continue
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"
                       and not leave_out(Path(root) / d)]
            found += [Path(root) / n for n in names if not n.startswith(".")]
    digest = hashlib.sha256()
    for p in sorted(found, key=lambda p: os.fsencode(p.relative_to(folder))):
        if p.is_symlink() and not p.exists():
            data = b"-> " + os.fsencode(os.readlink(p))
        elif not p.exists():  # an `only` entry this tree does not have
            continue
        elif stat.S_ISREG(os.stat(p).st_mode):
            data = p.read_bytes()
        else:
            continue
        digest.update(os.fsencode(p.relative_to(folder)) + f"\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
