// The matrix-product kernels of gemm.h, written once over a vector type V and compiled once per
// instruction set by gemm_<isa>.cpp. V gives the element type T, the lane count W, and load,
// store, broadcast, fma and zero, load_part / store_part for the first n < W lanes (zeros in the
// others), and transpose of a W × W block.
//
// Goto's blocking: op(B) is packed a block of KC rows × NC columns at a time into panels of
// NR = NV·W columns (a row of a panel contiguous, zero past the matrix's edge; through W × W
// register transposes when B is transposed). op(A) is read in place by broadcast: from A's rows,
// or, when A is transposed, from a contiguous run of A's row p for a tile's rows at step p —
// packed into MR-row panels only when many panels share it (the dense layers' n is small: each
// element of A meets a panel or two, and the copy would not pay). A register tile holds up to
// MR rows × NV vectors of C and takes one panel's rows p in order. Between K blocks the partial
// sums go to C and come back, which keeps every output's chain exact: one fma per p, in order,
// from +0 or from C, whatever the tile, block or vector width.
//
// Tiles of C's edges are compiled for every row count up to MR and vector count up to NV, and
// a partial last vector is loaded and stored through lane masks, so that the edge costs no
// copies. The rows of a block are shared out evenly among its tiles: 50 rows make five tiles of
// 10, not four of 12 and one of 2 whose two chains could not hide the fma's latency.
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
  // XᵀX by slabs of kc rows of X: gram_pack puts columns q·gram_nr .. of a slab into panel q
  // (at packed + q·kc·gram_nr), then gram_panel takes the slab's rows into the part of the
  // panel's columns on and above the diagonal, from +0 or from C, reading both sides from the
  // packed panels.
  std::size_t gram_nr;
  void (*gram_pack)(std::size_t kc, std::size_t d, const double* x, std::size_t ldx, std::size_t q, double* packed);
  void (*gram_panel)(std::size_t kc, std::size_t d, const double* packed, std::size_t q, double* c, bool from_c);
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
  // of its chains, from C (from_c) or from +0. b is the panel, its rows NVT·W apart. Row r of A
  // at step p is a[r·lda + p] (ROW_MAJOR: A's own rows) or a[p·lda + r] (A's columns: Aᵀ in
  // place, or a packed panel with lda = MR).
  template <int ROWS, int NVT, bool ROW_MAJOR>
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
    if constexpr (ROW_MAJOR) {
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
    } else {
      for (std::size_t p = 0; p < kc; ++p, a += lda, b += S) {
        R bv[NVT];
        UNTANGLE_UNROLL for (int v = 0; v < NVT; ++v) bv[v] = V::load(b + v * W);
        UNTANGLE_UNROLL for (int r = 0; r < ROWS; ++r) {
          const R av = V::bcast(a + r);
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
  template <bool ROW_MAJOR, int ROWS = MR, int NVT = NV>
  static void tile_of(int rows, int nv, std::size_t kc, const T* a, std::size_t lda, const T* b, T* c,
                      std::size_t ldc, std::size_t tail, bool from_c) {
    if constexpr (ROWS > 1)
      if (rows < ROWS) return tile_of<ROW_MAJOR, ROWS - 1, NVT>(rows, nv, kc, a, lda, b, c, ldc, tail, from_c);
    if constexpr (NVT > 1)
      if (nv < NVT) return tile_of<ROW_MAJOR, ROWS, NVT - 1>(rows, nv, kc, a, lda, b, c, ldc, tail, from_c);
    tile<ROWS, NVT, ROW_MAJOR>(kc, a, lda, b, c, ldc, tail, from_c);
  }

  // Columns j0 .. j0 + nc of op(B)'s rows p0 .. p0 + kc as panels of NR columns (the last one
  // ceil(cols / W) vectors wide), each panel's rows contiguous, zero past the edge.
  static void pack_b(const GemmShape& s, const T* b, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc,
                     T* out) {
    for (std::size_t jp = 0; jp < nc; jp += NR) {
      const std::size_t cols = gemm_min(NR, nc - jp), nv = gemm_ceil(cols, W), S = nv * W, tail = cols - (nv - 1) * W;
      if (s.tb == Op::none) {
        const T* src = b + p0 * s.ldb + j0 + jp;
        for (std::size_t p = 0; p < kc; ++p, src += s.ldb, out += S) {
          for (std::size_t v = 0; v + 1 < nv; ++v) V::store(out + v * W, V::load(src + v * W));
          const std::size_t v = nv - 1;  // the last vector's lanes past the edge get zeros
          V::store(out + v * W, tail == W ? V::load(src + v * W) : V::load_part(src + v * W, tail));
        }
      } else {  // op(B)[p][j] = b[j·ldb + p]: column j of the panel is a row of b
        const T* src = b + (j0 + jp) * s.ldb + p0;
        std::size_t p = 0;
        for (; p + W <= kc; p += W)  // W × W blocks through the registers
          for (std::size_t v = 0; v < nv; ++v) {
            if (v + 1 < nv || tail == W) {
              V::transpose(src + v * W * s.ldb + p, s.ldb, out + p * S + v * W, S);
              continue;
            }
            for (std::size_t q = p; q < p + W; ++q)
              for (std::size_t j = v * W; j < S; ++j) out[q * S + j] = j < cols ? src[j * s.ldb + q] : T(0);
          }
        for (; p < kc; ++p)
          for (std::size_t j = 0; j < S; ++j) out[p * S + j] = j < cols ? src[j * s.ldb + p] : T(0);
        out += kc * S;
      }
    }
  }

  // Rows i .. i + rows of op(A) = Aᵀ as a panel MR wide: out[p·MR + r].
  static void pack_a(const T* a, std::size_t lda, std::size_t p0, std::size_t kc, std::size_t i, std::size_t rows,
                     T* out) {
    const T* src = a + p0 * lda + i;
    for (std::size_t p = 0; p < kc; ++p, src += lda, out += MR) {
      std::size_t r = 0;
      for (; r + W <= rows; r += W) V::store(out + r, V::load(src + r));
      if (r < rows) V::store_part(out + r, V::load_part(src + r, rows - r), rows - r);
    }
  }

  // Tile t's rows in a block of mc: as many tiles as MR needs, their rows as even as can be.
  static std::size_t tile_rows(std::size_t mc, std::size_t t, std::size_t tiles) {
    return mc / tiles + (t < mc % tiles ? 1 : 0);
  }

  // Aᵀ is packed when many panels share it: then its rows, lda apart in memory, are fetched
  // once per block rather than once per panel, and a tile's K steps no longer cross a page each.
  static bool packs_a(const GemmShape& s) { return s.ta == Op::transpose && s.n > 2 * NR; }

  static std::size_t scratch(const GemmShape& s) {
    const std::size_t kc = gemm_min(KC, s.k), b = kc * gemm_ceil(gemm_min(NC, s.n), NR) * NR;
    return b + (packs_a(s) ? kc * gemm_ceil(gemm_min(MC, s.m), MR) * MR : 0) + 64 / sizeof(T);
  }

  static void gram_pack(std::size_t kc, std::size_t d, const T* x, std::size_t ldx, std::size_t q, T* packed) {
    const GemmShape s{Op::transpose, Op::none, d, d, kc, ldx, ldx, d, false};
    pack_b(s, x, 0, kc, q * NR, gemm_min(NR, d - q * NR), packed + q * kc * NR);
  }

  // A panel's columns hold, at step p, X[p][j] for its NR columns j: a run of rows of Xᵀ, so the
  // tiles read op(A) from the panels too, GR rows (dividing NR, at most MR) at a time.
  static constexpr int GR = [] {
    int g = MR;
    while (NR % g) --g;
    return g;
  }();

  static void gram_panel(std::size_t kc, std::size_t d, const T* packed, std::size_t q, T* c, bool from_c) {
    const std::size_t panels = gemm_ceil(d, NR), j0 = q * NR, cols = gemm_min(NR, d - j0), nv = gemm_ceil(cols, W);
    const std::size_t tail = cols - (nv - 1) * W, last = panels - 1;
    const std::size_t last_stride = gemm_ceil(d - last * NR, W) * W;
    for (std::size_t i = 0; i < j0 + cols; i += GR) {
      const std::size_t qa = i / NR, stride = qa == last ? last_stride : NR;
      const int rows = int(gemm_min(GR, d - i));
      tile_of<false>(rows, int(nv), kc, packed + qa * kc * NR + i % NR, stride, packed + q * kc * NR, c + i * d + j0, d,
                     tail, from_c);
    }
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
    const bool pack = packs_a(s);
    for (std::size_t j0 = 0; j0 < s.n; j0 += NC) {
      const std::size_t nc = gemm_min(NC, s.n - j0);
      for (std::size_t p0 = 0; p0 < s.k; p0 += kstep) {
        const std::size_t kc = gemm_min(kstep, s.k - p0);
        const bool from_c = p0 > 0 || s.accumulate;
        pack_b(s, b, p0, kc, j0, nc, bp);
        for (std::size_t i0 = 0; i0 < s.m; i0 += MC) {
          const std::size_t mc = gemm_min(MC, s.m - i0), tiles = gemm_ceil(mc, MR);
          if (pack)
            for (std::size_t t = 0, i = i0; t < tiles; i += tile_rows(mc, t, tiles), ++t)
              pack_a(a, s.lda, p0, kc, i, tile_rows(mc, t, tiles), ap + t * kc * MR);
          // Tile t: rows i .. i + rows, the panel at jp. Aᵀ in place: at step p a tile's rows are
          // one contiguous run of A's row p.
          const auto one = [&](std::size_t t, std::size_t i, std::size_t jp, const T* panel) {
            const std::size_t cols = gemm_min(NR, nc - jp), nv = gemm_ceil(cols, W), tail = cols - (nv - 1) * W;
            const int rows = int(tile_rows(mc, t, tiles));
            T* ct = c + i * s.ldc + j0 + jp;
            if (s.ta == Op::none)
              tile_of<true>(rows, int(nv), kc, a + i * s.lda + p0, s.lda, panel, ct, s.ldc, tail, from_c);
            else if (pack)
              tile_of<false>(rows, int(nv), kc, ap + t * kc * MR, MR, panel, ct, s.ldc, tail, from_c);
            else
              tile_of<false>(rows, int(nv), kc, a + p0 * s.lda + i, s.lda, panel, ct, s.ldc, tail, from_c);
          };
          const T* panel = bp;
          for (std::size_t jp = 0; jp < nc; jp += NR) {
            for (std::size_t t = 0, i = i0; t < tiles; i += tile_rows(mc, t, tiles), ++t)
              one(t, i, jp, panel);
            panel += kc * gemm_ceil(gemm_min(NR, nc - jp), W) * W;
          }
        }
      }
    }
  }
};

}  // namespace
}  // namespace untangle::num

#undef UNTANGLE_UNROLL
