// The transforms of fft.h, written once over a vector type V and compiled once per instruction
// set by fft_<isa>.cpp. V gives the lane count W and load, store, set1, add, sub, mul; and, to
// move data only, transpose (of W vectors in place), deinterleave (2W floats, alternately real
// and imaginary, into a vector of each) and interleave (the reverse).
//
// The lanes of a vector are always different transforms (rows or columns) side by side: a
// batch of W of them is kept in a scratch array whose element e holds W real parts, then W
// imaginary parts, at e·2W. Every lane then goes through the same additions and multiplications
// in the same order (no fused multiply-add anywhere), so every instruction set gives the same
// bits whatever its width. The 1-D transforms are Stockham's self-sorting mixed-radix
// algorithm; an inverse is the forward transform with real and imaginary parts swapped on the
// way in and out (DFT⁻¹(x) = swap(DFT(swap(x))), exactly), which costs nothing in this layout.
//
// Everything here has internal linkage and calls no standard-library template: an inline
// function compiled with -mavx512f in one file could otherwise be the copy the linker keeps for
// every file, and fault on a CPU without AVX-512.
#pragma once
#include <cstddef>

#include "nodes/numeric/isa.h"

namespace untangle::num::fft {

// A plan's tables, owned by fft.cpp; plain views here.
struct Stage {
  std::size_t radix;
  std::size_t ns;   // the length of the transforms this stage combines, radix at a time
  const float* tw;  // (cos, sin) of e^{-2πi·r·k/(ns·radix)} at [(k·(radix-1) + r-1)·2], k < ns, 0 < r < radix
};
struct Line {  // a complex transform of one length
  std::size_t n = 1, stages = 0;
  Stage stage[64];
};
struct Plan2d {
  std::size_t rows, cols;
  Line col;          // length rows
  Line row;          // length cols/2 when cols is even (two reals packed in each complex), else cols
  const float* rot;  // cols even: (cos, sin) of e^{-2πik/cols}, k ≤ cols/4
  float unit[9][8][2];  // (cos, sin) of 2πj/R for R = 3, 5, 7 and 8
};

// One instruction set's transforms; scratch holds RealFft2d::Plan::scratch floats (fft.cpp).
struct Kernels {
  Isa isa;
  std::size_t lanes;
  void (*forward)(const Plan2d& p, const float* in, float* out, float* scratch);
  void (*inverse)(const Plan2d& p, const float* in, float* out, float* scratch);
};

namespace {

#define FFT_UNROLL _Pragma("GCC unroll 16")

inline std::size_t fft_min(std::size_t a, std::size_t b) { return a < b ? a : b; }

// Transposes go through tiles of this many elements, so a tile of the lane array stays in L1.
constexpr std::size_t kTile = 16;

// y_k = Σ_j x_j e^{-2πijk/R} for odd R: the pairs x_j ± x_{R-j} share their cosines and sines.
template <class V, std::size_t R>
void odd_butterfly(typename V::F* xr, typename V::F* xi, const typename V::F* c, const typename V::F* s) {
  using F = typename V::F;
  constexpr std::size_t h = R / 2;
  F pr[h + 1], pi[h + 1], mr[h + 1], mi[h + 1];
  FFT_UNROLL for (std::size_t j = 1; j <= h; ++j) {
    pr[j] = V::add(xr[j], xr[R - j]), pi[j] = V::add(xi[j], xi[R - j]);
    mr[j] = V::sub(xr[j], xr[R - j]), mi[j] = V::sub(xi[j], xi[R - j]);
  }
  F yr[R], yi[R];
  yr[0] = xr[0], yi[0] = xi[0];
  FFT_UNROLL for (std::size_t j = 1; j <= h; ++j) yr[0] = V::add(yr[0], pr[j]), yi[0] = V::add(yi[0], pi[j]);
  FFT_UNROLL for (std::size_t k = 1; k <= h; ++k) {
    F ar = xr[0], ai = xi[0], br = V::mul(s[k], mr[1]), bi = V::mul(s[k], mi[1]);
    FFT_UNROLL for (std::size_t j = 1; j <= h; ++j) {
      const std::size_t t = j * k % R;
      ar = V::add(ar, V::mul(c[t], pr[j])), ai = V::add(ai, V::mul(c[t], pi[j]));
      if (j > 1) br = V::add(br, V::mul(s[t], mr[j])), bi = V::add(bi, V::mul(s[t], mi[j]));
    }
    yr[k] = V::add(ar, bi), yi[k] = V::sub(ai, br);          // A − iB
    yr[R - k] = V::sub(ar, bi), yi[R - k] = V::add(ai, br);  // A + iB
  }
  FFT_UNROLL for (std::size_t j = 0; j < R; ++j) xr[j] = yr[j], xi[j] = yi[j];
}

template <class V, std::size_t R>
void butterfly(typename V::F* xr, typename V::F* xi, const typename V::F* c, const typename V::F* s) {
  using F = typename V::F;
  if constexpr (R == 2) {
    const F r0 = xr[0], i0 = xi[0];
    xr[0] = V::add(r0, xr[1]), xi[0] = V::add(i0, xi[1]);
    xr[1] = V::sub(r0, xr[1]), xi[1] = V::sub(i0, xi[1]);
  } else if constexpr (R == 4) {
    const F t0r = V::add(xr[0], xr[2]), t0i = V::add(xi[0], xi[2]), t1r = V::sub(xr[0], xr[2]), t1i = V::sub(xi[0], xi[2]);
    const F t2r = V::add(xr[1], xr[3]), t2i = V::add(xi[1], xi[3]), t3r = V::sub(xr[1], xr[3]), t3i = V::sub(xi[1], xi[3]);
    xr[0] = V::add(t0r, t2r), xi[0] = V::add(t0i, t2i);
    xr[2] = V::sub(t0r, t2r), xi[2] = V::sub(t0i, t2i);
    xr[1] = V::add(t1r, t3i), xi[1] = V::sub(t1i, t3r);  // t1 − i·t3
    xr[3] = V::sub(t1r, t3i), xi[3] = V::add(t1i, t3r);  // t1 + i·t3
  } else if constexpr (R == 8) {
    // Two transforms of 4 (even and odd inputs) joined by e^{-iπk/4}, k < 4.
    F er[4] = {xr[0], xr[2], xr[4], xr[6]}, ei[4] = {xi[0], xi[2], xi[4], xi[6]};
    F or_[4] = {xr[1], xr[3], xr[5], xr[7]}, oi[4] = {xi[1], xi[3], xi[5], xi[7]};
    butterfly<V, 4>(er, ei, c, s);
    butterfly<V, 4>(or_, oi, c, s);
    const F h = c[1];  // cos π/4
    const F t1r = V::mul(h, V::add(or_[1], oi[1])), t1i = V::mul(h, V::sub(oi[1], or_[1]));  // (1 − i)/√2 · o1
    const F t2r = oi[2], t2i = V::sub(V::set1(0.0f), or_[2]);                               // −i · o2
    const F t3r = V::mul(h, V::sub(oi[3], or_[3])), t3i = V::mul(h, V::sub(V::set1(0.0f), V::add(or_[3], oi[3])));  // (−1 − i)/√2 · o3
    xr[0] = V::add(er[0], or_[0]), xi[0] = V::add(ei[0], oi[0]);
    xr[4] = V::sub(er[0], or_[0]), xi[4] = V::sub(ei[0], oi[0]);
    xr[1] = V::add(er[1], t1r), xi[1] = V::add(ei[1], t1i);
    xr[5] = V::sub(er[1], t1r), xi[5] = V::sub(ei[1], t1i);
    xr[2] = V::add(er[2], t2r), xi[2] = V::add(ei[2], t2i);
    xr[6] = V::sub(er[2], t2r), xi[6] = V::sub(ei[2], t2i);
    xr[3] = V::add(er[3], t3r), xi[3] = V::add(ei[3], t3i);
    xr[7] = V::sub(er[3], t3r), xi[7] = V::sub(ei[3], t3i);
  } else {
    odd_butterfly<V, R>(xr, xi, c, s);
  }
}

// One Stockham stage from a to b: for j = q·ns + k, the radix inputs a[j + r·n/R], multiplied
// by e^{-2πi·r·k/(ns·R)}, go through a butterfly to b[q·ns·R + k + r·ns].
template <class V, std::size_t R>
void stage_t(const Stage& st, const float (*unit)[2], std::size_t n, const float* a, float* b, std::size_t ore,
             std::size_t oim) {
  using F = typename V::F;
  constexpr std::size_t E = 2 * V::W;
  const std::size_t ns = st.ns, m = n / R, groups = m / ns;
  F c[R], s[R];
  FFT_UNROLL for (std::size_t j = 0; j < R; ++j) c[j] = V::set1(unit[j][0]), s[j] = V::set1(unit[j][1]);
  for (std::size_t k = 0; k < ns; ++k) {
    F wr[R], wi[R];
    FFT_UNROLL for (std::size_t r = 1; r < R; ++r) {
      wr[r] = V::set1(st.tw[(k * (R - 1) + r - 1) * 2]);
      wi[r] = V::set1(st.tw[(k * (R - 1) + r - 1) * 2 + 1]);
    }
    for (std::size_t q = 0; q < groups; ++q) {
      const float* src = a + (q * ns + k) * E;
      F xr[R], xi[R];
      FFT_UNROLL for (std::size_t r = 0; r < R; ++r) {
        xr[r] = V::load(src + r * m * E + ore);
        xi[r] = V::load(src + r * m * E + oim);
      }
      if (k != 0) {  // k = 0 multiplies by 1 only
        FFT_UNROLL for (std::size_t r = 1; r < R; ++r) {
          const F tr = V::sub(V::mul(xr[r], wr[r]), V::mul(xi[r], wi[r]));
          xi[r] = V::add(V::mul(xr[r], wi[r]), V::mul(xi[r], wr[r]));
          xr[r] = tr;
        }
      }
      butterfly<V, R>(xr, xi, c, s);
      float* dst = b + (q * ns * R + k) * E;
      FFT_UNROLL for (std::size_t r = 0; r < R; ++r) {
        V::store(dst + r * ns * E + ore, xr[r]);
        V::store(dst + r * ns * E + oim, xi[r]);
      }
    }
  }
}

// The transforms of all lanes of a (n elements); b is the other buffer. Returns the one that
// holds the result.
template <class V>
float* line_t(const Plan2d& p, const Line& line, float* a, float* b, bool inverse) {
  const std::size_t ore = inverse ? V::W : 0, oim = inverse ? 0 : V::W;
  for (std::size_t i = 0; i < line.stages; ++i) {
    const Stage& st = line.stage[i];
    switch (st.radix) {
      case 2: stage_t<V, 2>(st, p.unit[2], line.n, a, b, ore, oim); break;
      case 3: stage_t<V, 3>(st, p.unit[3], line.n, a, b, ore, oim); break;
      case 4: stage_t<V, 4>(st, p.unit[4], line.n, a, b, ore, oim); break;
      case 5: stage_t<V, 5>(st, p.unit[5], line.n, a, b, ore, oim); break;
      case 7: stage_t<V, 7>(st, p.unit[7], line.n, a, b, ore, oim); break;
      case 8: stage_t<V, 8>(st, p.unit[8], line.n, a, b, ore, oim); break;
    }
    float* t = a;
    a = b, b = t;
  }
  return a;
}

// Complex columns [c0, c0 + lanes) of src (rows × ld complex) into lanes, the missing ones zero.
template <class V>
void gather_columns(const float* src, std::size_t ld, std::size_t rows, std::size_t c0, std::size_t nc, float* a) {
  constexpr std::size_t B = V::W, E = 2 * B;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* s = src + (r * ld + c0) * 2;
    float* d = a + r * E;
    if (nc == B) {
      typename V::F re, im;
      V::deinterleave(s, re, im);
      V::store(d, re), V::store(d + B, im);
      continue;
    }
    for (std::size_t l = 0; l < nc; ++l) d[l] = s[2 * l], d[B + l] = s[2 * l + 1];
    for (std::size_t l = nc; l < B; ++l) d[l] = 0.0f, d[B + l] = 0.0f;
  }
}

template <class V>
void scatter_columns(const float* a, std::size_t rows, float* dst, std::size_t ld, std::size_t c0, std::size_t nc) {
  constexpr std::size_t B = V::W, E = 2 * B;
  for (std::size_t r = 0; r < rows; ++r) {
    float* d = dst + (r * ld + c0) * 2;
    const float* s = a + r * E;
    if (nc == B) {
      V::interleave(d, V::load(s), V::load(s + B));
      continue;
    }
    for (std::size_t l = 0; l < nc; ++l) d[2 * l] = s[l], d[2 * l + 1] = s[B + l];
  }
}

// The column transforms of src (rows × cols complex, ld apart) into dst (same layout), lanes
// columns at a time: a block of columns is contiguous in the scratch, so its passes stay in cache.
template <class V>
void columns_t(const Plan2d& p, const float* src, std::size_t lds, float* dst, std::size_t ldd, std::size_t cols,
               bool inverse, float* sa, float* sb) {
  constexpr std::size_t B = V::W;
  for (std::size_t c0 = 0; c0 < cols; c0 += B) {
    const std::size_t nc = fft_min(B, cols - c0);
    gather_columns<V>(src, lds, p.rows, c0, nc, sa);
    const float* res = line_t<V>(p, p.col, sa, sb, inverse);
    scatter_columns<V>(res, p.rows, dst, ldd, c0, nc);
  }
}

// Rows [r0, r0 + nr) of x (ld floats apart), as `count` pairs of floats from each row, into
// lane elements: element e of lane l = (x[r0+l][2e], x[r0+l][2e+1]); missing lanes zero.
template <class V>
void gather_pairs(const float* x, std::size_t ld, std::size_t nr, std::size_t count, float* a) {
  using F = typename V::F;
  constexpr std::size_t B = V::W, E = 2 * B;
  // W/2 elements of W rows at a time: a transpose puts each float of them in its lane.
  const std::size_t whole = count - count % (B / 2);
  const F zero = V::set1(0.0f);
  for (std::size_t e0 = 0; e0 < whole; e0 += B / 2) {
    F v[B];
    FFT_UNROLL for (std::size_t l = 0; l < B; ++l) v[l] = l < nr ? V::load(x + l * ld + 2 * e0) : zero;
    V::transpose(v);
    FFT_UNROLL for (std::size_t i = 0; i < B / 2; ++i) {
      V::store(a + (e0 + i) * E, v[2 * i]);
      V::store(a + (e0 + i) * E + B, v[2 * i + 1]);
    }
  }
  for (std::size_t e0 = whole; e0 < count; e0 += kTile) {
    const std::size_t e1 = fft_min(count, e0 + kTile);
    for (std::size_t l = 0; l < B; ++l) {
      if (l < nr) {
        const float* s = x + l * ld;
        for (std::size_t e = e0; e < e1; ++e) a[e * E + l] = s[2 * e], a[e * E + B + l] = s[2 * e + 1];
      } else {
        for (std::size_t e = e0; e < e1; ++e) a[e * E + l] = 0.0f, a[e * E + B + l] = 0.0f;
      }
    }
  }
}

// The reverse: lane elements [0, count) to pairs of floats in rows r0 + l, l < nr.
template <class V>
void scatter_pairs(const float* a, std::size_t count, float* x, std::size_t ld, std::size_t nr) {
  using F = typename V::F;
  constexpr std::size_t B = V::W, E = 2 * B;
  const std::size_t whole = count - count % (B / 2);
  for (std::size_t e0 = 0; e0 < whole; e0 += B / 2) {
    F v[B];
    FFT_UNROLL for (std::size_t i = 0; i < B / 2; ++i) {
      v[2 * i] = V::load(a + (e0 + i) * E);
      v[2 * i + 1] = V::load(a + (e0 + i) * E + B);
    }
    V::transpose(v);
    for (std::size_t l = 0; l < nr; ++l) V::store(x + l * ld + 2 * e0, v[l]);
  }
  for (std::size_t e0 = whole; e0 < count; e0 += kTile) {
    const std::size_t e1 = fft_min(count, e0 + kTile);
    for (std::size_t l = 0; l < nr; ++l) {
      float* d = x + l * ld;
      for (std::size_t e = e0; e < e1; ++e) d[2 * e] = a[e * E + l], d[2 * e + 1] = a[e * E + B + l];
    }
  }
}

// Even cols: each row's reals packed as z[n] = x[2n] + i·x[2n+1], one transform of cols/2, then
// X[k] = E[k] + e^{-2πik/cols}·O[k] with E, O the spectra of the even and odd reals, read off Z:
// E = (Z[k] + Z̄[N-k])/2, O = (Z[k] − Z̄[N-k])/2i; and X[N-k] = conj(E − e^{-2πik/cols}·O).
template <class V>
void rows_forward_even(const Plan2d& p, const float* in, float* out, float* sa, float* sb) {
  using F = typename V::F;
  constexpr std::size_t B = V::W, E = 2 * B;
  const std::size_t C = p.cols, N = C / 2, H = N + 1;
  const F half = V::set1(0.5f), zero = V::set1(0.0f);
  for (std::size_t r0 = 0; r0 < p.rows; r0 += B) {
    const std::size_t nr = fft_min(B, p.rows - r0);
    gather_pairs<V>(in + r0 * C, C, nr, N, sa);
    const float* z = line_t<V>(p, p.row, sa, sb, false);
    float* x = z == sa ? sb : sa;
    const F z0r = V::load(z), z0i = V::load(z + B);
    V::store(x, V::add(z0r, z0i)), V::store(x + B, zero);
    V::store(x + N * E, V::sub(z0r, z0i)), V::store(x + N * E + B, zero);
    for (std::size_t k = 1; 2 * k <= N; ++k) {
      const F ar = V::load(z + k * E), ai = V::load(z + k * E + B);
      const F br = V::load(z + (N - k) * E), bi = V::load(z + (N - k) * E + B);
      const F er = V::mul(V::add(ar, br), half), ei = V::mul(V::sub(ai, bi), half);
      const F or_ = V::mul(V::add(ai, bi), half), oi = V::mul(V::sub(br, ar), half);
      const F wr = V::set1(p.rot[2 * k]), wi = V::set1(p.rot[2 * k + 1]);
      const F tr = V::sub(V::mul(or_, wr), V::mul(oi, wi)), ti = V::add(V::mul(or_, wi), V::mul(oi, wr));
      V::store(x + (N - k) * E, V::sub(er, tr)), V::store(x + (N - k) * E + B, V::sub(ti, ei));
      V::store(x + k * E, V::add(er, tr)), V::store(x + k * E + B, V::add(ei, ti));
    }
    scatter_pairs<V>(x, H, out + r0 * 2 * H, 2 * H, nr);
  }
}

// The reverse of rows_forward_even, in place on rows of cols floats that hold X[0…N-1] as
// complex numbers; X[N] of each row comes from `last` (rows complex). The imaginary parts of
// X[0] and X[N] are taken as 0, as FFTW's c2r does. With S = X[k] + X̄[N-k] and
// U = e^{2πik/cols}·(X[k] − X̄[N-k]), Z[k] = S + iU and Z[N-k] = S̄ + iŪ are twice the packed
// spectrum, and its inverse is cols times the reals.
template <class V>
void rows_inverse_even(const Plan2d& p, const float* last, float* out, float* sa, float* sb) {
  using F = typename V::F;
  constexpr std::size_t B = V::W, E = 2 * B;
  const std::size_t C = p.cols, N = C / 2;
  for (std::size_t r0 = 0; r0 < p.rows; r0 += B) {
    const std::size_t nr = fft_min(B, p.rows - r0);
    gather_pairs<V>(out + r0 * C, C, nr, N, sa);
    for (std::size_t l = 0; l < B; ++l) sa[N * E + l] = l < nr ? last[(r0 + l) * 2] : 0.0f;
    const F x0r = V::load(sa), xnr = V::load(sa + N * E);
    V::store(sb, V::add(x0r, xnr)), V::store(sb + B, V::sub(x0r, xnr));
    for (std::size_t k = 1; 2 * k <= N; ++k) {
      const F ar = V::load(sa + k * E), ai = V::load(sa + k * E + B);
      const F br = V::load(sa + (N - k) * E), bi = V::load(sa + (N - k) * E + B);
      const F sr = V::add(ar, br), si = V::sub(ai, bi), dr = V::sub(ar, br), di = V::add(ai, bi);
      const F wr = V::set1(p.rot[2 * k]), wi = V::set1(p.rot[2 * k + 1]);
      const F ur = V::add(V::mul(dr, wr), V::mul(di, wi)), ui = V::sub(V::mul(di, wr), V::mul(dr, wi));
      V::store(sb + (N - k) * E, V::add(sr, ui)), V::store(sb + (N - k) * E + B, V::sub(ur, si));
      V::store(sb + k * E, V::sub(sr, ui)), V::store(sb + k * E + B, V::add(si, ur));
    }
    const float* z = line_t<V>(p, p.row, sb, sa, true);
    scatter_pairs<V>(z, N, out + r0 * C, C, nr);
  }
}

// Odd cols: each row as a complex transform of its reals; the first cols/2 + 1 outputs kept.
template <class V>
void rows_forward_odd(const Plan2d& p, const float* in, float* out, float* sa, float* sb) {
  constexpr std::size_t B = V::W, E = 2 * B;
  const std::size_t C = p.cols, H = C / 2 + 1;
  for (std::size_t r0 = 0; r0 < p.rows; r0 += B) {
    const std::size_t nr = fft_min(B, p.rows - r0);
    for (std::size_t l = 0; l < B; ++l)
      for (std::size_t e = 0; e < C; ++e) sa[e * E + l] = l < nr ? in[(r0 + l) * C + e] : 0.0f, sa[e * E + B + l] = 0.0f;
    const float* z = line_t<V>(p, p.row, sa, sb, false);
    scatter_pairs<V>(z, H, out + r0 * 2 * H, 2 * H, nr);
  }
}

// The reverse: each row's spectrum completed by X[cols-k] = X̄[k] (X[0] taken as real), its
// inverse's real parts kept.
template <class V>
void rows_inverse_odd(const Plan2d& p, const float* spec, float* out, float* sa, float* sb) {
  constexpr std::size_t B = V::W, E = 2 * B;
  const std::size_t C = p.cols, H = C / 2 + 1;
  for (std::size_t r0 = 0; r0 < p.rows; r0 += B) {
    const std::size_t nr = fft_min(B, p.rows - r0);
    gather_pairs<V>(spec + r0 * 2 * H, 2 * H, nr, H, sa);
    for (std::size_t l = 0; l < B; ++l) sa[B + l] = 0.0f;
    for (std::size_t k = 1; k < H; ++k)
      for (std::size_t l = 0; l < B; ++l) sa[(C - k) * E + l] = sa[k * E + l], sa[(C - k) * E + B + l] = -sa[k * E + B + l];
    const float* z = line_t<V>(p, p.row, sa, sb, true);
    for (std::size_t l = 0; l < nr; ++l)
      for (std::size_t e = 0; e < C; ++e) out[(r0 + l) * C + e] = z[e * E + l];
  }
}

// Scratch: two lane arrays of the longer line + 1 elements,
// then the spectrum's last column (rows complex), then for odd cols the whole spectrum.
template <class V>
void forward_t(const Plan2d& p, const float* in, float* out, float* scratch) {
  const std::size_t len = (p.col.n > p.row.n ? p.col.n : p.row.n) + 1, H = p.cols / 2 + 1;
  float* sa = scratch;
  float* sb = sa + len * 2 * V::W;
  if (p.cols % 2 == 0)
    rows_forward_even<V>(p, in, out, sa, sb);
  else
    rows_forward_odd<V>(p, in, out, sa, sb);
  columns_t<V>(p, out, H, out, H, H, false, sa, sb);
}

template <class V>
void inverse_t(const Plan2d& p, const float* in, float* out, float* scratch) {
  const std::size_t len = (p.col.n > p.row.n ? p.col.n : p.row.n) + 1, H = p.cols / 2 + 1;
  float* sa = scratch;
  float* sb = sa + len * 2 * V::W;
  float* last = sb + len * 2 * V::W;
  if (p.cols % 2 == 0) {
    // Columns 0…N-1 land in out itself (a row of N complex numbers is a row of cols floats);
    // the last column aside.
    const std::size_t N = p.cols / 2;
    columns_t<V>(p, in, H, out, N, N, true, sa, sb);
    columns_t<V>(p, in + 2 * N, H, last, 1, 1, true, sa, sb);
    rows_inverse_even<V>(p, last, out, sa, sb);
  } else {
    float* spec = last + 2 * p.rows;
    columns_t<V>(p, in, H, spec, H, H, true, sa, sb);
    rows_inverse_odd<V>(p, spec, out, sa, sb);
  }
}

}  // namespace
}  // namespace untangle::num::fft
