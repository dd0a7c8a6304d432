"""opforge's cache folder (~/.cache/opforge) and how things are published
into it: built beside their place, then renamed into it, so an interrupted
download or unpack never leaves a folder that looks complete."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from . import files


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "opforge"


_held = threading.local()  # the lock files this thread holds


@contextlib.contextmanager
def locked(path: Path):
    """Holds an exclusive lock named after `path` (beside it) for the block:
    two opforge runs provisioning one cache entry take turns. A thread that
    holds it already goes on (flock on a second descriptor would wait for
    the first one forever); another thread of this process waits its turn."""
    import fcntl

    lock_file = (path.parent / f".{path.name}.lock").absolute()
    held = _held.__dict__.setdefault("files", set())
    if lock_file in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        held.add(lock_file)
        try:
            yield
        finally:
            held.discard(lock_file)


@contextlib.contextmanager
def staged_folder(dest: Path):
    """An empty folder beside `dest`; when the block finishes it replaces
    `dest`, when it raises it is removed. A `dest` that another run
    published while this one worked is kept (it may be in use), and this
    one's work dropped; a `dest` there from the start is stale: replaced,
    unless another run has replaced it meanwhile."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    stale = _identity(dest)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    try:
        yield stage
        with locked(dest):
            now = _identity(dest)
            if now is None or now == stale:
                files.replace_folder(stage, dest, keep=old)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _identity(path: Path):
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
