// Neural-network ops: train a sequential model, evaluate it, read a layer's activations.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema train_op();
OpSchema evaluate_op();
OpSchema activations_op();
OpSchema model_summary_op();

}  // namespace untangle
