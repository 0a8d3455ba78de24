// load_onnx's networks for evaluate and activations (nodes/nn/foreign.h): fed x sample by
// sample in chunks, in the input layout the model declares, and their values put back together.
#pragma once
#include "nodes/nn/foreign.h"

namespace untangle::onnx {

// How x meets the model's one input: as it is when its sample shape is the input's (symbolic
// dimensions take any size); else, for images, x in untangle's layout NHWC [n, h, w, c] is
// transposed to NCHW [n, c, h, w], PyTorch's, when that is the input's shape, and the node's log
// says so; anything else is an error naming both shapes.
nn::ForeignNetwork network();

}  // namespace untangle::onnx
