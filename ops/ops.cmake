# The op folders this build holds, listed explicitly (no glob).
include("${CMAKE_CURRENT_LIST_DIR}/clip/op.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/zero_out/op.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/modulo/op.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/rms_norm/op.cmake")
