# The op folders of this ops folder, listed explicitly.
include("${CMAKE_CURRENT_LIST_DIR}/scale/op.cmake")
