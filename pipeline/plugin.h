// The one header a plugin of ops includes, installed as <untangle/plugin.h>. A plugin is a
// shared library that adds OpSchemas to untangle's registry; `untangle` loads it for a graph
// that lists it under `plugins:`, or for `--plugin PATH`. Its ops get the same OpContext as
// untangle's own (params, inputs, progress, log) and the same cache: the library file's content
// digest enters the key of each of its ops, so a rebuilt plugin reruns the nodes that use it.
//
//   #include <untangle/plugin.h>
//   static void add_ops(untangle::Registry& ops) { ops.add(my_op()); }
//   UNTANGLE_PLUGIN(add_ops)
//
// examples/plugin is a whole project built this way against an installed untangle.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

#include "pipeline/registry.h"

// Bump whenever a type a plugin shares with untangle changes its meaning or its layout
// (OpSchema, ParamSpec, PortSpec, OpContext, Tensor, Registry): a plugin built for another API
// is refused when it is loaded, with a message, instead of crashing later.
#define UNTANGLE_PLUGIN_API 1

namespace untangle {

// The sizes of the shared types, which differ between builds of one API when the standard
// library is configured differently (_GLIBCXX_DEBUG, another ABI): checked with the API number.
constexpr std::size_t plugin_layout() {
  std::size_t h = 0;
  for (std::size_t s : {sizeof(OpSchema), sizeof(ParamSpec), sizeof(PortSpec), sizeof(OpContext), sizeof(Tensor),
                        sizeof(Registry), sizeof(YAML::Node), sizeof(std::string), sizeof(std::function<void()>)})
    h = h * 131 + s;
  return h;
}

// What untangle and a plugin say to each other. Plain C data whose fields are only ever
// appended to, so that any two versions can read each other's API number.
struct PluginCall {
  int host_api;               // in: untangle's UNTANGLE_PLUGIN_API
  std::size_t host_layout;    // in: untangle's plugin_layout()
  Registry* ops;              // in: where the plugin adds its ops
  int plugin_api;             // out: the API the plugin was built for
  std::size_t plugin_layout;  // out
};

}  // namespace untangle

// Defines the function untangle calls, `untangle_plugin`. It adds the ops only when API and
// layout match the caller's; untangle compares them and reports a mismatch.
#define UNTANGLE_PLUGIN(add_ops)                                                               \
  extern "C" __attribute__((visibility("default"))) void untangle_plugin(untangle::PluginCall* call) { \
    call->plugin_api = UNTANGLE_PLUGIN_API;                                                    \
    call->plugin_layout = untangle::plugin_layout();                                           \
    if (call->host_api == UNTANGLE_PLUGIN_API && call->host_layout == untangle::plugin_layout()) \
      add_ops(*call->ops);                                                                     \
  }
