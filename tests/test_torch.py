"""TorchScript library in real torch: numbers, scripting, save/load, opcheck."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import library, require_framework, results_of, run_python
from opcases import CUDA_OPS, OPS, all_cases, assert_matches

torch = require_framework("torch")


@pytest.fixture(scope="module")
def ops():
    torch.ops.load_library(library("torch"))
    return torch.ops.opforge


def call(ops, case, tensors):
    return getattr(ops, case.op)(*tensors, *case.attrs.values())


def skip_unless_runs_on(device, op):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    if device == "cuda" and op not in CUDA_OPS:
        pytest.skip(f"{op} has no CUDA kernel")


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_matches_reference(ops, case, device):
    skip_unless_runs_on(device, case.op)
    tensors = [torch.from_numpy(a).to(device) for a in case.inputs]
    out = call(ops, case, tensors)
    assert out.device.type == device
    assert_matches(case, out.cpu().numpy())


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_non_contiguous_inputs(ops, op, device):
    skip_unless_runs_on(device, op)
    case = next(c for c in all_cases() if c.op == op and c.inputs[0].ndim >= 2
                and min(c.inputs[0].shape) > 1)
    # Transposed views (and back) give non-contiguous tensors with the same values.
    tensors = [torch.from_numpy(np.ascontiguousarray(a.T)).to(device).T if a.ndim >= 2
               else torch.from_numpy(a).to(device) for a in case.inputs]
    if op == "rms_norm":  # weight: a strided view of a longer tensor
        w = torch.from_numpy(np.repeat(case.inputs[1], 2)).to(device)[::2]
        tensors[1] = w
    assert not tensors[0].is_contiguous()
    assert_matches(case, call(ops, case, tensors).cpu().numpy())


FLOAT_OPS = [op for op in OPS if any(c.op == op and c.inputs[0].dtype.kind == "f" for c in all_cases())]


@pytest.mark.parametrize("op", FLOAT_OPS)  # integer tensors cannot require grad
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_backward_through_an_op_raises_instead_of_a_silent_missing_gradient(ops, op, device):
    skip_unless_runs_on(device, op)
    case = next(c for c in all_cases() if c.op == op and c.inputs[0].size > 1 and c.inputs[0].dtype.kind == "f")
    tensors = [torch.from_numpy(a).to(device) for a in case.inputs]
    tensors[0].requires_grad_(True)
    out = call(ops, case, tensors)  # forward as before, whatever requires grad
    assert_matches(case, out.detach().cpu().numpy())
    with pytest.raises(RuntimeError, match=f"derivative for opforge::{op} is not implemented"):
        out.float().sum().backward()
    assert tensors[0].grad is None


def test_cuda_kernels_registered_when_torch_has_cuda(ops):
    if not torch.version.cuda:
        pytest.skip(f"torch {torch.__version__} is a CPU-only build: no CUDA kernels to register")
    for op in OPS:  # ops without a CUDA kernel have none: torch itself refuses a CUDA tensor
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"opforge::{op}", "CUDA") == (op in CUDA_OPS), op


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_opcheck(ops, op, device):
    if not hasattr(torch.library, "opcheck"):
        pytest.skip(f"torch {torch.__version__} has no torch.library.opcheck")
    skip_unless_runs_on(device, op)
    # opcheck compares eager and traced outputs with NaN != NaN: NaN-free cases only.
    nan_free = [c for c in all_cases() if c.op == op
                and not np.isnan(c.expected().astype(np.float64)).any()]
    for case in nan_free[:4]:
        args = [torch.from_numpy(a).to(device) for a in case.inputs] + list(case.attrs.values())
        torch.library.opcheck(getattr(ops, op).default, tuple(args))


SCRIPTED = """
import sys, numpy as np, torch
torch.ops.load_library(sys.argv[1])
m = torch.jit.load(sys.argv[2])
d = np.load(sys.argv[3])
out = m(*[torch.from_numpy(d[k]) for k in ("x", "w", "i", "a", "b")])
print(__import__("json").dumps({k: v.numpy().tolist() for k, v in zip(("clip", "rms", "zero", "mod"), out)}))
"""


# Triton's PyTorch backend runs TorchScript, whatever torch now recommends instead.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_scripted_module_survives_save_and_load_in_a_fresh_process(ops, tmp_path):
    class M(torch.nn.Module):
        def forward(self, x, w, i, a, b):
            return (torch.ops.opforge.clip(x, -0.5, 0.5), torch.ops.opforge.rms_norm(x, w, 1e-5),
                    torch.ops.opforge.zero_out(i), torch.ops.opforge.modulo(a, b))

    scripted = torch.jit.script(M())
    assert "opforge::clip" in str(scripted.graph)
    rng = np.random.default_rng(0)
    data = {"x": rng.standard_normal((3, 8)).astype(np.float32),
            "w": rng.standard_normal(8).astype(np.float32),
            "i": np.arange(1, 7, dtype=np.int64).reshape(2, 3),
            "a": rng.standard_normal(10).astype(np.float32) * 5,
            "b": rng.standard_normal(10).astype(np.float32) + 3}
    np.savez(tmp_path / "data.npz", **data)
    scripted.save(str(tmp_path / "m.pt"))
    got = results_of(run_python(SCRIPTED, library("torch"), str(tmp_path / "m.pt"),
                                str(tmp_path / "data.npz")))
    from opcases import reference
    np.testing.assert_array_equal(np.float32(got["clip"]), reference("clip")(data["x"], -0.5, 0.5))
    np.testing.assert_allclose(np.float32(got["rms"]), reference("rms_norm")(data["x"], data["w"], 1e-5),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.int64(got["zero"]), reference("zero_out")(data["i"]))
    np.testing.assert_array_equal(np.float32(got["mod"]), reference("modulo")(data["a"], data["b"]))


def test_data_dependent_sizes_compile(ops):
    """Sizes known only when the graph runs (a[a > 0]) cannot be guarded on:
    the shape relation becomes a runtime check, as aten's fmod does it."""
    dynamo = pytest.importorskip("torch._dynamo")
    if not hasattr(dynamo.config, "capture_dynamic_output_shape_ops"):
        pytest.skip(f"torch {torch.__version__} does not capture data-dependent shapes")

    def positive_modulo(a, b):
        return ops.modulo(a[a > 0], b[b > 0])

    dynamo.reset()
    with dynamo.config.patch(capture_dynamic_output_shape_ops=True):
        compiled = torch.compile(positive_modulo, backend="eager", fullgraph=True)
        a, b = torch.tensor([5.0, -1.0, 7.0, 9.0]), torch.tensor([2.0, 4.0, -3.0, 4.0])
        assert torch.equal(compiled(a, b), torch.fmod(a[a > 0], b[b > 0]))
        with pytest.raises(RuntimeError, match="same shape|Runtime assertion"):
            compiled(a, torch.tensor([2.0, 4.0, 3.0, 4.0]))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.float64, torch.bfloat16])
def test_a_dtype_the_op_has_no_kernel_for_is_a_type_error(ops, dtype):
    # One error type for one problem, whether or not opforge knows the dtype from another op.
    with pytest.raises(TypeError, match="clip"):
        ops.clip(torch.ones(3, dtype=dtype), 0.0, 1.0)
