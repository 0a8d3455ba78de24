// Barnes-Hut t-SNE (van der Maaten 2014): affinities only between each point and its
// 3·perplexity nearest neighbours, and the repulsion between far-apart groups of points taken
// at their centre of mass through a quadtree. O(n log n) per iteration instead of O(n²).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace untangle::tsne {

// Symmetric sparse P in compressed rows; the values sum to 1.
struct SparseP {
  std::size_t n = 0;
  std::vector<std::size_t> row_start;  // n + 1 offsets into col and val
  std::vector<std::uint32_t> col;
  std::vector<double> val;
};

// The k nearest neighbours of every row of x (n×d, row-major), itself excluded, nearest first,
// ties broken by index; `sq` receives their squared distances. Exact (brute force on the numeric
// kernels), so the result depends neither on the thread count nor on the CPU.
void nearest_neighbours(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k,
                        std::vector<std::uint32_t>& index, std::vector<double>& sq);

// P from each point's min(n - 1, ⌊3·perplexity + 1⌋) nearest neighbours, each row calibrated to the
// perplexity as in the exact method, then symmetrised: (P + Pᵀ) / 2n.
SparseP sparse_joint_probabilities(const std::vector<double>& x, std::size_t n, std::size_t d, double perplexity);

// The attraction Σ_j p_ij q_ij (y_i − y_j) over P's entries, times `exaggeration`, into out (n×2).
void attraction(const SparseP& p, const std::vector<double>& y, double exaggeration, std::vector<double>& out);

// A gradient with the normalisation it was computed with (Barnes-Hut's or the FFT method's).
struct BhGradient {
  std::vector<double> grad;  // dKL/dy, n×2
  double z = 0;              // the normalisation Σ_{i≠j} (1 + |y_i - y_j|²)⁻¹, as approximated
};

// Barnes-Hut gradients of one P, one after another: its buffers are kept from one call to the
// next, so an optimisation loop allocates nothing.
class BarnesHut {
 public:
  BarnesHut(const SparseP& p, double theta);  // p must outlive this
  ~BarnesHut();
  // The gradient at y with P multiplied by `exaggeration`; valid until the next call.
  const BhGradient& gradient(const std::vector<double>& y, double exaggeration);

 private:
  struct Work;
  const SparseP& p_;
  double theta_;
  std::unique_ptr<Work> work_;
};

// The gradient with P multiplied by `exaggeration`. A cell is summarised for a group of points
// when its side is below theta times its centre of mass's distance from the group's bounding
// box: theta = 0 summarises nothing (exact repulsion); larger is faster and coarser.
BhGradient bh_gradient(const SparseP& p, const std::vector<double>& y, double exaggeration, double theta);

// KL(P || Q) over P's nonzero entries, with Q's normalisation z (from bh_gradient).
double sparse_kl_divergence(const SparseP& p, const std::vector<double>& y, double z);

}  // namespace untangle::tsne
