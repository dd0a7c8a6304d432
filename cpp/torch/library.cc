// Claims the torch namespace: a second library that defines the same
// namespace then fails with torch's own "only a single TORCH_LIBRARY" error
// instead of silently mixing two sets of ops. The ops add their schemas with
// TORCH_LIBRARY_FRAGMENT next to their kernels.
#include "torch_adapter.h"

OPFORGE_TORCH_LIBRARY(OPFORGE_NS, m) {}
