"""The shared op cases (from each op folder's reference.py), for the tests."""

from __future__ import annotations

from pathlib import Path

from opforge import cases as _cases
from opforge import ops_folder as _ops_folder
from opforge.cases import Case, assert_matches, camel, onnx_model, run_onnxruntime  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
OPS_DIR = REPO / "ops"
OPS = tuple(_cases.op_dirs(OPS_DIR))
CUDA_OPS = tuple(_ops_folder.cuda_ops(OPS_DIR))  # the ops with a CUDA kernel (`opforge new --cpu-only`: none)
TF_NAMES = {op: f"opforge_{op}" for op in OPS}
ORT_TYPES = {op: camel(op) for op in OPS}


def reference(op: str):
    return getattr(_cases.load_reference(OPS_DIR / op), op)


def all_cases() -> list[Case]:
    return _cases.all_cases(OPS_DIR)
