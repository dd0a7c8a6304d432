# TorchScript adapter: built against the torch installed in the target
# environment, through torch's own CMake package (find_package(Torch)).
include_guard(GLOBAL)

set(OPFORGE_TORCH_ROOT "" CACHE PATH
    "A torch package folder (include/, lib/, version.py) to build against without importing torch (release builds)")
set(OPFORGE_TORCH_CXX11_ABI "" CACHE STRING
    "_GLIBCXX_USE_CXX11_ABI to build with (0/1); empty: that of the torch found")
set(OPFORGE_TORCH_LIBS_CXX11_ABI "" CACHE STRING
    "With OPFORGE_TORCH_ROOT: the C++ ABI of that folder's libraries (0/1)")

if(OPFORGE_TORCH_ROOT)
  # Release builds: the headers and libraries of a torch package, which
  # need not be importable here (nor match this machine's CUDA).
  file(STRINGS "${OPFORGE_TORCH_ROOT}/version.py" _v REGEX "^__version__")
  string(REGEX REPLACE "^__version__ *= *['\"]([^'\"]+)['\"].*" "\\1" _torch_full "${_v}")
  string(REGEX REPLACE "\\+.*" "" _torch_version "${_torch_full}")
  if(NOT OPFORGE_TORCH_LIBS_CXX11_ABI MATCHES "^[01]$")
    message(FATAL_ERROR "OPFORGE_TORCH_ROOT needs OPFORGE_TORCH_LIBS_CXX11_ABI=0|1 (the ABI of its libraries)")
  endif()
  set(_torch_abi "${OPFORGE_TORCH_LIBS_CXX11_ABI}")
  # CUDA kernels where the package is a CUDA build (it has libc10_cuda) and a
  # toolkit was found: the adapter needs only c10_cuda's stream and guard,
  # whose interface does not depend on the package's own CUDA version.
  set(_torch_cuda "")
  if(OPFORGE_HAVE_CUDA AND EXISTS "${OPFORGE_TORCH_ROOT}/lib/libc10_cuda.so")
    set(_torch_cuda "${CUDAToolkit_VERSION}")
  endif()
  set(_torch_target "")
  set(_torch_inc "${OPFORGE_TORCH_ROOT}/include")
else()
  opforge_python_or_skip(torch _torch [=[
import json, torch, torch.utils
print(json.dumps({"version": torch.__version__.split("+")[0], "full": torch.__version__,
                  "prefix": torch.utils.cmake_prefix_path,
                  "abi": int(torch.compiled_with_cxx11_abi()), "cuda": torch.version.cuda or ""}))
]=])
  foreach(_key version full prefix abi cuda)
    string(JSON _torch_${_key} GET "${_torch}" ${_key})
  endforeach()

  if(_torch_cuda AND NOT OPFORGE_HAVE_CUDA)
    opforge_report(torch SKIPPED
      "torch ${_torch_full} is a CUDA ${_torch_cuda} build; building against it needs a CUDA toolkit (nvcc), none found (set CUDAToolkit_ROOT or CMAKE_CUDA_COMPILER)")
    return()
  endif()

  list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
  if(_torch_cuda)
    # torch's CMake package looks for CUDA with the old FindCUDA, which
    # cannot see through an nvcc wrapper: point it at the toolkit found above.
    get_filename_component(_cuda_root "${CUDAToolkit_BIN_DIR}" DIRECTORY)
    set(CUDA_TOOLKIT_ROOT_DIR "${_cuda_root}" CACHE PATH "CUDA toolkit (for torch's FindCUDA)")
  endif()
  # ...and appends its own -gencode list and definitions to the global CUDA
  # flags; opforge's kernels keep CMAKE_CUDA_ARCHITECTURES instead.
  set(_cuda_flags_before "${CMAKE_CUDA_FLAGS}")
  find_package(Torch CONFIG QUIET)
  set(CMAKE_CUDA_FLAGS "${_cuda_flags_before}")
  if(NOT Torch_FOUND)
    opforge_report(torch SKIPPED "find_package(Torch) failed for torch ${_torch_full} in ${_torch_prefix}")
    return()
  endif()
  set(_torch_target torch)
  set(_torch_inc "${TORCH_INSTALL_PREFIX}/include")
endif()

set(_build_abi "${_torch_abi}")
set(_allow_undefined "")
set(_torch_notes "")
if(OPFORGE_TORCH_CXX11_ABI MATCHES "^[01]$" AND NOT OPFORGE_TORCH_CXX11_ABI STREQUAL _torch_abi)
  # The library must use the ABI of the libtorch it will load with (e.g.
  # NGC's C++11 ABI), not that of the stand-in torch found here.
  set(_build_abi "${OPFORGE_TORCH_CXX11_ABI}")
  set(_allow_undefined ALLOW_UNDEFINED)
  set(_torch_notes "; built with _GLIBCXX_USE_CXX11_ABI=${_build_abi}, unlike these libraries (${_torch_abi})")
endif()

opforge_adapter_source(torch/adapter.h _torch_srcs)
opforge_framework_library(torch SOURCES "${OPFORGE_CPP_DIR}/torch/library.cc" ${_torch_srcs}
                          CUDA "${_torch_cuda}" ${_allow_undefined})
# `torch` (not TORCH_LIBRARIES' python parts): the library must load in
# Triton's libtorch process, which has no libpython.
if(_torch_target)
  # The ABI flag is ours to set (below), not the torch target's.
  get_target_property(_opts torch INTERFACE_COMPILE_OPTIONS)
  if(_opts)
    list(FILTER _opts EXCLUDE REGEX "_GLIBCXX_USE_CXX11_ABI")
    set_target_properties(torch PROPERTIES INTERFACE_COMPILE_OPTIONS "${_opts}")
  endif()
  target_link_libraries(opforge_torch PRIVATE torch)
else()
  target_include_directories(opforge_torch SYSTEM PRIVATE
    "${OPFORGE_TORCH_ROOT}/include" "${OPFORGE_TORCH_ROOT}/include/torch/csrc/api/include")
  target_link_libraries(opforge_torch PRIVATE
    "${OPFORGE_TORCH_ROOT}/lib/libtorch_cpu.so" "${OPFORGE_TORCH_ROOT}/lib/libc10.so")
  if(_torch_cuda)
    target_link_libraries(opforge_torch PRIVATE "${OPFORGE_TORCH_ROOT}/lib/libc10_cuda.so")
  endif()
endif()
target_compile_options(opforge_torch PRIVATE "-D_GLIBCXX_USE_CXX11_ABI=${_build_abi}")

# at::parallel_for (the CPU kernels' threads) runs on torch's threads only when
# compiled with OpenMP, as torch is (ATen/Config.h: AT_PARALLEL_OPENMP); the
# OpenMP runtime stays libtorch's own (see torch/adapter.h). That runtime is
# GCC's libgomp: other compilers' OpenMP calls another runtime's ABI (Clang,
# icpx: __kmpc_*), which a second OpenMP runtime in the process would answer.
# Built by them, the torch op's CPU kernels run on the calling thread.
file(STRINGS "${_torch_inc}/ATen/Config.h" _omp REGEX "^#define AT_PARALLEL_OPENMP 1")
if(_omp AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(opforge_torch PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fopenmp>)
elseif(_omp)
  string(APPEND _torch_notes "; CPU kernels on one thread: torch's OpenMP runtime is GCC's, and "
         "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} compiles OpenMP for another")
endif()
if(_torch_version VERSION_GREATER_EQUAL 2.14)
  target_compile_features(opforge_torch PRIVATE cxx_std_20)
endif()

opforge_report(torch BUILT "torch ${_torch_full}${_torch_notes}"
  VERSION "${_torch_full}" CXX11_ABI "${_build_abi}")
