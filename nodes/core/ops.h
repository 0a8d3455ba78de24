// Ops that know nothing of any domain: constants, arithmetic, and gathering a sweep.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema constant_op();
OpSchema add_op();
OpSchema aggregate_op();

}  // namespace untangle
