// The `untangle` command line. It knows commands and formats, not ops: the caller passes the
// registry it was built with.
#pragma once
#include "pipeline/registry.h"

namespace untangle {

// Exit codes: 0 success, 1 a node failed or a runtime error, 2 bad usage or a bad graph.
int cli_main(int argc, char** argv, const Registry& ops);

}  // namespace untangle
