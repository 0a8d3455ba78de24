// The mathematics of t-SNE, apart from the op: input affinities calibrated to a perplexity,
// the exact gradient and the KL divergence. Matrices are dense and row-major.
#pragma once
#include <cstddef>
#include <vector>

namespace untangle::tsne {

// One point's conditional probabilities p(j|i) (written to out[0..m)) from its squared
// distances to m others: the Gaussian's precision is found by bisection so that the row's
// entropy is log(perplexity), as in van der Maaten's reference code.
void calibrate_row(const double* sq, std::size_t m, double perplexity, double* out);

// Joint probabilities P (n×n, symmetric, summing to 1) from squared distances, each row
// calibrated, then symmetrised: (P + Pᵀ) / 2n.
std::vector<double> joint_probabilities(const std::vector<double>& sq_dist, std::size_t n, double perplexity);

// KL(P || Q) of the embedding y (n×2), Q from the Student-t kernel.
double kl_divergence(const std::vector<double>& p, const std::vector<double>& y, std::size_t n);

// dKL/dy for the embedding y (n×2), with P multiplied by `exaggeration`.
std::vector<double> gradient(const std::vector<double>& p, const std::vector<double>& y, std::size_t n,
                             double exaggeration);

}  // namespace untangle::tsne
