"""The files of a release folder besides the libraries: how to deploy them."""

from __future__ import annotations

import json
from pathlib import Path

from .cases import camel, tf_op_name, tf_python_name
from .model_config import model_operations

# Which backend loads which library, and how (Triton's custom-op routes).
# TensorFlow is loaded per model by default: preloading libtensorflow_framework
# into every server process crashes the python backend's stub (Triton issue
# 5507), and a preloaded TF library needs backends/tensorflow on the path.
PRELOADED = ("torch", "tensorrt")  # LD_PRELOAD
PER_MODEL = ("onnxruntime", "tensorflow")  # model_operations { op_library_filename }


def write_deploy_files(folder: Path, manifest: dict, deploy_dir: str) -> None:
    built = {c["framework"]: c["library"] for c in manifest["libraries"] if c["status"] == "built"}
    release = manifest["release"]["name"]
    at = lambda fw: f"{deploy_dir}/{built[fw]}"

    preload = [at(fw) for fw in PRELOADED if fw in built]
    env = [f"# Triton {release} (nvcr.io/nvidia/tritonserver:{release}-py3): the libraries that are",
           "# preloaded into tritonserver. Source this file in the container, with the",
           f"# libraries copied to {deploy_dir}.", ""]
    if "torch" in built:
        env.append(f"# libtorch of the PyTorch backend, which {built['torch']} links against")
        env.append('export LD_LIBRARY_PATH="/opt/tritonserver/backends/pytorch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"')
    if preload:
        env.append(f'export LD_PRELOAD="{":".join(preload)}${{LD_PRELOAD:+:$LD_PRELOAD}}"')
    else:
        env.append("# nothing to preload: no PyTorch or TensorRT library was built")
    if "tensorrt" in built:
        env += ["", "# TensorRT alternative to LD_PRELOAD (Triton >= 22.09), as a tritonserver argument:",
                f"#   --backend-config=tensorrt,plugins={at('tensorrt')}"]
    if "tensorflow" in built:
        env += ["", "# TensorFlow: per model (model_operations.tensorflow.pbtxt). Preloading it into every",
                "# server process breaks the python backend (Triton issue 5507); if you must, also put",
                "# libtensorflow_framework on the path:",
                '#   export LD_LIBRARY_PATH="/opt/tritonserver/backends/tensorflow${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"',
                f'#   export LD_PRELOAD="{at("tensorflow")}${{LD_PRELOAD:+:$LD_PRELOAD}}"']
    (folder / "triton.env").write_text("\n".join(env) + "\n")

    for fw in PER_MODEL:
        if fw in built:
            (folder / f"model_operations.{fw}.pbtxt").write_text(
                f"# Add to the config.pbtxt of each {fw} model that uses these ops.\n"
                + model_operations([at(fw)]))

    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (folder / "README.md").write_text(_readme(manifest, built, deploy_dir))


def _readme(manifest: dict, built: dict, deploy_dir: str) -> str:
    r, ns = manifest["release"], manifest["namespace"]
    lines = [f"# {ns} ops for Triton {r['name']} (server {r['server']})", "",
             f"Ops {', '.join(manifest['ops'])} of namespace `{ns}`, built by `opforge build --release {r['name']}` "
             f"with the `{manifest['toolchain']}` toolchain. `manifest.json` records, per library, what it was built "
             "against, how exact that is, every check that ran and its result, and the sha256; and what the folder "
             "was built from (`sources`).", "",
             *_op_names(ns, manifest["ops"], built),
             "## Deploy into a model repository", "",
             "`opforge deploy` copies the libraries the models need into the repository, adds `model_operations` "
             "to their configs and writes the server's launch file; `opforge check` then predicts what the "
             "server would fail on:", "", "```sh",
             "opforge deploy --model-repository ./models --libs <this folder> --mount /models",
             "opforge check --model-repository ./models --release " + r["name"],
             f"opforge deploy --model-repository ./models --remove {ns}   # later, to take them out again", "```", "",
             "## Or by hand, from this folder", "",
             f"1. Mount or copy it into the server's container, at `{deploy_dir}`:", "", "   ```sh",
             f"   docker run ... -v $PWD:{deploy_dir}:ro nvcr.io/nvidia/tritonserver:{r['name']}-py3 ...",
             "   ```", ""]
    step = 2
    for fw in PER_MODEL:
        if fw in built:
            lines += [f"{step}. For each {fw} model using these ops: add `model_operations.{fw}.pbtxt` to its "
                      "`config.pbtxt`.", ""]
            step += 1
    preloaded = [fw for fw in PRELOADED if fw in built]
    if preloaded:
        names = " and ".join({"torch": "PyTorch", "tensorrt": "TensorRT"}.get(fw, fw) for fw in preloaded)
        lines += [f"{step}. Preload the {names} {'libraries' if len(preloaded) > 1 else 'library'}: in the "
                  "container, start the server with:", "", "   ```sh", f"   source {deploy_dir}/triton.env",
                  "   tritonserver --model-repository=/models", "   ```", ""]
        if "tensorrt" in built:
            lines += [f"   TensorRT alternative: `tritonserver --backend-config=tensorrt,plugins="
                      f"{deploy_dir}/{built['tensorrt']}`.", ""]
    cuda = {c["cuda_toolkit"]["version"].split(".")[0] for c in manifest["libraries"] if c.get("cuda_toolkit")}
    if cuda:
        runtime = manifest.get("cuda_runtime", {}).get("version")
        lines += [f"The libraries with CUDA kernels need `libcudart.so.{'/'.join(sorted(cuda))}` where they load: "
                  "Triton's container has it; elsewhere, put a CUDA runtime of that major version"
                  + (f", {runtime} or newer," if runtime else "") + " on `LD_LIBRARY_PATH`"
                  + (f" (the libraries were checked and loaded against {runtime}'s)" if runtime else "") + ".", ""]
    lines += ["## Libraries", "", "| framework | status | built against | match | device |", "|---|---|---|---|---|"]
    for c in manifest["libraries"]:
        lines.append(f"| {c['framework']} | {c['status']}{'' if c['status'] == 'built' else ': ' + c['reason']} "
                     f"| {c.get('built_against', '-')} | {c.get('match', '-')} | {c.get('device', '-')} |")
    return "\n".join(lines) + "\n"


def _op_names(ns: str, ops: list[str], built: dict) -> list[str]:
    """What a model calls each op by, per framework built: the names the
    adapters register (op_spec.h)."""
    columns = {"torch": lambda op: f"`torch.ops.{ns}.{op}`",
               "onnxruntime": lambda op: f"domain `{ns}`, op type `{camel(op)}`",
               "tensorflow": lambda op: f"`{tf_op_name(ns, op)}` (Python: `{tf_python_name(ns, op)}`)",
               "tensorrt": lambda op: f"plugin `{tf_op_name(ns, op)}`, version `1`, namespace `{ns}`"}
    shown = [fw for fw in columns if fw in built]
    if not shown:
        return []
    lines = ["## Op names", "", "| op | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|"]
    lines += [f"| {op} | " + " | ".join(columns[fw](op) for fw in shown) + " |" for op in ops]
    return lines + [""]
