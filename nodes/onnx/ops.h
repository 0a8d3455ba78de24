// ONNX ops: loading a model trained elsewhere (PyTorch, Keras, …) as its checked bytes and weights.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema load_onnx_op();

}  // namespace untangle
