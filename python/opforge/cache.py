"""opforge's cache folder (~/.cache/opforge) and how things are published
into it: built beside their place, then renamed into it, so an interrupted
download or unpack never leaves a folder that looks complete."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "opforge"


@contextlib.contextmanager
def staged_folder(dest: Path):
    """An empty folder beside `dest`; when the block finishes it replaces
    `dest`, when it raises it is removed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        yield stage
        shutil.rmtree(dest, ignore_errors=True)
        stage.rename(dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
