#!/usr/bin/env bash
# Runs inside an NGC image (nvcr.io/nvidia/{pytorch,tensorflow,tensorrt}:YY.MM-*)
# for opforge's container toolchain: makes sure cmake >= 3.24 and ninja are
# there, then runs the given command (cmake, or python3 for the checks).
set -euo pipefail
need_cmake() {
  command -v cmake >/dev/null || return 0
  [ "$(printf '%s\n' 3.24 "$(cmake --version | sed -n 's/cmake version //p')" | sort -V | head -1)" != 3.24 ]
}
if need_cmake || ! command -v ninja >/dev/null; then
  export PYTHONUSERBASE=/tmp/opforge-ngc-tools PATH="/tmp/opforge-ngc-tools/bin:$PATH"
  python3 -m pip install --quiet --user "cmake>=3.24" ninja >&2
fi
exec "$@"
