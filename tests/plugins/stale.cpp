// A plugin built for another untangle: its entry reports API STALE_API and layout STALE_LAYOUT
// (the real ones when 0), as an old build's would, and must never be asked for its ops.
#include <cstdlib>

#include "pipeline/plugin.h"

extern "C" __attribute__((visibility("default"))) void untangle_plugin(untangle::PluginCall* call) {
  call->plugin_api = STALE_API ? STALE_API : UNTANGLE_PLUGIN_API;
  call->plugin_layout = STALE_LAYOUT ? STALE_LAYOUT : untangle::plugin_layout();
  if (call->plugin_api != call->host_api || call->plugin_layout != call->host_layout) return;
  std::abort();  // untangle would have accepted it: the test fails loudly
}
