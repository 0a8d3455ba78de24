// FFT-accelerated interpolation t-SNE (Linderman et al., "Fast interpolation-based t-SNE for
// improved visualization of single-cell RNA-seq data", Nature Methods 2019). The repulsion of
// every point on every other goes through a grid: each point's charges (1 and its coordinates)
// are spread onto the equispaced nodes of its box by Lagrange interpolation, convolved with the
// kernels by FFT, and the potentials are interpolated back at the points. O(n + G log G)
// per iteration for G grid nodes, whose number grows with the embedding's extent, not with n.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "nodes/projection/tsne_bh.h"

namespace untangle::tsne {

struct FftSettings {
  std::size_t nodes = 4;       // interpolation nodes per box along each axis
  double box_width = 1.0;      // the widest box, in embedding units (the kernels' own scale is 1)
  std::size_t min_boxes = 50;  // boxes along the embedding's longer side, at least
};

// The repulsive sums of an embedding, one call after another; buffers, FFT plans and the
// kernels' spectra are kept while the grid stays the same.
class FftRepulsion {
 public:
  explicit FftRepulsion(FftSettings settings = {});
  ~FftRepulsion();
  // force (n×2) receives Σ_{j≠i} q_ij² (y_i − y_j); returns Z = Σ_{i≠j} q_ij, with
  // q_ij = (1 + |y_i − y_j|²)⁻¹.
  double compute(const std::vector<double>& y, std::vector<double>& force);

 private:
  struct Work;
  FftSettings settings_;
  std::unique_ptr<Work> work_;
};

// The t-SNE gradient with the attraction over P's entries and the repulsion by FFT.
class FftGradient {
 public:
  FftGradient(const SparseP& p, FftSettings settings = {});  // p must outlive this
  // The gradient at y with P multiplied by `exaggeration`; valid until the next call.
  const BhGradient& gradient(const std::vector<double>& y, double exaggeration);

 private:
  const SparseP& p_;
  FftRepulsion repulsion_;
  std::vector<double> force_;
  BhGradient out_;
};

}  // namespace untangle::tsne
