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


def last_words(proc, who: str) -> str:
    """What a failed child said, in one line: `who` crashed with a signal,
    else the last line it wrote, else `who` exited N."""
    tail = (proc.stderr or proc.stdout).strip().splitlines() if proc.returncode >= 0 else []
    return tail[-1][:300] if tail else f"{who} {ended(proc.returncode)}"
