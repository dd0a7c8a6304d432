# TensorRT adapter: one plugin per op in lib<namespace>_tensorrt.so, registered
# with TensorRT's plugin registry when the library is loaded. The C++ sources
# pick the plugin API from NvInferVersion.h (IPluginV3 for 10+, IPluginV2DynamicExt
# before), so the same sources build against TensorRT 8.6, 10.x and 11.x.
#
# TensorRT is found through TensorRT_ROOT (cache or environment variable): a
# TensorRT install (include/ and lib/), or just a folder of headers, such as a
# TensorRT release tag's include/, for a compile-only check. Without
# TensorRT_ROOT the usual install paths are searched.
include_guard(GLOBAL)

set(OPFORGE_TENSORRT_MIN_VERSION 8.6)

set(TensorRT_ROOT "$ENV{TensorRT_ROOT}" CACHE PATH
    "TensorRT install, or a folder of TensorRT headers (compile-only check); empty: search the usual paths")

# A changed TensorRT_ROOT must not reuse what was found under the previous one.
if(NOT "${TensorRT_ROOT}" STREQUAL "${_OPFORGE_TENSORRT_ROOT_SEARCHED}")
  unset(OPFORGE_TENSORRT_INCLUDE_DIR CACHE)
  unset(OPFORGE_TENSORRT_NVINFER CACHE)
  set(_OPFORGE_TENSORRT_ROOT_SEARCHED "${TensorRT_ROOT}" CACHE INTERNAL "")
endif()

if(TensorRT_ROOT)
  set(_trt_where HINTS "${TensorRT_ROOT}" NO_DEFAULT_PATH)
else()
  set(_trt_where PATHS /usr/include/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /usr/local/tensorrt /opt/tensorrt)
endif()

# Debian's libnvinfer packages (as in NGC images) use the multiarch folders.
find_path(OPFORGE_TENSORRT_INCLUDE_DIR NvInferVersion.h ${_trt_where}
          PATH_SUFFIXES include include/${CMAKE_LIBRARY_ARCHITECTURE} DOC "Folder of NvInfer.h")
if(NOT OPFORGE_TENSORRT_INCLUDE_DIR)
  opforge_report(tensorrt SKIPPED
    "TensorRT not found: set TensorRT_ROOT to a TensorRT install (or to a release tag's include/ folder for a compile-only check)")
  return()
endif()

# "major.minor.patch" from NvInferVersion.h: 8.6 spells the numbers in
# NV_TENSORRT_MAJOR..., 10.x may define those as TRT_MAJOR_ENTERPRISE...
file(STRINGS "${OPFORGE_TENSORRT_INCLUDE_DIR}/NvInferVersion.h" _defines REGEX "^#define [A-Z_]+ +[0-9]+")
set(_trt_version "")
foreach(_part MAJOR MINOR PATCH)
  if(_defines MATCHES "#define (NV_TENSORRT_${_part}|TRT_${_part}_ENTERPRISE) +([0-9]+)")
    list(APPEND _trt_version "${CMAKE_MATCH_2}")
  endif()
endforeach()
list(JOIN _trt_version "." _trt_version)
if(NOT _trt_version MATCHES "^([0-9]+)\\.[0-9]+\\.[0-9]+$")
  opforge_report(tensorrt SKIPPED
    "could not read the TensorRT version from ${OPFORGE_TENSORRT_INCLUDE_DIR}/NvInferVersion.h")
  return()
endif()
set(_trt_major "${CMAKE_MATCH_1}")
if(_trt_version VERSION_LESS OPFORGE_TENSORRT_MIN_VERSION)
  opforge_report(tensorrt SKIPPED
    "TensorRT ${_trt_version} is too old: opforge needs ${OPFORGE_TENSORRT_MIN_VERSION} or newer"
    VERSION "${_trt_version}")
  return()
endif()

if(NOT TARGET opforge_kernels_cuda)  # made only with a CUDA compiler and CUDA sources
  set(_why "no CUDA compiler found")
  if(OPFORGE_HAVE_CUDA)
    set(_why "no op has a CUDA kernel")
  endif()
  opforge_report(tensorrt SKIPPED "TensorRT plugins need CUDA kernels; ${_why}" VERSION "${_trt_version}")
  return()
endif()

if(_trt_major GREATER_EQUAL 10)
  set(_trt_detail "plugin API IPluginV3; headers ${OPFORGE_TENSORRT_INCLUDE_DIR}")
else()
  set(_trt_detail "plugin API IPluginV2DynamicExt; headers ${OPFORGE_TENSORRT_INCLUDE_DIR}")
endif()

# pip's TensorRT wheels ship libnvinfer.so.<major> without the unversioned link.
find_library(OPFORGE_TENSORRT_NVINFER NAMES nvinfer libnvinfer.so.${_trt_major}
             ${_trt_where} PATH_SUFFIXES lib lib64 lib/${CMAKE_LIBRARY_ARCHITECTURE} DOC "libnvinfer")

opforge_adapter_source(tensorrt/plugin.h _trt_srcs)
list(APPEND _trt_srcs "${OPFORGE_CPP_DIR}/tensorrt/exports.cc")

if(OPFORGE_TENSORRT_NVINFER)
  opforge_framework_library(tensorrt SOURCES ${_trt_srcs} CUDA ON)
  target_link_libraries(opforge_tensorrt PRIVATE "${OPFORGE_TENSORRT_NVINFER}")
  set(_trt_target opforge_tensorrt)
  opforge_report(tensorrt BUILT "TensorRT ${_trt_version} (${OPFORGE_TENSORRT_NVINFER})"
    VERSION "${_trt_version}" DETAIL "${_trt_detail}")
else()
  # Headers only: compile every plugin source (and, through the dependency,
  # every kernel .cu) in the default build; link nothing.
  add_library(opforge_tensorrt_objects OBJECT ${_trt_srcs})
  opforge_target_defaults(opforge_tensorrt_objects)
  opforge_target_cuda(opforge_tensorrt_objects)
  # An OBJECT library links nothing, so (under Ninja) nothing pulls in the
  # kernels it would link: build them in the default build themselves.
  if(TARGET opforge_kernels_cuda)
    set_target_properties(opforge_kernels_cuda PROPERTIES EXCLUDE_FROM_ALL OFF)
  endif()
  set(_trt_target opforge_tensorrt_objects)
  opforge_report(tensorrt SKIPPED
    "TensorRT ${_trt_version} headers only (no libnvinfer): plugin sources and CUDA kernels compile-checked, link skipped"
    VERSION "${_trt_version}" CUDA "${CUDAToolkit_VERSION}" DETAIL "${_trt_detail}")
endif()
target_include_directories(${_trt_target} SYSTEM PRIVATE "${OPFORGE_TENSORRT_INCLUDE_DIR}")
target_compile_options(${_trt_target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
