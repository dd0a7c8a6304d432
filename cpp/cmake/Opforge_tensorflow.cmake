# TensorFlow adapter: compile and link flags come from the installed
# TensorFlow's own tf.sysconfig (ABI flag included) and are applied to this
# target only, since torch may use another C++ ABI.
include_guard(GLOBAL)

opforge_python_or_skip(tensorflow _tf [=[
import json, tensorflow as tf
print(json.dumps({"version": tf.__version__, "cflags": ";".join(tf.sysconfig.get_compile_flags()),
                  "lflags": ";".join(tf.sysconfig.get_link_flags()),
                  "cuda": bool(tf.test.is_built_with_cuda())}))
]=])
foreach(_key version cuda cflags lflags)
  string(JSON _tf_${_key} GET "${_tf}" ${_key})
endforeach()

if(_tf_cuda AND NOT OPFORGE_HAVE_CUDA)
  message(WARNING "opforge: TensorFlow ${_tf_version} is a CUDA build but no CUDA compiler was found: building CPU kernels only")
endif()
opforge_adapter_cuda(_with_cuda "${_tf_cuda}")

opforge_adapter_source(tensorflow/adapter.h _tf_srcs)
opforge_framework_library(tensorflow SOURCES ${_tf_srcs} CUDA ${_with_cuda})
# tensorflow::errors::* is deprecated in newer releases, yet the only
# spelling that also compiles against TF 2.12 (Triton 23.05).
target_compile_options(opforge_tensorflow PRIVATE -Wno-deprecated-declarations)

set(_abi "")
foreach(_flag IN LISTS _tf_cflags)
  if(_flag MATCHES "^-I(.*)")
    target_include_directories(opforge_tensorflow SYSTEM PRIVATE "${CMAKE_MATCH_1}")
  elseif(_flag MATCHES "^-D(.*)")
    target_compile_definitions(opforge_tensorflow PRIVATE "${CMAKE_MATCH_1}")
    if(_flag MATCHES "^-D_GLIBCXX_USE_CXX11_ABI=([01])")
      set(_abi "${CMAKE_MATCH_1}")
    endif()
  elseif(_flag MATCHES "^--?std=c\\+\\+([0-9]+)")
    set_target_properties(opforge_tensorflow PROPERTIES CXX_STANDARD ${CMAKE_MATCH_1} CXX_STANDARD_REQUIRED ON)
  else()
    target_compile_options(opforge_tensorflow PRIVATE "${_flag}")
  endif()
endforeach()

set(_tf_libdir "")
foreach(_flag IN LISTS _tf_lflags)
  if(_flag MATCHES "^-L(.*)")
    set(_tf_libdir "${CMAKE_MATCH_1}")
  elseif(_flag MATCHES "^-l:(.*)")
    target_link_libraries(opforge_tensorflow PRIVATE "${_tf_libdir}/${CMAKE_MATCH_1}")
  elseif(_flag MATCHES "^-l(.*)")
    target_link_libraries(opforge_tensorflow PRIVATE "${CMAKE_MATCH_1}")
  else()
    target_link_options(opforge_tensorflow PRIVATE "${_flag}")
  endif()
endforeach()
if(_tf_libdir)
  target_link_directories(opforge_tensorflow PRIVATE "${_tf_libdir}")
endif()

if(OPFORGE_tensorflow_CUDA)  # set by opforge_framework_library where it linked the CUDA kernels
  target_compile_definitions(opforge_tensorflow PRIVATE GOOGLE_CUDA=1 EIGEN_USE_GPU)
endif()
opforge_report(tensorflow BUILT "tensorflow ${_tf_version}"
  VERSION "${_tf_version}" CXX11_ABI "${_abi}")
