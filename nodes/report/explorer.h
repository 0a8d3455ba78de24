// The report's explorer: interactive, linked views of projections of one point set, with each
// point's image, label and predictions, built from the report op's `views`, `images`, `labels`
// and `predictions` inputs.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/schema.h"

namespace untangle::explorer {

// The explorer's section of the page (markup, data, style and script), or "" when the node
// has no views. Records the views and the confusion matrices in `summary`.
std::string section(const OpContext& ctx, nlohmann::json& summary);

// Digest of the embedded script and style: they shape the page, so they enter the report's key.
std::string assets_digest();

}  // namespace untangle::explorer
