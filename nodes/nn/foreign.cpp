#include "nodes/nn/foreign.h"

#include <memory>

namespace untangle::nn {

namespace {
// Set once, while the ops are registered and before any runs.
std::unique_ptr<ForeignNetwork>& the_network() {
  static std::unique_ptr<ForeignNetwork> n;
  return n;
}
}  // namespace

void set_foreign_network(ForeignNetwork network) { the_network() = std::make_unique<ForeignNetwork>(std::move(network)); }

const ForeignNetwork* foreign_network(const Tensor& model) {
  const auto& n = the_network();
  return n && n->owns(model) ? n.get() : nullptr;
}

}  // namespace untangle::nn
