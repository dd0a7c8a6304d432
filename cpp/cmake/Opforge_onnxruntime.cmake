# ONNX Runtime adapter: headers only, never linked to libonnxruntime, so one
# binary loads in every runtime from 1.13 on (see cpp/onnxruntime/register.cc).
# Headers come from ONNXRUNTIME_ROOT when set, else the build provisions them
# into a private cache folder (Debian's libonnxruntime-dev, unpacked, no
# system change); they are never vendored into the repository.
include_guard(GLOBAL)

set(ONNXRUNTIME_ROOT "$ENV{ONNXRUNTIME_ROOT}" CACHE PATH
    "ONNX Runtime release folder (with include/onnxruntime_c_api.h)")
if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
  set(_cache "$ENV{XDG_CACHE_HOME}/opforge")
else()
  set(_cache "$ENV{HOME}/.cache/opforge")
endif()
set(OPFORGE_SDK_CACHE "${_cache}" CACHE PATH "Where opforge keeps provisioned SDK headers")

# Unset, not "": find_path(... NO_CACHE) does not search when its variable is already set.
unset(_ort_inc)
if(ONNXRUNTIME_ROOT)
  find_path(_ort_inc onnxruntime_c_api.h NO_DEFAULT_PATH NO_CACHE
            PATHS "${ONNXRUNTIME_ROOT}"
            PATH_SUFFIXES include include/onnxruntime include/onnxruntime/core/session)
  if(NOT _ort_inc)
    opforge_report(onnxruntime SKIPPED
      "ONNXRUNTIME_ROOT=${ONNXRUNTIME_ROOT} holds no onnxruntime_c_api.h")
    return()
  endif()
  set(_ort_source "ONNXRUNTIME_ROOT=${ONNXRUNTIME_ROOT}")
else()
  # opforge.onnxruntime_headers, from the checkout (python/) or the installed package (source/..).
  set(_dest "${OPFORGE_SDK_CACHE}/onnxruntime-headers-debian-trixie")
  find_path(_pkg_parent opforge/onnxruntime_headers.py NO_DEFAULT_PATH NO_CACHE
            PATHS "${CMAKE_SOURCE_DIR}/python" "${CMAKE_SOURCE_DIR}/../..")
  opforge_python(_ort_inc "import sys; sys.path.insert(0, '${_pkg_parent}')
from opforge.onnxruntime_headers import provision; print(provision('${_dest}'))")
  if(_ort_inc MATCHES "^ERROR: (.*)")
    opforge_report(onnxruntime SKIPPED
      "no ONNX Runtime headers: set ONNXRUNTIME_ROOT to an ONNX Runtime release folder (provisioning failed: ${CMAKE_MATCH_1})")
    return()
  endif()
  file(READ "${_dest}/SOURCE" _ort_source)
  string(STRIP "${_ort_source}" _ort_source)
endif()

file(STRINGS "${_ort_inc}/onnxruntime_c_api.h" _api REGEX "^#define ORT_API_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _ort_api "${_api}")

# A release build targets the API version of the release's runtime: the
# library then never asks a newer runtime for more than that release offers.
set(OPFORGE_ORT_API_VERSION "" CACHE STRING
    "Highest ONNX Runtime API version to ask for (e.g. 15 for onnxruntime 1.15); empty: the headers' version")
set(_ort_max_api "${_ort_api}")
if(OPFORGE_ORT_API_VERSION)
  if(OPFORGE_ORT_API_VERSION LESS 13)
    message(FATAL_ERROR "OPFORGE_ORT_API_VERSION=${OPFORGE_ORT_API_VERSION}: opforge needs API 13 or newer")
  endif()
  if(OPFORGE_ORT_API_VERSION LESS _ort_api)
    set(_ort_max_api "${OPFORGE_ORT_API_VERSION}")
  endif()  # a newer target than the headers: ask for what the headers know; runtimes accept older APIs
endif()

# CUDA provider kernels only where the installed runtime has that provider:
# they make the library depend on libcudart.
opforge_python(_ort_rt [=[
import onnxruntime as ort
print(ort.__version__, int("CUDAExecutionProvider" in ort.get_available_providers()))
]=])
set(_ort_runtime "not installed")
opforge_adapter_cuda(_with_cuda OFF)
if(NOT _ort_rt MATCHES "^ERROR: ")
  separate_arguments(_ort_rt)
  list(GET _ort_rt 0 _ort_runtime)
  list(GET _ort_rt 1 _ort_has_cuda)
  opforge_adapter_cuda(_with_cuda "${_ort_has_cuda}")
endif()

opforge_adapter_source(onnxruntime/adapter.h _ort_srcs)
opforge_framework_library(onnxruntime SOURCES "${OPFORGE_CPP_DIR}/onnxruntime/register.cc"
                          ${_ort_srcs} CUDA ${_with_cuda})
target_include_directories(opforge_onnxruntime SYSTEM PRIVATE "${_ort_inc}")
target_compile_definitions(opforge_onnxruntime PRIVATE OPFORGE_ORT_MAX_API_VERSION=${_ort_max_api})

opforge_report(onnxruntime BUILT
  "headers API ${_ort_api} (${_ort_source}); negotiates API 13..${_ort_max_api} at load; runtime here: ${_ort_runtime}"
  VERSION "api-${_ort_max_api}" CXX11_ABI "none (C API)"
  DETAIL "${_ort_source}")
