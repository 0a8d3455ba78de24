// Matrix products on kernels of the project's own, one set per instruction set (isa.h).
// Row-major. C (m×n, rows ldc apart) gets op(A)·op(B), op(A) m×k and op(B) k×n, either added to
// what C holds (accumulate) or written over it.
//
// Every C[i][j] is one chain: it starts from C[i][j] (accumulate) or +0 and takes
// fma(op(A)[i][p], op(B)[p][j], ·) for p = 0, 1, …, k-1 in that order, each product rounded once
// with the sum. Vectors only hold different outputs side by side, never parts of one sum, so every
// instruction set, tile size, blocking and thread count gives the same bits.
#pragma once
#include <cstddef>

#include "nodes/numeric/isa.h"

namespace untangle::num {

enum class Op { none, transpose };

struct GemmShape {
  Op ta = Op::none, tb = Op::none;
  std::size_t m = 0, n = 0, k = 0;
  std::size_t lda = 0, ldb = 0, ldc = 0;
  bool accumulate = false;
};

// On the calling thread, with the kernels of active_isa().
void gemm(const GemmShape& s, const float* a, const float* b, float* c);
void gemm(const GemmShape& s, const double* a, const double* b, double* c);
// C split into tiles that TBB runs in parallel; the same bits as gemm.
void parallel_gemm(const GemmShape& s, const float* a, const float* b, float* c);
void parallel_gemm(const GemmShape& s, const double* a, const double* b, double* c);
// The kernels of one instruction set that the CPU runs; for tests and benchmarks.
void gemm(Isa isa, const GemmShape& s, const float* a, const float* b, float* c);
void gemm(Isa isa, const GemmShape& s, const double* a, const double* b, double* c);

// C (d×d, row-major) = XᵀX for X n×d (rows ldx apart): each entry the chain over the rows of X in
// order, from +0. Only the tiles on and above the diagonal are computed, in parallel, and mirrored,
// so C is exactly symmetric.
void gram(std::size_t n, std::size_t d, const double* x, std::size_t ldx, double* c);
// With the kernels of one instruction set that the CPU runs; for tests and benchmarks.
void gram(Isa isa, std::size_t n, std::size_t d, const double* x, std::size_t ldx, double* c);

}  // namespace untangle::num
