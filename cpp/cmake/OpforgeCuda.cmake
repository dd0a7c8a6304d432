# CUDA is optional: with nvcc the kernels get CUDA twins, without it the
# build is CPU-only and says so.
include_guard(GLOBAL)
include(CheckLanguage)

set(OPFORGE_ADAPTER_CUDA "AUTO" CACHE STRING
    "CUDA kernels in the TensorFlow / ONNX Runtime adapters: AUTO (when the installed framework has GPU support), ON, OFF")
set_property(CACHE OPFORGE_ADAPTER_CUDA PROPERTY STRINGS AUTO ON OFF)

# <var> as AUTO, ON or OFF: AUTO, or one of CMake's true or false constants in
# any case (-DOPFORGE_SELFTEST=1 or =on is ON, not silently OFF); else an error.
function(opforge_auto_on_off var)
  string(TOUPPER "${${var}}" value)
  if(value MATCHES "^(ON|YES|Y|TRUE|1)$")
    set(value ON)
  elseif(value MATCHES "^(OFF|NO|N|FALSE|0|)$")
    set(value OFF)
  elseif(NOT value STREQUAL "AUTO")
    message(FATAL_ERROR "${var}=${${var}}: expected AUTO, ON or OFF")
  endif()
  set(${var} ${value} PARENT_SCOPE)
endfunction()
opforge_auto_on_off(OPFORGE_ADAPTER_CUDA)
opforge_auto_on_off(OPFORGE_SELFTEST)

set(OPFORGE_HAVE_CUDA OFF)
if(OPFORGE_CUDA)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Turing and newer: every architecture CUDA 12 and 13 both compile for.
      set(CMAKE_CUDA_ARCHITECTURES "75;80;86;89;90" CACHE STRING "CUDA architectures")
    endif()
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)  # one cudart, shared with the framework
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    find_package(CUDAToolkit REQUIRED)
    set(OPFORGE_HAVE_CUDA ON)
    message(STATUS "opforge: CUDA ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")
  else()
    message(STATUS "opforge: no CUDA compiler found: CPU-only build")
  endif()
endif()

# opforge_adapter_cuda(<out_var> <framework_has_gpu>): ON when the adapter
# should carry CUDA kernels, per OPFORGE_ADAPTER_CUDA, else OFF (opforge_framework_library
# then links them where some op has one).
function(opforge_adapter_cuda out_var framework_has_gpu)
  set(${out_var} OFF PARENT_SCOPE)
  if(OPFORGE_HAVE_CUDA AND (OPFORGE_ADAPTER_CUDA STREQUAL "ON"
                            OR (OPFORGE_ADAPTER_CUDA STREQUAL "AUTO" AND framework_has_gpu)))
    set(${out_var} ON PARENT_SCOPE)
  endif()
endfunction()
