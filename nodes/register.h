// Every op untangle ships, added to a registry in one place.
#pragma once
#include "pipeline/registry.h"

namespace untangle {

void register_all_ops(Registry& ops);

}  // namespace untangle
