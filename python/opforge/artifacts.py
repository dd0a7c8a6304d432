"""The files of a release folder besides the libraries: how to deploy them."""

from __future__ import annotations

import json
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

# Which backend loads which library, and how (Triton's custom-op routes).
PRELOADED = ("torch", "tensorflow", "tensorrt")  # LD_PRELOAD
PER_MODEL = ("onnxruntime", "tensorflow")  # model_operations { op_library_filename }


def _model_config_class():
    """The part of Triton's model_config.proto that names op libraries:
    message ModelOperations { repeated string op_library_filename = 1; },
    field 18 of ModelConfig. Built at run time so that the snippet is real
    protobuf text format without compiling Triton's whole proto."""
    f = descriptor_pb2.FileDescriptorProto(name="opforge_triton_model_config.proto", package="inference",
                                           syntax="proto3")
    ops = f.message_type.add(name="ModelOperations")
    ops.field.add(name="op_library_filename", number=1, type=9, label=3)  # repeated string
    cfg = f.message_type.add(name="ModelConfig")
    cfg.field.add(name="model_operations", number=18, type=11, label=1, type_name=".inference.ModelOperations")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    desc = pool.FindMessageTypeByName("inference.ModelConfig")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def model_operations(paths: list[str]) -> str:
    config = _model_config_class()()
    config.model_operations.op_library_filename.extend(paths)
    return text_format.MessageToString(config)


def write_deploy_files(folder: Path, manifest: dict, deploy_dir: str) -> None:
    built = {c["framework"]: c["library"] for c in manifest["libraries"] if c["status"] == "built"}
    release = manifest["release"]["name"]
    at = lambda fw: f"{deploy_dir}/{built[fw]}"

    preload = [at(fw) for fw in PRELOADED if fw in built]
    env = [f"# Triton {release} (nvcr.io/nvidia/tritonserver:{release}-py3): the libraries that are",
           "# preloaded into tritonserver. Source this file in the container, with the",
           f"# libraries copied to {deploy_dir}.", ""]
    if "torch" in built:
        env.append("# libtorch of the PyTorch backend, which libopforge_torch.so links against")
        env.append('export LD_LIBRARY_PATH="/opt/tritonserver/backends/pytorch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"')
    if preload:
        env.append(f'export LD_PRELOAD="{":".join(preload)}${{LD_PRELOAD:+:$LD_PRELOAD}}"')
    else:
        env.append("# nothing to preload: no PyTorch, TensorFlow or TensorRT library was built")
    if "tensorrt" in built:
        env += ["", "# TensorRT alternative to LD_PRELOAD (Triton >= 22.09), as a tritonserver argument:",
                f"#   --backend-config=tensorrt,plugins={at('tensorrt')}"]
    (folder / "triton.env").write_text("\n".join(env) + "\n")

    for fw in PER_MODEL:
        if fw in built:
            (folder / f"model_operations.{fw}.pbtxt").write_text(
                f"# Add to the config.pbtxt of each {fw} model that uses these ops.\n"
                + model_operations([at(fw)]))

    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (folder / "README.md").write_text(_readme(manifest, built, deploy_dir))


def _readme(manifest: dict, built: dict, deploy_dir: str) -> str:
    r = manifest["release"]
    lines = [f"# opforge ops for Triton {r['name']} (server {r['server']})", "",
             f"Built by `opforge build --release {r['name']}` with the `{manifest['toolchain']}` toolchain. "
             "`manifest.json` records, per library, what it was built against, how exact that is, "
             "every check that ran and its result, and the sha256.", "",
             "## Deploy", "",
             f"1. Copy the libraries into the server's container, at `{deploy_dir}`:", "",
             "   ```sh",
             f"   docker run ... -v $PWD:{deploy_dir}:ro nvcr.io/nvidia/tritonserver:{r['name']}-py3 ...",
             "   ```", ""]
    if any(fw in built for fw in PRELOADED):
        lines += ["2. Preload them (PyTorch, TensorFlow, TensorRT): in the container, before "
                  "`tritonserver`:", "", "   ```sh", f"   source {deploy_dir}/triton.env", "   tritonserver "
                  "--model-repository=/models", "   ```", ""]
        if "tensorrt" in built:
            lines += [f"   TensorRT alternative: `tritonserver --backend-config=tensorrt,plugins="
                      f"{deploy_dir}/{built['tensorrt']}`.", ""]
    for fw in PER_MODEL:
        if fw in built:
            lines += [f"- {fw} models: add `model_operations.{fw}.pbtxt` to the model's `config.pbtxt`.", ""]
    lines += ["## Libraries", "", "| framework | status | built against | match | device |", "|---|---|---|---|---|"]
    for c in manifest["libraries"]:
        lines.append(f"| {c['framework']} | {c['status']}{'' if c['status'] == 'built' else ': ' + c['reason']} "
                     f"| {c.get('built_against', '-')} | {c.get('match', '-')} | {c.get('device', '-')} |")
    return "\n".join(lines) + "\n"
