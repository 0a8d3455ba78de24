#include "nodes/register.h"

#include "nodes/core/ops.h"
#include "nodes/data/ops.h"
#include "nodes/metrics/ops.h"
#include "nodes/nn/ops.h"
#ifdef UNTANGLE_ONNX
#include "nodes/onnx/network.h"
#include "nodes/onnx/ops.h"
#endif
#include "nodes/projection/ops.h"
#include "nodes/report/ops.h"

namespace untangle {

void register_all_ops(Registry& ops) {
#ifdef UNTANGLE_ONNX
  // evaluate and activations run load_onnx's networks (nodes/nn/foreign.h).
  static const bool set = (nn::set_foreign_network(onnx::network()), true);
  (void)set;
#endif
  ops.add(constant_op());
  ops.add(add_op());
  ops.add(aggregate_op());
  ops.add(exec_op());
  ops.add(load_mnist_op());
  ops.add(load_idx_op());
  ops.add(load_csv_op());
  ops.add(subset_op());
  ops.add(concat_op());
  ops.add(describe_op());
  ops.add(load_npy_op());
  ops.add(load_hdf5_op());
  ops.add(train_op());
  ops.add(evaluate_op());
  ops.add(activations_op());
  ops.add(model_summary_op());
  ops.add(pca_op());
  ops.add(tsne_op());
  ops.add(neighborhood_hit_op());
  ops.add(convex_hulls_op());
  ops.add(gaussian_ellipses_op());
  ops.add(plot_projection_op());
  ops.add(table_op());
  ops.add(report_op());
#ifdef UNTANGLE_ONNX
  ops.add(load_onnx_op());
#endif
}

}  // namespace untangle
