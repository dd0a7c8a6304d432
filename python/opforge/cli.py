"""The `opforge` command line."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from ._library import FRAMEWORKS


def _info(_args: argparse.Namespace) -> int:
    from ._library import LibraryNotBuilt
    from .info import render

    try:
        print(render())
    except LibraryNotBuilt as e:
        print(f"opforge info: {e}", file=sys.stderr)
        return 1
    return 0


def _releases(args: argparse.Namespace) -> int:
    from . import releases

    if args.release is not None:
        try:
            print(releases.format_release(releases.get_release(args.release)))
        except releases.UnknownRelease as e:
            print(f"opforge: {e.args[0] if e.args else e}", file=sys.stderr)
            return 2
    else:
        print(releases.format_table(releases.load_releases()))
    return 0


def _sdk_pair(text: str) -> tuple[str, str]:
    fw, sep, path = text.partition("=")
    if not sep or fw not in FRAMEWORKS or not path:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected FRAMEWORK=PATH with FRAMEWORK one of {', '.join(FRAMEWORKS)}")
    return fw, path


def _framework_names(text: str) -> list[str]:
    """One --frameworks word: a name, or names joined by commas (`torch,onnxruntime`)."""
    names = text.split(",")
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"{unknown[0]!r} is not a framework: expected {', '.join(FRAMEWORKS)}, space- or comma-separated")
    return names


def _flat(groups: list[list[str]] | None) -> list[str] | None:
    return None if groups is None else list(dict.fromkeys(n for group in groups for n in group))


def _build(args: argparse.Namespace) -> int:
    from . import releases
    from .release_build import BuildFailed, build_release
    from .toolchains import ToolchainError

    try:  # the release's own name in the folder name: r23.05 and 23.05 are one release
        name = releases.get_release(args.release).name
    except releases.UnknownRelease as e:
        print(f"opforge build: {e}", file=sys.stderr)
        return 2
    # With --ops, the Makefile's name: the folder of opforge's own ops is never replaced by another's.
    out = args.out or (f"dist/{Path(args.ops).resolve().name}-triton-{name}" if args.ops else f"dist/triton-{name}")
    try:
        build_release(args.release, out, ops=args.ops, namespace=args.namespace, toolchain=args.toolchain,
                      sdks=dict(args.sdk or []), frameworks=_flat(args.frameworks), deploy_dir=args.deploy_dir,
                      cuda=args.cuda)
    except (releases.UnknownRelease, ValueError) as e:
        print(f"opforge build: {e}", file=sys.stderr)
        return 2
    except ToolchainError as e:
        print(f"opforge build: {e}", file=sys.stderr)
        return 1
    except BuildFailed as e:
        print(f"opforge build: failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        word, status = _stopped(e)
        print(f"opforge build: {word}; {out} was left as it was", file=sys.stderr)
        return status
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from .selftest import main

    return main(args.dir, [f for f, on in (("--no-huge", args.no_huge), ("--no-bandwidth", args.no_bandwidth)) if on])


def _new(args: argparse.Namespace) -> int:
    from .new_op import main

    return main(args.name, args.ops, cuda=not args.cpu_only)


def _deploy(args: argparse.Namespace) -> int:
    if args.remove is not None:
        from .undeploy import main as remove

        if args.mount is not None or args.preload_tensorflow:
            print("opforge deploy: --mount and --preload-tensorflow go with --libs: --remove keeps the other "
                  "namespaces' mount and preloads as they were deployed", file=sys.stderr)
            return 2
        return remove(args.model_repository, args.remove)
    from .deploy import main

    return main(args.model_repository, args.libs, args.mount, args.preload_tensorflow)


def _check(args: argparse.Namespace) -> int:
    from .check import main

    return main(args.libs, args.launch, args.model_repository, args.release)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opforge", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="what was built for each framework, against what, and where").set_defaults(
        run=_info
    )
    r = sub.add_parser("releases", help="framework versions of each Triton release")
    r.add_argument("release", nargs="?", help="a release such as 23.05")
    r.set_defaults(run=_releases)

    b = sub.add_parser("build", help="build the op libraries for one Triton release, with checks and a manifest")
    b.add_argument("--release", required=True, help="Triton release, e.g. 23.05 (see `opforge releases`)")
    b.add_argument("--out", help="output folder (default dist/triton-RELEASE, with --ops dist/OPSNAME-triton-RELEASE); "
                                 "replaced only on success")
    b.add_argument("--ops", help="an ops folder outside this repository (same layout as ops/: ops.cmake + op folders)")
    b.add_argument("--namespace", help="names of the ops and libraries (default: opforge, or the --ops folder's name)")
    b.add_argument("--toolchain", default="auto", choices=["auto", "container", "pip", "host", "path"],
                   help="where the release's framework SDKs come from (default auto: container if docker runs, else pip)")
    b.add_argument("--sdk", action="append", type=_sdk_pair, metavar="FRAMEWORK=PATH",
                   help="an SDK folder for one framework (torch package folder, TensorRT_ROOT, ONNXRUNTIME_ROOT, "
                        "or a Python (or virtual environment) with the release's TensorFlow); repeatable")
    b.add_argument("--frameworks", nargs="+", type=_framework_names, metavar="FRAMEWORK",
                   help=f"only these (default: all four: {' '.join(FRAMEWORKS)}); space- or comma-separated")
    b.add_argument("--deploy-dir", default="/opt/opforge",
                   help="where the libraries will sit in the Triton container (for triton.env and the snippets)")
    b.add_argument("--cuda", metavar="DIR",
                   help="a CUDA toolkit of the release's CUDA major (default: CUDA_HOME, else one provisioned into "
                        "~/.cache/opforge/cuda); 'none' builds CPU-only libraries")
    b.set_defaults(run=_build)

    n = sub.add_parser("new", help="create an op folder (spec, CPU and CUDA kernels or --cpu-only, numpy reference) "
                                   "that builds and passes the tests as generated, and list it in the ops folder's "
                                   "ops.cmake")
    n.add_argument("name", help="the op's snake_case name, e.g. fused_gelu")
    n.add_argument("--ops", default="ops", metavar="DIR",
                   help="the ops folder (default ./ops); created with its ops.cmake when new")
    n.add_argument("--cpu-only", action="store_true", help="an op with a CPU kernel alone (no CUDA kernel)")
    n.set_defaults(run=_new)

    d = sub.add_parser("deploy", help="copy a release folder's libraries into a model repository, add "
                                      "model_operations to the models that need them, write the launch file; "
                                      "or --remove a namespace's (exit 0 done, 1 refused: nothing written, 2 a "
                                      "bad argument)")
    d.add_argument("--model-repository", required=True, metavar="DIR", help="the Triton model repository")
    what = d.add_mutually_exclusive_group(required=True)
    what.add_argument("--libs", metavar="DIR", help="a release folder from `opforge build` (dist/triton-YY.MM)")
    what.add_argument("--remove", metavar="NAMESPACE",
                      help="take a deployed namespace's libraries, model_operations entries and launch-file share "
                           "out of the repository (refused while a model needs one of its ops)")
    d.add_argument("--mount", metavar="PATH", help="where the server sees the repository (default: its "
                                                   "absolute path here), e.g. /models in a container")
    d.add_argument("--preload-tensorflow", action="store_true",
                   help="preload the TensorFlow library server-wide too (default: per model only)")
    d.set_defaults(run=_deploy)

    c = sub.add_parser("check", help="predict, before the server starts, the failures these custom-op libraries "
                                     "would cause in tritonserver (exit 1 on any problem)")
    c.add_argument("libs", nargs="*", metavar="LIB", help="libraries preloaded server-wide (LD_PRELOAD)")
    c.add_argument("--model-repository", metavar="DIR", help="also the models' model_operations and needs")
    c.add_argument("--launch", metavar="FILE", help="a launch or env file: its LD_PRELOAD and TensorRT plugins")
    c.add_argument("--release", metavar="YY.MM",
                   help="also the release's rules: C++ ABI, GLIBC/GLIBCXX, libcudart, the ONNX IR versions and "
                        "opsets its ONNX Runtime reads and the sessions it makes, the ops its TensorFlow registers, "
                        "the TorchScript its torch loads (default: the release the "
                        "opforge libraries were built for, when they name one)")
    c.set_defaults(run=_check)

    t = sub.add_parser("selftest", help="run the CUDA kernels against the CPU kernels on this machine's GPU "
                                         "(exit 0 pass, 1 mismatch or crash, 2 no CUDA device, 3 no self-test)")
    t.add_argument("dir", nargs="?", help="a release folder (dist/triton-YY.MM); default: this installation")
    t.add_argument("--no-huge", action="store_true", help="skip the cases above 2^31 elements")
    t.add_argument("--no-bandwidth", action="store_true", help="skip the bandwidth table")
    t.set_defaults(run=_selftest)
    return p


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a CI job's timeout), which otherwise ends Python at once: raised instead, it unwinds
    like Ctrl-C, so that a build removes its staging and work folders on the way out."""


def _terminate(_signum, _frame):
    raise Terminated


def _stopped(e: KeyboardInterrupt) -> tuple[str, int]:
    """What stopped the command, and its exit status (128 + the signal's number)."""
    return ("terminated", 143) if isinstance(e, Terminated) else ("interrupted", 130)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return args.run(args)
    except KeyboardInterrupt as e:  # a command with no more to say about it than this
        word, status = _stopped(e)
        print(f"opforge {args.command}: {word}", file=sys.stderr)
        return status
    except BrokenPipeError:
        # The reader stopped early (`opforge releases | head`): no traceback, and no second
        # error when Python flushes stdout at exit (the Python docs' signal-module recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell tool killed by it
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
