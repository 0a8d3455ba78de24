// Loading plugins of ops (see pipeline/plugin.h) into a registry.
#pragma once
#include <string>

#include "pipeline/registry.h"

namespace untangle {

// Loads the shared library at `path` and adds its ops to `ops`, each with the library's
// absolute path and content digest as its origin. Loading one file twice adds nothing more.
// Throws std::runtime_error naming the file and what is wrong: it cannot be loaded, it is no
// plugin, it was built for another untangle, or one of its ops has a name that is taken.
// The library stays loaded for the life of the process: its ops' code lives in it.
void load_plugin(const std::string& path, Registry& ops);

}  // namespace untangle
