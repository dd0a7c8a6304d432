"""The opforge command line, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import opforge


def opforge_cli(*args):
    return subprocess.run([sys.executable, "-m", "opforge", *args], capture_output=True, text=True)


def test_info_reports_every_framework():
    proc = opforge_cli("info")
    assert proc.returncode == 0, proc.stderr
    info = opforge.build_info()
    assert proc.stdout.startswith(f"opforge {opforge.__version__}, namespace {info['namespace']}: "
                                  f"ops {', '.join(info['ops'])}; ")
    report = opforge.build_info()["frameworks"]
    for fw in opforge.FRAMEWORKS:
        line = next(l for l in proc.stdout.splitlines() if l.startswith(fw))
        if report[fw]["status"] == "BUILT":
            assert "built" in line and str(opforge.library_path(fw)) in line
        else:
            assert "skipped" in line and report[fw]["reason"] in line


def test_library_path_names_the_reason_when_not_built():
    for fw, r in opforge.build_info()["frameworks"].items():
        if r["status"] != "BUILT":
            try:
                opforge.library_path(fw)
            except opforge.LibraryNotBuilt as e:
                assert r["reason"] in str(e)
            else:
                raise AssertionError(f"{fw}: library_path did not raise")


def test_unknown_framework_is_a_clear_error():
    try:
        opforge.library_path("caffe")
    except ValueError as e:
        assert "torch" in str(e) and "caffe" in str(e)
    else:
        raise AssertionError("no error")


def test_releases_table_and_detail():
    table = opforge_cli("releases")
    assert table.returncode == 0 and "23.05" in table.stdout and "26.09" in table.stdout
    one = opforge_cli("releases", "23.05")
    assert one.returncode == 0 and "2.12.0" in one.stdout and "8.6.1" in one.stdout


def test_a_reader_that_stops_early_gets_no_traceback():
    """`opforge releases | head -1`: the pipe closes before the table is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "opforge", "releases"], stdout=write, stderr=subprocess.PIPE,
                              text=True)
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr


def test_unknown_release_and_bad_command_exit_2():
    bad = opforge_cli("releases", "99.99")
    assert bad.returncode == 2 and "known releases: 22.12 to " in bad.stderr, bad.stderr
    assert opforge_cli("frobnicate").returncode == 2


def test_load_hands_back_each_frameworks_handle():
    import importlib.util

    import numpy as np

    if importlib.util.find_spec("torch"):
        import torch

        ops = opforge.load("torch")
        assert ops.zero_out(torch.tensor([5, 6, 7])).tolist() == [5, 0, 0]
    if importlib.util.find_spec("tensorflow"):
        module = opforge.load("tensorflow")
        assert module.opforge_zero_out(np.array([5, 6, 7], np.int32)).numpy().tolist() == [5, 0, 0]
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        import onnxruntime as ort

        from opcases import all_cases, assert_matches, onnx_model

        options = opforge.load("onnxruntime")
        assert isinstance(options, ort.SessionOptions)
        case = next(c for c in all_cases() if c.op == "zero_out" and c.inputs[0].size)
        session = ort.InferenceSession(onnx_model(case, "opforge"), options, providers=["CPUExecutionProvider"])
        assert_matches(case, session.run(None, {"in0": case.inputs[0]})[0])


def test_library_path_is_a_str_every_framework_loader_takes():
    """tf.load_op_library rejects a Path: library_path hands out a str."""
    import opforge

    built = [fw for fw, r in opforge.build_info()["frameworks"].items() if r["status"] == "BUILT"]
    assert built
    for fw in built:
        assert type(opforge.library_path(fw)) is str
    if "tensorflow" in built:
        tf = pytest.importorskip("tensorflow")
        assert hasattr(tf.load_op_library(opforge.library_path("tensorflow")), "opforge_clip")


def test_info_says_whether_the_gpu_selftest_was_built():
    proc = opforge_cli("info")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("GPU self-test"))
    assert line.split(": ", 1)[1] == opforge.build_info()["selftest"]
    assert line.endswith("built") or "not built: " in line


def test_frameworks_are_taken_space_or_comma_separated():
    from opforge.cli import _flat, parser

    args = parser().parse_args(["build", "--release", "23.05", "--frameworks", "torch,onnxruntime", "tensorflow",
                                "torch"])
    assert _flat(args.frameworks) == ["torch", "onnxruntime", "tensorflow"]
    assert _flat(parser().parse_args(["build", "--release", "23.05"]).frameworks) is None
    for word, bad in (("torch,caffe", "'caffe'"), ("torch,", "''"), ("Torch", "'Torch'")):
        proc = opforge_cli("build", "--release", "23.05", "--frameworks", word)
        assert proc.returncode == 2, proc.stderr
        assert (f"argument --frameworks: {bad} is not a framework: expected torch, tensorflow, onnxruntime, tensorrt, "
                "space- or comma-separated") in proc.stderr.splitlines()[-1]
