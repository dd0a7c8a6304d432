"""The `opforge` command line."""

from __future__ import annotations

import argparse
import sys


def _info(_args: argparse.Namespace) -> int:
    from .info import render

    print(render())
    return 0


def _releases(args: argparse.Namespace) -> int:
    from . import releases

    if args.release:
        try:
            print(releases.format_release(releases.get_release(args.release)))
        except releases.UnknownRelease as e:
            print(f"opforge: {e.args[0] if e.args else e}", file=sys.stderr)
            return 2
    else:
        print(releases.format_table(releases.load_releases()))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opforge", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="what was built for each framework, against what, and where").set_defaults(
        run=_info
    )
    r = sub.add_parser("releases", help="framework versions of each Triton release")
    r.add_argument("release", nargs="?", help="a release such as 23.05")
    r.set_defaults(run=_releases)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
