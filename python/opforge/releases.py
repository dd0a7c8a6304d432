"""The Triton release matrix (releases.toml) as Python objects.

A custom-op library only loads in Triton if it was built against the exact
framework builds that Triton release ships, so every build starts by looking
its release up here. Values nobody could source are kept as ``"unknown"``
rather than guessed, and :meth:`Release.require` turns them into a clear error
instead of a silently wrong build. Conventions are documented at the top of
releases.toml.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from packaging.version import Version

try:
    import tomllib  # novermin: tomli below on Python < 3.11 (pyproject allows 3.9)
except ModuleNotFoundError:
    import tomli as tomllib

UNKNOWN = "unknown"
NO_BACKEND = "none"  # only for `tensorflow`: the release has no TF backend

# Field name -> how messages and tables name it. Also the list of fields that
# `require` and `version` accept.
LABELS: dict[str, str] = {
    "server": "Triton server",
    "cuda": "CUDA",
    "tensorrt": "TensorRT",
    "pytorch.ngc": "PyTorch",
    "pytorch.public": "public PyTorch (PyPI)",
    "tensorflow": "TensorFlow",
    "onnxruntime": "ONNX Runtime",
    "ubuntu": "Ubuntu",
    "glibc": "glibc",
    "glibcxx": "GLIBCXX",
    "python": "Python",
}
_ALIASES = {"pytorch": "pytorch.ngc", "torch": "pytorch.ngc"}
_TOP_LEVEL = ("server", "cuda", "tensorrt", "tensorflow", "onnxruntime",
              "ubuntu", "glibc", "glibcxx", "python")


class UnknownRelease(KeyError):
    """Raised for a release name that is not in the matrix."""

    def __init__(self, name: str, known: Mapping[str, Release]):
        self.name = name
        self.known = tuple(known)
        # `tritonserver --version` and the server's log print the server version, not the month.
        servers = {Version(r.server): n for n, r in known.items() if r.server != UNKNOWN}
        typed = re.fullmatch(r"[vV]?(\d+\.\d+\.\d+)", name.strip())
        server = Version(typed[1]) if typed else None
        month = _as_month(name)
        if server in servers:
            why = f" (did you mean {servers[server]}? Triton server {server} is release {servers[server]})"
        elif month in self.known:
            why = f" (did you mean {month}?)"
        elif (month and self.known and _month_key(month) > _month_key(self.known[-1])) or (
                server and servers and server > max(servers)):
            why = (f": newer than the releases this opforge knows (up to {self.known[-1]}): update opforge, "
                   "or add it to python/opforge/releases.toml in a checkout, with a source for each value")
        elif month and self.known and _month_key(month) < _month_key(self.known[0]):
            why = f": older than {self.known[0]}, the first release opforge builds for"
        else:
            why = ""
        super().__init__(f"unknown Triton release {name!r}{why}; known releases: {_month_ranges(self.known)}")

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return self.args[0]


def _as_month(name: str) -> str | None:
    """23.5, 2305, 23-05, 2023.05, v23.05 and an image tag's 23.05-py3 -> 23.05: releases are YY.MM."""
    m = re.fullmatch(r"(?:.*:)?[rRvV]?(?:20)?(\d{2})\D?(\d{1,2})(?:-[\w.-]*)?", name.strip())
    return f"{m[1]}.{int(m[2]):02d}" if m and 1 <= int(m[2]) <= 12 else None


def _month_key(month: str) -> tuple[int, int]:
    year, mm = month.split(".")
    return int(year), int(mm)


def _month_ranges(months: Sequence[str]) -> str:
    """22.12, 23.01, 23.02, 23.04 -> '22.12 to 23.02, 23.04': one run of consecutive months each."""
    runs: list[list[str]] = []
    for month in sorted(months, key=_month_key):
        year, mm = _month_key(month)
        if runs and _month_key(runs[-1][-1]) == ((year, mm - 1) if mm > 1 else (year - 1, 12)):
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]} to {run[-1]}" for run in runs)


@dataclass(frozen=True)
class PyTorch:
    """The libtorch inside the release (NGC build) and its nearest PyPI twin."""

    ngc: str
    public: str
    cxx11_abi: bool


@dataclass(frozen=True)
class Release:
    """One Triton release; version fields are strings as written in the TOML."""

    name: str
    server: str
    cuda: str
    tensorrt: str
    pytorch: PyTorch
    tensorflow: str
    onnxruntime: str
    ubuntu: str
    glibc: str
    glibcxx: str
    python: str
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def get(self, name: str) -> str:
        """Read a field by its LABELS name, so callers can pass names like "pytorch.ngc"."""
        key = _field_key(name)
        if key.startswith("pytorch."):
            return getattr(self.pytorch, key.split(".", 1)[1])
        return getattr(self, key)

    def version(self, name: str) -> Version | None:
        """Version for comparisons; None (not an exception) when unknown or absent."""
        value = self.get(name)
        return None if value in (UNKNOWN, NO_BACKEND) else Version(value)

    def require(self, name: str, purpose: str | None = None) -> str:
        """Return a field's value, or raise ValueError if a build cannot rely on it."""
        key = _field_key(name)
        value = self.get(key)
        what = f"cannot build {purpose}" if purpose else "cannot build against it"
        if value == UNKNOWN:
            note = self.sources.get(key, "no source recorded")
            raise ValueError(f"Triton {self.name}: {LABELS[key]} version is unknown "
                             f"({note}); {what}")
        if value == NO_BACKEND:
            note = self.sources.get(key, "")
            raise ValueError(f"Triton {self.name} has no {LABELS[key]} backend"
                             f"{f' ({note})' if note else ''}; {what}")
        return value

    @property
    def has_tensorflow(self) -> bool:
        """Whether the release still has a TF backend (unknown version still counts)."""
        return self.tensorflow != NO_BACKEND


def _field_key(name: str) -> str:
    key = _ALIASES.get(name, name)
    if key not in LABELS:
        raise KeyError(f"no field {name!r}; fields: {', '.join(LABELS)}")
    return key


@functools.cache
def _data() -> dict:
    text = resources.files(__package__).joinpath("releases.toml").read_text("utf-8")
    return tomllib.loads(text)


def _release(name: str, raw: Mapping) -> Release:
    try:
        torch = raw["pytorch"]
        return Release(
            name=name,
            pytorch=PyTorch(torch["ngc"], torch["public"], torch["cxx11_abi"]),
            sources=types.MappingProxyType(dict(raw.get("sources", {}))),
            **{key: raw[key] for key in _TOP_LEVEL},
        )
    except KeyError as exc:
        raise ValueError(f"releases.toml: release {name} lacks field {exc}") from None


@functools.cache
def _releases() -> types.MappingProxyType:
    raw = _data()["releases"]
    ordered = sorted(raw, key=Version)
    return types.MappingProxyType({name: _release(name, raw[name]) for name in ordered})


def load_releases() -> dict[str, Release]:
    """All releases, oldest first, keyed by "YY.MM"."""
    return dict(_releases())


def load_sources() -> dict[str, str]:
    """Source tag -> what it stands for (the [sources] table)."""
    return dict(_data()["sources"])


def get_release(name: str) -> Release:
    """Look up "23.05" (a leading "r", as in branch names, is accepted)."""
    releases = _releases()
    key = name.strip()
    key = key[1:] if key[:1] in ("r", "R") else key
    if key not in releases:
        raise UnknownRelease(name, releases)
    return releases[key]


@dataclass(frozen=True)
class OnnxReads:
    """The newest ONNX IR version, and opset per ONNX domain, a model may
    carry for one ONNX Runtime version to load it ([onnxruntime."X.Y.Z"])."""

    onnxruntime: str
    ir_version: int
    opsets: Mapping[str, int]  # "ai.onnx", "ai.onnx.ml"
    source: str


def onnx_reads(onnxruntime: str) -> OnnxReads | None:
    """None where no row was measured: unknown, not guessed."""
    row = _data().get("onnxruntime", {}).get(onnxruntime)
    if row is None:
        return None
    return OnnxReads(onnxruntime, row["ir_version"], types.MappingProxyType(dict(row["opsets"])), row["source"])


def _is_conflict(note: str) -> bool:
    return note.partition(":")[2].lstrip().startswith("conflict")


def _cell(release: Release, key: str) -> str:
    value = release.get(key)
    text = {UNKNOWN: "?", NO_BACKEND: "-"}.get(value, value)
    return text + "*" if _is_conflict(release.sources.get(key, "")) else text


_COLUMNS = (("Triton", None), ("server", "server"), ("CUDA", "cuda"),
            ("TensorRT", "tensorrt"), ("PyTorch (NGC)", "pytorch.ngc"),
            ("torch (PyPI)", "pytorch.public"), ("TF", "tensorflow"),
            ("ORT", "onnxruntime"), ("Ubuntu", "ubuntu"), ("glibc", "glibc"),
            ("GLIBCXX", "glibcxx"), ("Python", "python"))


def format_table(releases: Mapping[str, Release] | Iterable[Release]) -> str:
    """A plain-text table, one release per line, for `opforge releases`."""
    items = list(releases.values()) if isinstance(releases, Mapping) else list(releases)
    rows = [[title for title, _ in _COLUMNS]]
    rows += [[r.name] + [_cell(r, key) for _, key in _COLUMNS[1:]] for r in items]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", "? unknown (never guessed)   - no TensorFlow backend   "
                  "* sources disagree   details: opforge releases YY.MM"]
    return "\n".join(lines)


def format_release(release: Release, sources: Mapping[str, str] | None = None) -> str:
    """Every field of one release, where each value came from, and those sources."""
    tags = load_sources() if sources is None else sources
    rows = [(label, key, release.get(key)) for key, label in LABELS.items()]
    rows.append(("C++11 ABI", "pytorch.cxx11_abi", str(release.pytorch.cxx11_abi).lower()))
    width = max(len(label) for label, _, _ in rows)
    lines = [f"Triton {release.name} (server {release.server})", ""]
    used: list[str] = []
    for label, key, value in rows:
        shown = f"GLIBCXX_{value}" if key == "glibcxx" and value != UNKNOWN else value
        note = release.sources.get(key, "no source recorded")
        lines.append(f"  {label.ljust(width)}  {shown}")
        lines.append(f"  {'':{width}}    from {note}")
        used += [t for t in note.partition(":")[0].split("+") if t in tags and t not in used]
        reads = onnx_reads(value) if key == "onnxruntime" else None
        if reads is not None:
            opsets = ", ".join(f"{domain} opset <= {v}" for domain, v in reads.opsets.items())
            lines.append(f"  {'':{width}}    reads ONNX models of IR version <= {reads.ir_version}, {opsets} "
                         f"(from {reads.source})")
            used += [t for t in reads.source.partition(":")[0].split("+") if t in tags and t not in used]
        elif key == "onnxruntime" and value != UNKNOWN:
            lines.append(f"  {'':{width}}    the ONNX IR versions and opsets it reads: not measured")
    if used:
        lines += ["", "Sources:"] + [f"  {t}: {tags[t]}" for t in used]
    return "\n".join(lines)
