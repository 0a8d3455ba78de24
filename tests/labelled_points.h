// Inputs for the metric ops: points of one dtype and integer labels.
#pragma once
#include <algorithm>
#include <vector>

#include "pipeline/schema.h"

namespace untangle::test {

// A context whose "points" port holds values as [values.size() / dims, dims] and "labels" the
// labels (which may deliberately disagree in number).
template <class T>
OpContext labelled_points(const std::vector<T>& values, std::size_t dims, const std::vector<int>& labels) {
  OpContext ctx;
  Tensor p = Tensor::zeros<T>({values.size() / dims, dims});
  std::copy(values.begin(), values.end(), p.data<T>());
  Tensor l = Tensor::zeros<std::int32_t>({labels.size()});
  std::copy(labels.begin(), labels.end(), l.data<std::int32_t>());
  ctx.inputs["points"] = {p};
  ctx.inputs["labels"] = {l};
  return ctx;
}

}  // namespace untangle::test
