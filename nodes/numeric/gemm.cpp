// Which kernel set runs, their scratch, and the parallel splits: products over tiles of C, and
// the Gram matrix over the tiles on and above its diagonal.
#include "nodes/numeric/gemm.h"

#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "nodes/numeric/gemm_impl.h"

namespace untangle::num {

extern const GemmKernels kGemmGeneric, kGemmAvx2, kGemmAvx512;

namespace {

const GemmKernels& kernels(Isa isa) {
  if (!runs(isa)) throw std::invalid_argument(std::string("gemm: this CPU does not run the ") + isa_name(isa) + " kernels");
  switch (isa) {
    case Isa::avx512: return kGemmAvx512;
    case Isa::avx2: return kGemmAvx2;
    case Isa::generic: break;
  }
  return kGemmGeneric;
}

void check(const GemmShape& s) {
  const std::size_t a_cols = s.ta == Op::none ? s.k : s.m, b_cols = s.tb == Op::none ? s.n : s.k;
  if (s.m && s.k && s.lda < a_cols) throw std::invalid_argument("gemm: lda " + std::to_string(s.lda) + " < " + std::to_string(a_cols));
  if (s.k && s.n && s.ldb < b_cols) throw std::invalid_argument("gemm: ldb " + std::to_string(s.ldb) + " < " + std::to_string(b_cols));
  if (s.m && s.n && s.ldc < s.n) throw std::invalid_argument("gemm: ldc " + std::to_string(s.ldc) + " < " + std::to_string(s.n));
}

// Packing buffers, one per thread and type: a kernel never waits, so nothing else runs on its
// thread while it uses them.
template <class T>
T* scratch(std::size_t size) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

void run(const GemmKernels& k, const GemmShape& s, const float* a, const float* b, float* c) {
  k.f32(s, a, b, c, scratch<float>(k.f32_scratch(s)));
}
void run(const GemmKernels& k, const GemmShape& s, const double* a, const double* b, double* c) {
  k.f64(s, a, b, c, scratch<double>(k.f64_scratch(s)));
}

// The product restricted to C's rows [i0, i1) and columns [j0, j1): the same chains.
template <class T>
void block(const GemmKernels& k, GemmShape s, const T* a, const T* b, T* c, std::size_t i0, std::size_t i1,
           std::size_t j0, std::size_t j1) {
  a += s.ta == Op::none ? i0 * s.lda : i0;
  b += s.tb == Op::none ? j0 : j0 * s.ldb;
  c += i0 * s.ldc + j0;
  s.m = i1 - i0, s.n = j1 - j0;
  run(k, s, a, b, c);
}

template <class T>
void parallel(const GemmShape& s, const T* a, const T* b, T* c) {
  check(s);
  const GemmKernels& k = kernels(active_isa());
  // Tasks of at least 96 rows × 256 columns of C, big enough to repay packing their part of B;
  // a product smaller than that, or than a few million fmas, stays on the calling thread.
  constexpr std::size_t rows = 96, cols = 256;
  if (s.m * s.n * s.k < 4'000'000 || (s.m <= rows && s.n <= cols)) return run(k, s, a, b, c);
  tbb::parallel_for(tbb::blocked_range2d<std::size_t>(0, s.m, rows, 0, s.n, cols),
                    [&](const tbb::blocked_range2d<std::size_t>& r) {
                      block(k, s, a, b, c, r.rows().begin(), r.rows().end(), r.cols().begin(), r.cols().end());
                    });
}

}  // namespace

void gemm(const GemmShape& s, const float* a, const float* b, float* c) { gemm(active_isa(), s, a, b, c); }
void gemm(const GemmShape& s, const double* a, const double* b, double* c) { gemm(active_isa(), s, a, b, c); }
void parallel_gemm(const GemmShape& s, const float* a, const float* b, float* c) { parallel(s, a, b, c); }
void parallel_gemm(const GemmShape& s, const double* a, const double* b, double* c) { parallel(s, a, b, c); }

void gemm(Isa isa, const GemmShape& s, const float* a, const float* b, float* c) {
  const GemmKernels& k = kernels(isa);
  check(s);
  run(k, s, a, b, c);
}
void gemm(Isa isa, const GemmShape& s, const double* a, const double* b, double* c) {
  const GemmKernels& k = kernels(isa);
  check(s);
  run(k, s, a, b, c);
}

void gram(std::size_t n, std::size_t d, const double* x, std::size_t ldx, double* c) { gram(active_isa(), n, d, x, ldx, c); }

void gram(Isa isa, std::size_t n, std::size_t d, const double* x, std::size_t ldx, double* c) {
  const GemmKernels& k = kernels(isa);
  if (d && n && ldx < d) throw std::invalid_argument("gram: ldx " + std::to_string(ldx) + " < " + std::to_string(d));
  // X (n up to 70,000 rows) is far bigger than the caches, so it goes by slabs of rows, each
  // read from memory once and packed once into panels of columns; then every panel's part on
  // and above the diagonal takes the slab's rows, reading both sides from the packed panels,
  // its chains going on from what the last slab left in C.
  if (d == 0) return;
  const std::size_t nr = k.gram_nr, panels = (d + nr - 1) / nr;
  const std::size_t slabs = std::max<std::size_t>(1, (n + 255) / 256), slab = (n + slabs - 1) / slabs;
  std::vector<double> buffer(std::max<std::size_t>(1, slab) * panels * nr + 8);
  double* packed = buffer.data() + (64 - reinterpret_cast<std::uintptr_t>(buffer.data()) % 64) % 64 / sizeof(double);
  for (std::size_t r0 = 0; r0 < n || r0 == 0; r0 += slab) {  // n = 0 still makes C zero
    const std::size_t kc = std::min(slab, n - r0);
    tbb::parallel_for(std::size_t(0), panels, [&](std::size_t q) { k.gram_pack(kc, d, x + r0 * ldx, ldx, q, packed); });
    // The panels far right hold the most rows: they go first, so that the last task is short.
    tbb::parallel_for(std::size_t(0), panels, [&](std::size_t t) { k.gram_panel(kc, d, packed, panels - 1 - t, c, r0 > 0); });
    if (slab == 0) break;
  }
  // The mirror image below the diagonal, so that C is symmetric bit for bit.
  tbb::parallel_for(std::size_t(0), d, [&](std::size_t i) {
    for (std::size_t j = i + 1; j < d; ++j) c[j * d + i] = c[i * d + j];
  });
}

}  // namespace untangle::num
