#include "pipeline/plugin_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>

#include "pipeline/hash.h"
#include "pipeline/plugin.h"

namespace untangle {

void load_plugin(const std::string& path, Registry& ops) {
  auto fail = [&](const std::string& why) { throw std::runtime_error("plugin " + path + ": " + why); };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail("no such file");
  // dlopen searches the library path for a bare name; a plugin is always the file named.
  const std::string file = std::filesystem::canonical(path).string();
  for (const OpSchema* op : ops.all())
    if (op->origin == file) return;

  // Hashed before loading: the digest must describe the code that runs, and a plugin rebuilt
  // while untangle runs is not picked up by dlopen anyway.
  const std::string digest = file_digest(file);
  void* lib = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) fail(std::string("cannot be loaded: ") + dlerror());
  auto* entry = reinterpret_cast<void (*)(PluginCall*)>(dlsym(lib, "untangle_plugin"));
  if (!entry) fail("is no untangle plugin: it defines no untangle_plugin function (see UNTANGLE_PLUGIN in <untangle/plugin.h>)");

  Registry added;
  PluginCall call{UNTANGLE_PLUGIN_API, plugin_layout(), &added, 0, 0};
  try {
    entry(&call);
  } catch (const std::exception& e) {
    fail(std::string("adding its ops failed: ") + e.what());
  }
  if (call.plugin_api != UNTANGLE_PLUGIN_API)
    fail("was built for plugin API " + std::to_string(call.plugin_api) + ", but this untangle has API " +
         std::to_string(UNTANGLE_PLUGIN_API) + ": rebuild it against this untangle");
  if (call.plugin_layout != plugin_layout())
    fail("was built against untangle headers whose types have another layout (another compiler or "
         "standard library mode): rebuild it against this untangle");
  for (const OpSchema* op : added.all()) {
    if (const OpSchema* had = ops.find(op->name))
      fail("adds op '" + op->name + "', which " +
           (had->origin.empty() ? std::string("untangle already has") : "plugin " + had->origin + " already adds"));
  }
  for (const OpSchema* op : added.all()) {
    OpSchema o = *op;
    o.origin = file;
    o.origin_digest = digest;
    ops.add(std::move(o));
  }
}

}  // namespace untangle
