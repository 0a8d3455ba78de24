// Matrix products for the layers, row-major, through OpenBLAS. BLAS runs single-threaded:
// TBB owns the cores, and splits batches into fixed chunks so that results do not depend on
// how many threads there are.
#pragma once
#include <cstddef>

namespace untangle::nn {

// C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is m×k and op(B) is k×n.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          const float* b, float beta, float* c);

void use_single_threaded_blas();  // idempotent; called before the first product

}  // namespace untangle::nn
