// Claims the torch namespace: a second library that defines the same
// namespace then fails with torch's own "only a single TORCH_LIBRARY" error
// instead of silently mixing two sets of ops. The ops add their schemas as
// fragments (adapter.h).
#include <torch/library.h>

#include "opforge/config.h"

#define OPFORGE_TORCH_LIBRARY(ns, m) TORCH_LIBRARY(ns, m)  // expands OPFORGE_NS first
OPFORGE_TORCH_LIBRARY(OPFORGE_NS, m) {}
