"""TensorFlow library in real TensorFlow: eager, tf.function, shape functions."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import library, require_framework
from opcases import OPS, TF_NAMES, all_cases, assert_matches

tf = require_framework("tensorflow")


@pytest.fixture(scope="module")
def module():
    return tf.load_op_library(library("tensorflow"))


def call(module, case, tensors):
    return getattr(module, TF_NAMES[case.op])(*tensors, **case.attrs)


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
@pytest.mark.parametrize("mode", ["eager", "tf.function"])
def test_matches_reference(module, case, mode):
    tensors = [tf.constant(a) for a in case.inputs]
    fn = (lambda *t: call(module, case, t))
    if mode == "tf.function":
        fn = tf.function(fn)
    with tf.device("/CPU:0"):
        out = fn(*tensors)
    assert_matches(case, out.numpy())


@pytest.mark.parametrize("case", [c for c in all_cases() if c.inputs[0].size][::5], ids=lambda c: c.id)
def test_matches_reference_on_gpu(module, case):
    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("no GPU visible to TensorFlow")
    with tf.device("/GPU:0"):
        out = call(module, case, [tf.constant(a) for a in case.inputs])
    assert_matches(case, out.numpy())


@pytest.mark.parametrize("op", OPS)
def test_transposed_input_in_graph(module, op):
    case = next(c for c in all_cases() if c.op == op and c.inputs[0].ndim >= 2
                and min(c.inputs[0].shape) > 1)

    @tf.function
    def fn(*t):
        t = list(t)
        t[0] = tf.transpose(tf.transpose(t[0]))  # a computed input, not a constant
        return call(module, case, t)

    # Fortran-ordered numpy views (non-contiguous in C order) as the source.
    views = [np.ascontiguousarray(a.T).T if a.ndim >= 2 else a for a in case.inputs]
    assert not views[0].flags.c_contiguous
    assert_matches(case, fn(*[tf.constant(v) for v in views]).numpy())


def test_shape_functions(module):
    f32 = tf.float32

    @tf.function(input_signature=[tf.TensorSpec([None, 8], f32), tf.TensorSpec([8], f32)])
    def rms(x, w):
        y = module.opforge_rms_norm(x, w)
        assert y.shape.as_list() == [None, 8]
        return y

    @tf.function(input_signature=[tf.TensorSpec([4, None], f32), tf.TensorSpec([None, 3], f32)])
    def mod(a, b):
        y = module.opforge_modulo(a, b)
        assert y.shape.as_list() == [4, 3]  # merged from both inputs
        return y

    @tf.function(input_signature=[tf.TensorSpec([2, None, 5], tf.int64)])
    def zero(x):
        y = module.opforge_zero_out(x)
        assert y.shape.as_list() == [2, None, 5]
        return y

    rms.get_concrete_function()
    mod.get_concrete_function()
    zero.get_concrete_function()
    with pytest.raises(ValueError, match="must be equal|Dimensions must be equal|incompatible"):
        tf.function(lambda x, w: module.opforge_rms_norm(x, w)).get_concrete_function(
            tf.TensorSpec([2, 8], f32), tf.TensorSpec([7], f32))


def test_epsilon_default_is_1e_minus_6(module):
    x = np.array([[1e-3, -2e-3, 0.0, 5e-4]], np.float32)
    w = np.ones(4, np.float32)
    from opcases import reference

    np.testing.assert_allclose(module.opforge_rms_norm(x, w).numpy(),
                               reference("rms_norm")(x, w, 1e-6), rtol=1e-5)
