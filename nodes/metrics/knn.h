// Exact k nearest neighbours of low-dimensional points (projections, embeddings) through a
// k-d tree.
#pragma once
#include <cstddef>
#include <vector>

namespace untangle::knn {

// The squared Euclidean distance between two points of d coordinates. Every distance the search
// compares comes from here, so equal distances are equal bit for bit.
double squared_distance(const double* a, const double* b, std::size_t d);

// The k nearest neighbours of each of the n points in x (n×d, row-major, finite), the point
// itself excluded: row i of the result (k entries) lists them nearest first, equal distances in
// increasing index. Exactly what sorting all other points by (squared distance, index) gives, so
// the result does not depend on the tree or the thread count. Needs 1 ≤ k < n; throws when squared
// distances between the points would overflow.
std::vector<std::size_t> neighbours(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k);

}  // namespace untangle::knn
