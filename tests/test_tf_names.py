"""opforge's idea of the Python name of a TensorFlow op equals the one
TensorFlow itself generates (tf.load_op_library's wrappers), for any op and
namespace name `opforge new` accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from conftest import require_framework
from opforge.cases import tf_op_name, tf_python_name

SNAKE = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,4}){0,3}", fullmatch=True)


def generated_function(op_name: str) -> str:
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.framework import _pywrap_python_op_gen

    ops = op_def_pb2.OpList()
    op = ops.op.add(name=op_name)
    op.input_arg.add(name="x", type=1)
    op.output_arg.add(name="y", type=1)
    source = _pywrap_python_op_gen.GetPythonWrappers(ops.SerializeToString()).decode()
    return re.search(r"^def (\w+)\(", source, re.M).group(1)


@pytest.mark.parametrize("namespace, op, expected", [
    ("opforge", "rms_norm", "opforge_rms_norm"), ("ops", "conv_2d", "ops_conv2d"),
    ("opforge", "a_b", "opforge_ab"), ("ops_team_1", "top_k", "ops_team_1_top_k")])
def test_known_names(namespace, op, expected):
    assert tf_python_name(namespace, op) == expected


@settings(max_examples=300, deadline=None)
@given(namespace=SNAKE, op=SNAKE)
def test_same_name_as_tensorflow_generates(namespace, op):
    require_framework("tensorflow")
    assert tf_python_name(namespace, op) == generated_function(tf_op_name(namespace, op))
