"""Debian packages into a private folder, changing nothing on the system.

`apt-get download` runs with a private apt state (its own sources list,
package lists and an empty status file, so the host's installed versions
never influence the choice), and `dpkg -x` unpacks each package into a root
of our own. The mirror is read from this machine's apt configuration: no
host is written into opforge.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class DebianError(RuntimeError):
    """The packages could not be had; the message says what to do instead."""


def mirror() -> str:
    """The Debian mirror this machine's apt uses."""
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if path.is_file() and not path.name.endswith((".disabled", ".save")) and "disabled" not in path.name:
            texts.append(path.read_text(errors="replace"))
    for text in texts:
        for line in text.splitlines():
            m = re.match(r"^\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(\S+/debian)/?(\s|$)", line)
            if m:
                return m.group(1)
    raise DebianError("no Debian mirror in this machine's apt configuration (/etc/apt/sources.list*)")


def _tools() -> None:
    for tool in ("apt-get", "dpkg"):
        if not shutil.which(tool):
            raise DebianError(f"'{tool}' not found: this provisioning needs Debian's or Ubuntu's apt-get and dpkg")


def download(suite: str, packages: list[str], dest: Path, components: str = "main contrib non-free",
             log=print) -> dict[str, Path]:
    """Fetch `packages` (exact names; no dependencies) from `suite` into
    `dest`: {package: .deb path}."""
    _tools()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="opforge-apt-") as work:
        w = Path(work)
        for sub in ("state/lists/partial", "cache/archives/partial", "etc/preferences.d"):
            (w / sub).mkdir(parents=True)
        (w / "state/status").touch()
        (w / "etc/sources.list").write_text(f"deb [signed-by={KEYRING}] {mirror()} {suite} {components}\n")
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
        opts = ["-o", f"Dir::State={w}/state", "-o", f"Dir::State::status={w}/state/status",
                "-o", f"Dir::Cache={w}/cache", "-o", f"Dir::Etc::SourceList={w}/etc/sources.list",
                "-o", "Dir::Etc::SourceParts=/dev/null", "-o", f"Dir::Etc::PreferencesParts={w}/etc/preferences.d",
                "-o", f"APT::Architecture={arch}", "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-q"]
        _run(["apt-get", *opts, "update"], f"apt-get update for Debian {suite}")
        log(f"downloading from Debian {suite}: {' '.join(packages)}")
        _run(["apt-get", *opts, "download", *packages], f"apt-get download {' '.join(packages)} ({suite})",
             cwd=dest)
    debs = {}
    for p in packages:
        found = sorted(dest.glob(f"{p}_*.deb"))
        if not found:
            raise DebianError(f"apt-get download gave no {p}_*.deb")
        debs[p] = found[-1]
    return debs


def version_of(deb: Path) -> str:
    """The package version recorded in a .deb's file name (name_version_arch.deb)."""
    return deb.name.split("_")[1].replace("%3a", ":")


def unpack(debs, root: Path) -> None:
    for deb in debs:
        _run(["dpkg", "-x", str(deb), str(root)], f"dpkg -x {deb.name}")


def _run(cmd, what, cwd=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise DebianError(f"{what} failed: {' / '.join(tail)}")
    return proc
