# TorchScript adapter: built against the torch installed in the target
# environment, through torch's own CMake package (find_package(Torch)).
include_guard(GLOBAL)

opforge_python(_torch [=[
import json, torch, torch.utils
print(json.dumps({"version": torch.__version__.split("+")[0], "full": torch.__version__,
                  "prefix": torch.utils.cmake_prefix_path,
                  "abi": int(torch.compiled_with_cxx11_abi()), "cuda": torch.version.cuda or ""}))
]=])
if(_torch MATCHES "^ERROR: ")
  string(REGEX REPLACE "^ERROR: " "" _why "${_torch}")
  opforge_report(torch SKIPPED "torch is not importable by ${OPFORGE_PYTHON} (${_why})")
  return()
endif()
string(JSON _torch_version GET "${_torch}" version)
string(JSON _torch_full GET "${_torch}" full)
string(JSON _torch_prefix GET "${_torch}" prefix)
string(JSON _torch_abi GET "${_torch}" abi)
string(JSON _torch_cuda GET "${_torch}" cuda)

if(_torch_cuda AND NOT OPFORGE_HAVE_CUDA)
  opforge_report(torch SKIPPED
    "torch ${_torch_full} is a CUDA ${_torch_cuda} build; building against it needs a CUDA toolkit (nvcc), none found (set CUDAToolkit_ROOT or CMAKE_CUDA_COMPILER)")
  return()
endif()

list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
find_package(Torch CONFIG QUIET)
if(NOT Torch_FOUND)
  opforge_report(torch SKIPPED "find_package(Torch) failed for torch ${_torch_full} in ${_torch_prefix}")
  return()
endif()

opforge_sources(TORCH _torch_srcs)
set(_with_cuda "")
if(_torch_cuda)
  set(_with_cuda CUDA)
endif()
opforge_framework_library(torch SOURCES "${OPFORGE_CPP_DIR}/torch/library.cc" ${_torch_srcs} ${_with_cuda})
# `torch` (not TORCH_LIBRARIES' python parts): the library must load in
# Triton's libtorch process, which has no libpython.
target_link_libraries(opforge_torch PRIVATE torch)
target_include_directories(opforge_torch PRIVATE "${OPFORGE_CPP_DIR}/torch")
if(_torch_version VERSION_GREATER_EQUAL 2.14)
  target_compile_features(opforge_torch PRIVATE cxx_std_20)
endif()

if(_torch_cuda)
  set(_kind "CUDA ${_torch_cuda}")
else()
  set(_kind "CPU-only")
endif()
opforge_report(torch BUILT "torch ${_torch_full} (${_kind})"
  VERSION "${_torch_full}" CXX11_ABI "${_torch_abi}" CUDA "${_torch_cuda}")
