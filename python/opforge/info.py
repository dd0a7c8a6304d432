"""`opforge info`: what this installation holds, per framework."""

from __future__ import annotations

from . import __version__
from ._library import FRAMEWORKS, LIB_DIR, build_info


def rows() -> list[dict[str, str]]:
    info = build_info()
    out = []
    for fw in FRAMEWORKS:
        r = info["frameworks"].get(fw) or {}
        built = r.get("status") == "BUILT"
        out.append(
            {
                "framework": fw,
                "status": "built" if built else "skipped",
                "version": r.get("version", "-") if built else "-",
                "abi": _abi(r.get("cxx11_abi")) if built else "-",
                "device": ("CUDA " + r["cuda"]) if built and r.get("cuda") else ("CPU-only" if built else "-"),
                "where": str(LIB_DIR / r["library"]) if built else r.get("reason", "unknown"),
            }
        )
    return out


def _abi(flag: str | None) -> str:
    return {"1": "cxx11", "0": "pre-cxx11"}.get(flag or "", flag or "-")


def render() -> str:
    info = build_info()  # LibraryNotBuilt: nothing to show
    table = rows()
    cols = ["framework", "status", "version", "abi", "device", "where"]
    widths = {c: max(len(c), *(len(r[c]) for r in table)) for c in cols[:-1]}
    lines = [
        f"opforge {__version__}, namespace {info['namespace']}: ops {', '.join(info['ops'])}; "
        f"CUDA compiler: {info.get('cuda_compiler') or 'none (CPU-only kernels)'}",
        "  ".join(c.ljust(widths.get(c, 0)) for c in cols),
    ]
    for r in table:
        lines.append("  ".join(r[c].ljust(widths.get(c, 0)) for c in cols))
    selftest = info.get("selftest", "not built: this installation predates it")
    lines.append(f"GPU self-test (`opforge selftest`): {selftest}")
    return "\n".join(lines)
