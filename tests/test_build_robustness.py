"""Deliberately broken inputs to `opforge build`: each gives one clear line
(the last on stderr, `opforge build: ...`), an exit status other than 0, and
no half-written output. On the pip toolchain's ONNX Runtime cell, CPU-only
(the quickest build)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from opcases import REPO

EXAMPLE = REPO / "examples" / "myops"
BUILD = ["--release", "23.05", "--toolchain", "pip", "--frameworks", "onnxruntime", "--cuda", "none"]


def opforge_build(*args, **kw):
    return subprocess.run([sys.executable, "-m", "opforge", "build", *args], capture_output=True, text=True,
                          timeout=1800, **kw)


def last_line(proc) -> str:
    return proc.stderr.strip().splitlines()[-1]


def assert_untouched(out):
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "previous.txt"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]  # no staging left


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "previous.txt").write_text("still here")
    (folder / "manifest.json").write_text('{"libraries": []}')  # an earlier release folder: the build may replace it
    return folder


def broken(tmp_path, edit):
    ops = tmp_path / "myops"
    shutil.copytree(EXAMPLE, ops)
    edit(ops / "scale")
    return ops


CASES = {
    "missing kernel": (lambda d: (d / "scale_cpu.cc").unlink(), 2, "lists scale_cpu.cc, which is not in"),
    "malformed op.cmake": (lambda d: (d / "op.cmake").write_text("opforge_op(scale SPEC\n"), 2,
                           "expected one call opforge_op("),
    "op.cmake naming another op": (lambda d: (d / "op.cmake").write_text(
        "opforge_op(scalar SPEC scale.h KERNELS scale_cpu.cc)\n"), 2, "opforge_op names 'scalar', the folder is 'scale'"),
    "not a spec": (lambda d: (d / "scale.h").write_text("#pragma once\n"), 2, 'needs kName = "scale"'),
    "no reference": (lambda d: (d / "reference.py").unlink(), 2, "has no reference.py"),
    "header of an earlier opforge": (lambda d: (d / "scale.cu").write_text(
        '#include "opforge/cuda_launch.cuh"\n' + (d / "scale.cu").read_text()), 2,
        "opforge/cuda_launch.cuh is gone: include opforge/cuda_elementwise.cuh"),
    "CUDA kernel deleted, still listed": (lambda d: (d / "scale.cu").unlink(), 2,
                                          "scale (for a CPU-only op, remove CUDA and its sources from op.cmake"),
    "CUDA sources for a spec without a CUDA kernel": (lambda d: (d / "scale.h").write_text(
        (d / "scale.h").read_text().replace("static const char* cuda(", "// static const char* cuda(")), 2,
        "lists CUDA sources, but"),
    "a CUDA kernel op.cmake does not list": (lambda d: (d / "op.cmake").write_text(
        (d / "op.cmake").read_text().replace(" CUDA scale.cu", "")), 2, "declares a CUDA kernel, but"),
    "kernel that computes wrong numbers": (lambda d: (d / "scale_cpu.cc").write_text(
        (d / "scale_cpu.cc").read_text().replace("return x * alpha;", "return x * alpha + 1.0f;")), 1,
        ("loads and computes failed", " (alpha=2.5): ",  # the case named with its attributes
         " elements differ; the first, at [0", ": got ")),  # and where, in numbers
    # A crash kills the process that loaded the library: the build names the signal and where it came.
    "kernel that crashes": (lambda d: (d / "scale_cpu.cc").write_text("#include <csignal>\n" + (
        d / "scale_cpu.cc").read_text().replace("map_cpu(a,", "if (a.numel == 5) std::raise(SIGSEGV);\n  map_cpu(a,")),
        1, "in onnxruntime: crashed with SIGSEGV in case scale-float32-5 (alpha=2.5), which would take tritonserver"),
    # onnxruntime unloads the library with the session options, after each case, as Triton does with a model.
    "library that crashes when unloaded": (lambda d: (d / "scale_cpu.cc").write_text(
        "#include <csignal>\nstatic struct Unload { ~Unload() { std::raise(SIGSEGV); } } unload;\n"
        + (d / "scale_cpu.cc").read_text()), 1, "crashed with SIGSEGV in case scale-float32-0 (alpha=2.5)"),
    "reference that raises": (lambda d: (d / "reference.py").write_text(
        "raise NotImplementedError\n" + (d / "reference.py").read_text()), 1,
        "reference.py: NotImplementedError"),
    "spec that does not compile": (lambda d: (d / "scale.h").write_text(
        (d / "scale.h").read_text().replace("struct Spec : SpecBase {", "struct Spec : SpecBase { int oops = ;")), 1,
        "scale.h:8:"),
    # Compiler text is printed as written: a GCC template error's "[with T = float]" is no markup to drop,
    # and a "[/path]" no closing tag to stop the build on.
    "kernel whose error has brackets": (lambda d: (d / "scale_cpu.cc").write_text(
        '#error "[with T = float] in [/tmp/x]"\n' + (d / "scale_cpu.cc").read_text()), 1,
        ("the build failed:", "scale_cpu.cc:1:2: error: #error \"[with T = float] in [/tmp/x]\"")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_ops_folder(case, tmp_path, out):
    edit, status, words = CASES[case]
    proc = opforge_build(*BUILD, "--ops", str(broken(tmp_path, edit)), "--out", str(out))
    assert proc.returncode == status, proc.stderr[-3000:]
    line = last_line(proc)
    words = [words] if isinstance(words, str) else words
    assert line.startswith("opforge build: ") and all(w in line for w in words), line
    assert_untouched(out)


@pytest.mark.parametrize("char", [";", "\\", '"'])
def test_an_ops_folder_whose_path_cmake_would_misread_is_refused_first(tmp_path, out, char):
    """Before, CMake split the path at ';' ("include could not find requested file"), made '\\' a '/', and a
    '"' broke the generated #include: a failed build with no word of the path."""
    parent = tmp_path / f"a{char}b"
    parent.mkdir()
    ops = broken(parent, lambda d: None)
    proc = opforge_build(*BUILD, "--ops", str(ops), "--out", str(out))
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert last_line(proc) == (f"opforge build: {ops}: a path with '{char}' cannot be built (CMake splits a path at "
                               "';' and turns '\\' into '/'; a '\"' ends the #include of a spec): move or rename the folder")
    assert_untouched(out)


@pytest.mark.parametrize("char", [";", '"'])
def test_cmake_refuses_an_ops_folder_whose_path_it_would_misread(tmp_path, char):
    """CMake directly, as `pip install .` runs it."""
    ops = tmp_path / f"a{char}b"
    shutil.copytree(EXAMPLE, ops)
    proc = subprocess.run(["cmake", "-S", str(REPO), "-B", str(tmp_path / "build"), "-DOPFORGE_FRAMEWORKS=onnxruntime",
                           "-DOPFORGE_CUDA=OFF", f"-DOPFORGE_OPS_DIR={ops}", "-DOPFORGE_NAMESPACE=myops"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "a path with ';' or '\"' cannot be built: move or rename the folder" in " ".join(proc.stderr.split())


def test_an_op_folder_given_as_the_ops_folder_says_to_give_its_parent(tmp_path, out):
    ops = broken(tmp_path, lambda d: None)
    proc = opforge_build(*BUILD, "--ops", str(ops / "scale"), "--out", str(out))
    assert proc.returncode == 2
    assert last_line(proc) == f"opforge build: {ops / 'scale'} is an op's folder: give the ops folder that holds it ({ops})"
    assert_untouched(out)


def test_unknown_release_and_sdk_that_is_not_one(tmp_path, out):
    proc = opforge_build("--release", "99.99", "--out", str(out))
    assert proc.returncode == 2 and "known releases" in last_line(proc)
    empty = tmp_path / "not-an-sdk"
    empty.mkdir()
    proc = opforge_build(*BUILD[:2], "--toolchain", "path", "--frameworks", "onnxruntime", "--cuda", "none",
                         "--sdk", f"onnxruntime={empty}", "--out", str(out))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert f"ONNXRUNTIME_ROOT={empty} holds no onnxruntime_c_api.h" in last_line(proc), last_line(proc)
    assert_untouched(out)
    # Named on the command line: a folder that is not there, or not torch, stops the build first.
    for sdk, status, words in ((f"torch={tmp_path / 'typo'}", 2, "no such file or folder"),
                               (f"torch={empty}", 1, "is not a torch package folder")):
        proc = opforge_build(*BUILD[:2], "--sdk", sdk, "--out", str(out))
        assert proc.returncode == status and words in last_line(proc), proc.stderr[-3000:]
        assert_untouched(out)
    proc = opforge_build(*BUILD[:2], "--deploy-dir", "/opt/my ops", "--out", str(out))
    assert proc.returncode == 2 and "--deploy-dir" in last_line(proc), proc.stderr[-3000:]
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    proc = opforge_build(*BUILD, "--out", str(blocked / "out"))
    assert proc.returncode == 2 and "cannot write beside it" in last_line(proc), proc.stderr[-3000:]


def test_the_default_out_takes_the_release_s_own_name(tmp_path):
    """`--release r23.05` is release 23.05: its folder is dist/triton-23.05."""
    proc = opforge_build("--release", "r23.05", *BUILD[2:], "--ops", str(EXAMPLE), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in (tmp_path / "dist").iterdir()] == ["myops-triton-23.05"]


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupted_build(tmp_path, out, sig, status):
    """Ctrl-C, or the SIGTERM of `kill` or a CI timeout: the folders the build was writing go with it."""
    work = tmp_path / "tmp"
    work.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "opforge", "build", *BUILD, "--ops", str(EXAMPLE), "--out",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(work)))
    deadline = time.monotonic() + 120
    while not list(work.glob("*/build-onnxruntime")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)  # until CMake is at work
    assert proc.poll() is None and list(work.glob("*/build-onnxruntime")), "the build never reached CMake"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == status, err[-3000:]
    assert "was left as it was" in err.strip().splitlines()[-1], err[-3000:]
    assert_untouched(out)
    assert not list(work.iterdir())  # the build folder went with it


def test_out_that_is_not_a_release_folder_is_never_replaced(tmp_path):
    mine = tmp_path / "src"
    mine.mkdir()
    (mine / "keep.txt").write_text("work of a day")
    proc = opforge_build(*BUILD, "--out", str(mine))
    assert proc.returncode == 2 and "not a release folder" in last_line(proc), proc.stderr[-3000:]
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]


def test_an_sdk_that_cannot_be_installed_fails_the_build_instead_of_dropping_it(tmp_path, out):
    """Offline, pip cannot install the release's onnxruntime: the build fails
    and the earlier release folder stays, rather than a release without it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}  # no local wheel folders either
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1",
               PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_RETRIES="0", PIP_TIMEOUT="2")
    proc = subprocess.run([sys.executable, "-m", "opforge", "build", *BUILD, "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "pip could not install" in proc.stderr and "was left as it was" in last_line(proc), proc.stderr[-3000:]
    assert "onnxruntime: failed" in proc.stderr, proc.stderr[-3000:]  # a failure, not "not built" (a skip)
    assert_untouched(out)


def test_a_crash_after_the_cases_ran_is_said_to_be_at_exit():
    """torch and TensorFlow never unload a library: its static destructors run
    as the process exits, after cases.py printed its summary."""
    from opforge import cases
    from opforge.release_build import _cases_ended

    def child(code):
        return subprocess.run([sys.executable, "-c", "import os, signal, sys\n" + code], capture_output=True, text=True)

    mid_case = child(f"print({cases.RUNNING!r} + 'gain-float32-5', file=sys.stderr, flush=True)\n"
                     "os.kill(os.getpid(), signal.SIGABRT)")
    assert _cases_ended(mid_case) == "crashed with SIGABRT in case gain-float32-5, which would take tritonserver down"
    at_exit = child(f"print({cases.RUNNING!r} + 'gain-float32-5', file=sys.stderr, flush=True)\n"
                    "print('{\"framework\": \"torch\"}', flush=True)\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert _cases_ended(at_exit) == ("crashed with SIGSEGV after its cases ran, at exit, which would take "
                                     "tritonserver down")
    raised = child("raise SystemExit('no interpreter for that')")
    assert _cases_ended(raised) == "exited 1: no interpreter for that"
