"""How a child process ended, in words: the processes that load op
libraries are killed by a signal when an op crashes, and `exited -11` hides
that."""

from __future__ import annotations

import signal


def ended(returncode: int) -> str:
    """'exited N', or 'crashed with SIGNAME' for a negative status (the signal that killed it)."""
    if returncode >= 0:
        return f"exited {returncode}"
    try:
        return f"crashed with {signal.Signals(-returncode).name}"
    except ValueError:
        return f"crashed with signal {-returncode}"
