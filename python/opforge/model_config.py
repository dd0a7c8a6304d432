"""Triton's model configuration (config.pbtxt) through Triton's own proto.

tritonclient ships the generated ``model_config_pb2`` (the full
``inference.ModelConfig``); it sits in ``tritonclient/grpc/``, whose
package __init__ needs grpcio, so the module is loaded from its file.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from google.protobuf import text_format


@functools.lru_cache(maxsize=1)
def pb2():
    """tritonclient's model_config_pb2 module."""
    spec = importlib.util.find_spec("tritonclient")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("tritonclient is not installed: `pip install tritonclient` (it has Triton's "
                           "model_config.proto, which opforge reads and writes config.pbtxt with)")
    path = Path(spec.submodule_search_locations[0]) / "grpc" / "model_config_pb2.py"
    module_spec = importlib.util.spec_from_file_location("opforge_tritonclient_model_config_pb2", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def parse(text: str):
    """config.pbtxt text -> inference.ModelConfig (raises text_format.ParseError)."""
    return text_format.Parse(text, pb2().ModelConfig())


def read(path: Path):
    return parse(Path(path).read_text())


def to_text(config) -> str:
    return text_format.MessageToString(config)


def model_operations(paths: list[str]) -> str:
    """A config.pbtxt fragment: model_operations { op_library_filename: ... }."""
    config = pb2().ModelConfig()
    config.model_operations.op_library_filename.extend(paths)
    return to_text(config)
