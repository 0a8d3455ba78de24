// Ops that know nothing of any domain: constants, arithmetic, gathering a sweep, and running
// a program.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema constant_op();
OpSchema add_op();
OpSchema aggregate_op();
OpSchema exec_op();  // runs a program in any language

}  // namespace untangle
