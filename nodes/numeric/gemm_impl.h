// The matrix-product kernels of gemm.h, written once over a vector type V and compiled once per
// instruction set by gemm_<isa>.cpp. V gives the element type T, the lane count W, and load,
// store, broadcast, fma and zero, with load_part / store_part for the first n < W lanes.
//
// Goto's blocking: op(B) is packed a block of KC rows × NC columns at a time into panels of
// NR = NV·W columns (a row of a panel contiguous, zero past the matrix's edge), op(A) is read by
// broadcast, from its rows where it is not transposed and from MR-row panels packed per block
// where it is (so that a tile's broadcasts at one p read one short contiguous run). A register
// tile holds up to MR rows × NV vectors of C and takes one panel's rows p in order. Between K
// blocks the partial sums go to C and come back, which keeps every output's chain exact: one
// fma per p, in order, from +0 or from C, whatever the tile, block or vector width.
//
// Everything here has internal linkage and calls no standard-library template: an inline
// function compiled with -mavx512f in one file could otherwise be the copy the linker keeps for
// every file, and fault on a CPU without AVX-512 (see nodes/nn/kernels_impl.h).
#pragma once
#include <cstddef>

#include "nodes/numeric/gemm.h"

namespace untangle::num {

// One instruction set's kernels: run(shape, a, b, c, scratch) with scratch of at least
// scratch(shape) elements, on the calling thread.
struct GemmKernels {
  Isa isa;
  void (*f32)(const GemmShape&, const float*, const float*, float*, float*);
  std::size_t (*f32_scratch)(const GemmShape&);
  void (*f64)(const GemmShape&, const double*, const double*, double*, double*);
  std::size_t (*f64_scratch)(const GemmShape&);
};

namespace {

// Loops over a register tile's rows and vectors must unroll completely to keep it in registers.
#define UNTANGLE_UNROLL _Pragma("GCC unroll 32")

inline std::size_t gemm_min(std::size_t a, std::size_t b) { return a < b ? a : b; }
inline std::size_t gemm_ceil(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

template <class V, int MR, int NV, std::size_t KC, std::size_t MC, std::size_t NC>
struct GemmT {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr std::size_t W = V::W, NR = NV * W;

  // C's tile of ROWS rows × NVT vectors (the last holding `tail` columns, 1..W) takes kc steps
  // of its chains, from C (from_c) or from +0. Row r of A at step p is a[p·MR + r] in a packed
  // panel, a[r·lda + p] in A's own rows; b is the panel, its rows NVT·W apart.
  template <int ROWS, int NVT, bool PACKED>
  static void tile(std::size_t kc, const T* a, std::size_t lda, const T* b, T* c, std::size_t ldc, std::size_t tail,
                   bool from_c) {
    constexpr std::size_t S = NVT * W;
    R acc[ROWS][NVT];
    UNTANGLE_UNROLL for (int r = 0; r < ROWS; ++r) {
      UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) {
        const T* src = c + r * ldc + v * W;
        acc[r][v] = !from_c ? V::zero() : v + 1 < NVT || tail == W ? V::load(src) : V::load_part(src, tail);
      }
    }
    if constexpr (PACKED) {  // a panel: row r of step p at a[p·MR + r]
      for (std::size_t p = 0; p < kc; ++p, a += MR, b += S) {
        R bv[NVT];
        UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) bv[v] = V::load(b + v * W);
        UNTANGLE_UNROLL for (int r = 0; r < ROWS; ++r) {
          const R av = V::bcast(a + r);
          UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
        }
      }
    } else {  // A's own rows, lda apart
      const T* ar[ROWS];
      UNTANGLE_UNROLL for (int r = 0; r < ROWS; ++r) ar[r] = a + r * lda;
      for (std::size_t p = 0; p < kc; ++p, b += S) {
        R bv[NVT];
        UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) bv[v] = V::load(b + v * W);
        UNTANGLE_UNROLL for (int r = 0; r < ROWS; ++r) {
          const R av = V::bcast(ar[r] + p);
          UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
        }
      }
    }
    UNTANGLE_UNROLL for (int r = 0; r < ROWS; ++r) {
      UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) {
        T* dst = c + r * ldc + v * W;
        if (v + 1 < NVT || tail == W) V::store(dst, acc[r][v]);
        else V::store_part(dst, acc[r][v], tail);
      }
    }
  }

  // The tile for `rows` (1..MR) and `nv` (1..NV) chosen at run time from the compiled ones.
  template <bool PACKED, int ROWS = MR, int NVT = NV>
  static void tile_of(int rows, int nv, std::size_t kc, const T* a, std::size_t lda, const T* b, T* c,
                      std::size_t ldc, std::size_t tail, bool from_c) {
    if constexpr (ROWS > 1)
      if (rows < ROWS) return tile_of<PACKED, ROWS - 1, NVT>(rows, nv, kc, a, lda, b, c, ldc, tail, from_c);
    if constexpr (NVT > 1)
      if (nv < NVT) return tile_of<PACKED, ROWS, NVT - 1>(rows, nv, kc, a, lda, b, c, ldc, tail, from_c);
    tile<ROWS, NVT, PACKED>(kc, a, lda, b, c, ldc, tail, from_c);
  }

  // Columns j0 .. j0 + nc of op(B)'s rows p0 .. p0 + kc as panels of NR columns (the last one
  // ceil(cols / W) vectors wide), each panel's rows contiguous, zero past the edge.
  static void pack_b(const GemmShape& s, const T* b, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc,
                     T* out) {
    for (std::size_t jp = 0; jp < nc; jp += NR) {
      const std::size_t cols = gemm_min(NR, nc - jp), S = gemm_ceil(cols, W) * W;
      if (s.tb == Op::none) {
        const T* src = b + p0 * s.ldb + j0 + jp;
        for (std::size_t p = 0; p < kc; ++p, src += s.ldb, out += S) {
          for (std::size_t j = 0; j < cols; ++j) out[j] = src[j];
          for (std::size_t j = cols; j < S; ++j) out[j] = T(0);
        }
      } else {  // op(B)[p][j] = b[j·ldb + p]: column j of the panel is a row of b
        const T* src = b + (j0 + jp) * s.ldb + p0;
        for (std::size_t j = 0; j < cols; ++j)
          for (std::size_t p = 0; p < kc; ++p) out[p * S + j] = src[j * s.ldb + p];
        for (std::size_t p = 0; p < kc; ++p)
          for (std::size_t j = cols; j < S; ++j) out[p * S + j] = T(0);
        out += kc * S;
      }
    }
  }

  // Rows of op(A) = Aᵀ as tiles of `rows[t]` rows, each packed MR wide: out[p·MR + r].
  static void pack_a(const T* a, std::size_t lda, std::size_t p0, std::size_t kc, std::size_t i0, std::size_t rows,
                     T* out) {
    const T* src = a + p0 * lda + i0;
    for (std::size_t p = 0; p < kc; ++p, src += lda, out += MR)
      for (std::size_t r = 0; r < rows; ++r) out[r] = src[r];
  }

  // Tiles of a block of mc rows: as many as MR needs, their rows as even as can be, so that no
  // tile is left with a row or two (too few independent chains to hide the fma latency).
  static std::size_t tile_rows(std::size_t mc, std::size_t t, std::size_t tiles) {
    return mc / tiles + (t < mc % tiles ? 1 : 0);
  }

  static std::size_t scratch(const GemmShape& s) {
    const std::size_t kc = gemm_min(KC, s.k), nc = gemm_min(NC, s.n), mc = gemm_min(MC, s.m);
    return kc * (gemm_ceil(nc, NR) * NR + (s.ta == Op::none ? 0 : gemm_ceil(mc, MR) * MR)) + 16;
  }

  static void run(const GemmShape& s, const T* a, const T* b, T* c, T* scratch) {
    if (s.m == 0 || s.n == 0) return;
    if (s.k == 0) {  // every chain is empty: it is its start
      if (!s.accumulate)
        for (std::size_t i = 0; i < s.m; ++i)
          for (std::size_t j = 0; j < s.n; ++j) c[i * s.ldc + j] = T(0);
      return;
    }
    // Panels on 64-byte boundaries, so that a vector load never straddles cache lines.
    T* bp = scratch + (64 - reinterpret_cast<std::size_t>(scratch) % 64) % 64 / sizeof(T);
    const std::size_t kblocks = gemm_ceil(s.k, KC), kstep = gemm_ceil(s.k, kblocks);
    T* ap = bp + kstep * gemm_ceil(gemm_min(NC, s.n), NR) * NR;
    for (std::size_t j0 = 0; j0 < s.n; j0 += NC) {
      const std::size_t nc = gemm_min(NC, s.n - j0);
      for (std::size_t p0 = 0; p0 < s.k; p0 += kstep) {
        const std::size_t kc = gemm_min(kstep, s.k - p0);
        const bool from_c = p0 > 0 || s.accumulate;
        pack_b(s, b, p0, kc, j0, nc, bp);
        for (std::size_t i0 = 0; i0 < s.m; i0 += MC) {
          const std::size_t mc = gemm_min(MC, s.m - i0), tiles = gemm_ceil(mc, MR);
          if (s.ta == Op::transpose)
            for (std::size_t t = 0, i = i0; t < tiles; i += tile_rows(mc, t, tiles), ++t)
              pack_a(a, s.lda, p0, kc, i, tile_rows(mc, t, tiles), ap + t * kc * MR);
          const T* panel = bp;
          for (std::size_t jp = 0; jp < nc; jp += NR) {
            const std::size_t cols = gemm_min(NR, nc - jp), nv = gemm_ceil(cols, W), tail = cols - (nv - 1) * W;
            for (std::size_t t = 0, i = i0; t < tiles; i += tile_rows(mc, t, tiles), ++t) {
              const int rows = static_cast<int>(tile_rows(mc, t, tiles));
              T* ct = c + i * s.ldc + j0 + jp;
              if (s.ta == Op::transpose)
                tile_of<true>(rows, static_cast<int>(nv), kc, ap + t * kc * MR, 0, panel, ct, s.ldc, tail, from_c);
              else
                tile_of<false>(rows, static_cast<int>(nv), kc, a + i * s.lda + p0, s.lda, panel, ct, s.ldc, tail,
                               from_c);
            }
            panel += kc * nv * W;
          }
        }
      }
    }
  }
};

}  // namespace
}  // namespace untangle::num

#undef UNTANGLE_UNROLL
