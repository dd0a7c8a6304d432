"""CPU kernels run on the threads the framework lends them (torch's
at::parallel_for, TensorFlow's CPU worker threads, ONNX Runtime's intra-op
pool): no thread is created per call.

Each child calls clip on 2^20 float32 elements (above the parallel grain)
1,000 times with a small LD_PRELOADed library in front of pthread_create
(std::thread, Eigen's and ONNX Runtime's pools all start threads through it)
that counts the threads started. The count is exact: other processes on the
machine do not move it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import library, require_framework, results_of, run_python

CALLS = 1000

COUNTER = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
static unsigned long started;
unsigned long threads_started(void) { return __atomic_load_n(&started, __ATOMIC_SEQ_CST); }
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg) {
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_create");
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    return real(t, a, f, arg);
}
"""

PROBE = r"""
import ctypes, json
threads_started = ctypes.CDLL(None).threads_started
threads_started.restype = ctypes.c_ulong
call()  # the framework's pools start here, once
before = threads_started()
for _ in range(CALLS):
    call()
print(json.dumps({"started": threads_started() - before, "before": before}))
"""


@pytest.fixture(scope="module")
def thread_counter(tmp_path_factory) -> str:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler (cc/gcc) on PATH to build the pthread_create counter")
    folder = tmp_path_factory.mktemp("thread_counter")
    (folder / "counter.c").write_text(COUNTER)
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", folder / "counter.so", folder / "counter.c", "-ldl"],
                   check=True, capture_output=True)
    return str(folder / "counter.so")

SETUP = {
    "torch": r"""
import sys, torch
torch.ops.load_library(sys.argv[1])
x = torch.randn(1 << 20)
call = lambda: torch.ops.opforge.clip(x, -0.5, 0.5)
""",
    "tensorflow": r"""
import sys, tensorflow as tf
m = tf.load_op_library(sys.argv[1])
x = tf.random.normal([1 << 20])
call = lambda: m.opforge_clip(x, lo=-0.5, hi=0.5)
""",
    "onnxruntime": r"""
import sys, numpy as np, onnxruntime as ort
from onnx import helper, TensorProto
node = helper.make_node("Clip", ["x"], ["y"], domain="opforge", lo=-0.5, hi=0.5)
g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])])
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("opforge", 1)])
model.ir_version = 8
so = ort.SessionOptions()
so.register_custom_ops_library(sys.argv[1])
s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
call = lambda: s.run(None, {"x": x})
""",
}


@pytest.mark.parametrize("framework", list(SETUP))
def test_no_thread_per_call(framework, thread_counter):
    require_framework(framework)
    if framework == "onnxruntime":
        require_framework("onnx")
    code = SETUP[framework] + f"CALLS = {CALLS}\n" + PROBE
    preload = f"{os.environ.get('LD_PRELOAD', '')} {thread_counter}".strip()  # after a sanitizer's runtime, which must come first
    got = results_of(run_python(code, library(framework), timeout=600, env={"LD_PRELOAD": preload}))
    assert got["before"] > 0, "the counter saw no thread start at all: it is not in front of pthread_create"
    assert got["started"] == 0, f"{got['started']} threads started during {CALLS} calls"
