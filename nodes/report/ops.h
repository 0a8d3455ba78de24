// Figures and other reports for people.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema plot_projection_op();
OpSchema table_op();
OpSchema report_op();

}  // namespace untangle
