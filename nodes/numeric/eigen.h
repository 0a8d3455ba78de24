// The eigen-decomposition of a real symmetric matrix, computed the same way on every machine:
// Householder reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson shifts,
// in one fixed sequence of IEEE-754 operations (no BLAS or LAPACK, whose kernels depend on the CPU).
#pragma once
#include <cstddef>
#include <vector>

#include "nodes/numeric/isa.h"

namespace untangle::num {

struct SymmetricEigen {
  std::vector<double> values;   // n, ascending
  std::vector<double> vectors;  // n×n row-major: column j is the unit eigenvector of values[j]
};

// a: n×n row-major, symmetric (only its lower triangle is read). Throws std::runtime_error if a
// holds a NaN or an infinity, or if the iteration does not converge. On the calling thread, with
// the kernels of active_isa().
SymmetricEigen symmetric_eigen(const double* a, std::size_t n);

// The kernels of one instruction set that the CPU runs (the same bits as any other), and at most
// max_sweeps QL sweeps per eigenvalue before giving up (throwing); for tests and benchmarks.
SymmetricEigen symmetric_eigen(Isa isa, const double* a, std::size_t n, int max_sweeps = 30);

}  // namespace untangle::num
