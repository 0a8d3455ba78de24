// The symmetric eigensolver of eigen.h in three stages:
//  1. Householder reflections from both sides reduce A (scaled by a power of two, which is exact)
//     to a tridiagonal T = Qᵀ A Q, and Q is formed from them;
//  2. the implicit QL algorithm with Wilkinson shifts diagonalises T by plane rotations, which are
//     recorded rather than applied at once;
//  3. the rotations are applied to Q's rows in panels of 16 to 64 rows held transposed, so that a
//     rotation of two columns of Q is a rotation of two short contiguous rows of the panel.
// About 2.1 times LAPACK's dsyevd (OpenBLAS, one thread) for n = 784 with AVX-512, 2.5 times with
// AVX2, 4.7 times with the generic kernels.
// Every number is one fixed chain of IEEE-754 additions, subtractions, multiplications,
// divisions and square roots, with no fused multiply-add: vectors only hold independent outputs
// side by side (a row's columns, a panel's rows), so each instruction set gives the same bits.
#include "nodes/numeric/eigen.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace untangle::num {
namespace {

// ---- Kernels -------------------------------------------------------------------------------
// Written once over a vector type V of W doubles as always-inline bodies and compiled for each
// instruction set, with V its register width, through target attributes; they call nothing, so
// no code built for a wider set can be shared with the generic one. The tail after the last
// whole vector repeats the lanes' operations one at a time. (A scalar operand of a vector
// operation stands for that scalar in every lane.)

#define EIGEN_BODY static inline __attribute__((always_inline))

constexpr std::size_t kReflections = 8;  // reflections that Q's formation applies in one pass

// y += a·x
template <class V, std::size_t W>
EIGEN_BODY void axpy_body(double* y, const double* x, double a, std::size_t m) {
  std::size_t c = 0;
  for (; c + W <= m; c += W) {
    V vx, vy;
    __builtin_memcpy(&vx, x + c, sizeof vx);
    __builtin_memcpy(&vy, y + c, sizeof vy);
    vy = vy + a * vx;
    __builtin_memcpy(y + c, &vy, sizeof vy);
  }
  for (; c < m; ++c) y[c] = y[c] + a * x[c];
}

// A row of the trailing block after a reflection from both sides: a -= (vj·w + wj·v).
template <class V, std::size_t W>
EIGEN_BODY void update_body(double* a, const double* v, const double* w, double vj, double wj, std::size_t m) {
  std::size_t c = 0;
  for (; c + W <= m; c += W) {
    V va, vv, vw;
    __builtin_memcpy(&va, a + c, sizeof va);
    __builtin_memcpy(&vv, v + c, sizeof vv);
    __builtin_memcpy(&vw, w + c, sizeof vw);
    va = va - (vj * vw + wj * vv);
    __builtin_memcpy(a + c, &va, sizeof va);
  }
  for (; c < m; ++c) a[c] = a[c] - (vj * w[c] + wj * v[c]);
}

// The same update, then p += u·a with the updated row: the next reflection's product A·v taken
// while the row is in cache, so each step reads the trailing block once.
template <class V, std::size_t W>
EIGEN_BODY void update_accumulate_body(double* a, const double* v, const double* w, double vj, double wj, double* p,
                                       double u, std::size_t m) {
  std::size_t c = 0;
  for (; c + W <= m; c += W) {
    V va, vv, vw, vp;
    __builtin_memcpy(&va, a + c, sizeof va);
    __builtin_memcpy(&vv, v + c, sizeof vv);
    __builtin_memcpy(&vw, w + c, sizeof vw);
    __builtin_memcpy(&vp, p + c, sizeof vp);
    va = va - (vj * vw + wj * vv);
    vp = vp + u * va;
    __builtin_memcpy(a + c, &va, sizeof va);
    __builtin_memcpy(p + c, &vp, sizeof vp);
  }
  for (; c < m; ++c) {
    a[c] = a[c] - (vj * w[c] + wj * v[c]);
    p[c] = p[c] + u * a[c];
  }
}

// y_j += c_j·x for j < nb (rows y_j ld apart): several reflections' products vᵀX in one pass
// over X's row x.
template <class V, std::size_t W>
EIGEN_BODY void gather_body(double* y, std::size_t ld, const double* x, const double* coef, std::size_t nb,
                            std::size_t m) {
  double k[kReflections];
  for (std::size_t j = 0; j < nb; ++j) k[j] = coef[j];
  std::size_t c = 0;
  for (; c + W <= m; c += W) {
    V vx;
    __builtin_memcpy(&vx, x + c, sizeof vx);
    for (std::size_t j = 0; j < nb; ++j) {
      V vy;
      __builtin_memcpy(&vy, y + j * ld + c, sizeof vy);
      vy = vy + k[j] * vx;
      __builtin_memcpy(y + j * ld + c, &vy, sizeof vy);
    }
  }
  for (; c < m; ++c)
    for (std::size_t j = 0; j < nb; ++j) y[j * ld + c] = y[j * ld + c] + k[j] * x[c];
}

// x -= c_j·w_j for j = nb-1 down to 0: several reflections subtracted from X's row x in one pass.
template <class V, std::size_t W>
EIGEN_BODY void scatter_body(double* x, const double* w, std::size_t ld, const double* coef, std::size_t nb,
                             std::size_t m) {
  double k[kReflections];
  for (std::size_t j = 0; j < nb; ++j) k[j] = coef[j];
  std::size_t c = 0;
  for (; c + W <= m; c += W) {
    V vx;
    __builtin_memcpy(&vx, x + c, sizeof vx);
    for (std::size_t j = nb; j-- > 0;) {
      V vw;
      __builtin_memcpy(&vw, w + j * ld + c, sizeof vw);
      vx = vx - k[j] * vw;
    }
    __builtin_memcpy(x + c, &vx, sizeof vx);
  }
  for (; c < m; ++c)
    for (std::size_t j = nb; j-- > 0;) x[c] = x[c] - k[j] * w[j * ld + c];
}

// One QL sweep's rotations, in the order they were made: rotation t mixes columns i and i+1 of Q
// for i = top - t.
struct Rotation {
  double c, s;
};
struct Sweep {
  std::size_t top, count, first;  // first: index of its first rotation
};

// A panel holds P rows of Q transposed: panel row i is column i of those rows. Within a sweep
// the row a rotation leaves in its lower slot is the next rotation's upper one, so it stays in
// registers; P/W independent vectors hide the latency of that chain.
template <class V, std::size_t W, std::size_t P>
EIGEN_BODY void rotate_body(double* panel, const Sweep* sweeps, std::size_t n_sweeps, const Rotation* rotations) {
  constexpr std::size_t NV = P / W;
  for (std::size_t k = 0; k < n_sweeps; ++k) {
    const Sweep& sw = sweeps[k];
    if (sw.count == 0) continue;
    const Rotation* r = rotations + sw.first;
    double* row = panel + sw.top * P;  // the lower slot's row i; the upper one is i+1
    V y[NV];
#pragma GCC unroll 16
    for (std::size_t q = 0; q < NV; ++q) __builtin_memcpy(&y[q], row + P + q * W, sizeof(V));
    for (std::size_t t = 0; t < sw.count; ++t, row -= P) {
      const double c = r[t].c, s = r[t].s;
#pragma GCC unroll 16
      for (std::size_t q = 0; q < NV; ++q) {
        V x;
        __builtin_memcpy(&x, row + q * W, sizeof x);
        const V hi = s * x + c * y[q];
        y[q] = c * x - s * y[q];
        __builtin_memcpy(row + P + q * W, &hi, sizeof hi);
      }
    }
#pragma GCC unroll 16
    for (std::size_t q = 0; q < NV; ++q) __builtin_memcpy(row + P + q * W, &y[q], sizeof(V));
  }
}

typedef double V2 __attribute__((vector_size(16)));
typedef double V4 __attribute__((vector_size(32)));
typedef double V8 __attribute__((vector_size(64)));

struct Kernels {
  void (*axpy)(double*, const double*, double, std::size_t);
  void (*update)(double*, const double*, const double*, double, double, std::size_t);
  void (*update_accumulate)(double*, const double*, const double*, double, double, double*, double, std::size_t);
  void (*gather)(double*, std::size_t, const double*, const double*, std::size_t, std::size_t);
  void (*scatter)(double*, const double*, std::size_t, const double*, std::size_t, std::size_t);
  void (*rotate)(double*, const Sweep*, std::size_t, const Rotation*);
  std::size_t panel;  // rows of Q per panel of rotate
};

#define EIGEN_KERNEL_SET(name, target, V, P)                                                                        \
  target void axpy_##name(double* y, const double* x, double a, std::size_t m) {                                     \
    axpy_body<V, sizeof(V) / sizeof(double)>(y, x, a, m);                                                            \
  }                                                                                                                  \
  target void update_##name(double* a, const double* v, const double* w, double vj, double wj, std::size_t m) {      \
    update_body<V, sizeof(V) / sizeof(double)>(a, v, w, vj, wj, m);                                                  \
  }                                                                                                                  \
  target void update_accumulate_##name(double* a, const double* v, const double* w, double vj, double wj, double* p,  \
                                       double u, std::size_t m) {                                                    \
    update_accumulate_body<V, sizeof(V) / sizeof(double)>(a, v, w, vj, wj, p, u, m);                                 \
  }                                                                                                                  \
  target void gather_##name(double* y, std::size_t ld, const double* x, const double* c, std::size_t nb,            \
                            std::size_t m) {                                                                       \
    gather_body<V, sizeof(V) / sizeof(double)>(y, ld, x, c, nb, m);                                                  \
  }                                                                                                                  \
  target void scatter_##name(double* x, const double* w, std::size_t ld, const double* c, std::size_t nb,           \
                             std::size_t m) {                                                                      \
    scatter_body<V, sizeof(V) / sizeof(double)>(x, w, ld, c, nb, m);                                                 \
  }                                                                                                                  \
  target void rotate_##name(double* panel, const Sweep* sweeps, std::size_t n, const Rotation* r) {                  \
    rotate_body<V, sizeof(V) / sizeof(double), P>(panel, sweeps, n, r);                                              \
  }                                                                                                                  \
  const Kernels k_##name = {axpy_##name, update_##name, update_accumulate_##name, gather_##name, scatter_##name,   \
                             rotate_##name, P};

// Panels of 8 vectors: of the 16 (32 for AVX-512) registers, they leave room for the rest.
EIGEN_KERNEL_SET(generic, , V2, 16)
EIGEN_KERNEL_SET(avx2, __attribute__((target("avx2"))), V4, 32)
EIGEN_KERNEL_SET(avx512, __attribute__((target("avx512f"))), V8, 64)

const Kernels& kernels(Isa isa) {
  if (!runs(isa)) throw std::invalid_argument(std::string("symmetric_eigen: this CPU does not run the ") + isa_name(isa) + " kernels");
  switch (isa) {
    case Isa::avx512: return k_avx512;
    case Isa::avx2: return k_avx2;
    case Isa::generic: break;
  }
  return k_generic;
}

// ---- Scalars -------------------------------------------------------------------------------

// √(a² + b²) without overflow or harmful underflow: directly where the squares are safe, else
// from the ratio of the smaller to the larger.
double hypot2(double a, double b) {
  a = std::abs(a), b = std::abs(b);
  const double big = a > b ? a : b, small = a > b ? b : a;
  if (big == 0) return 0;
  if (big < 0x1p500 && big > 0x1p-500) return std::sqrt(a * a + b * b);
  const double r = small / big;
  return big * std::sqrt(1 + r * r);
}

// ‖x‖₂ of a vector whose entries are at most n·2^400 (the matrix is scaled): a plain sum of squares
// unless every entry is so small that the squares would underflow, then the same sum of the
// entries scaled by a power of two (exactly).
double norm2(const double* x, std::size_t m) {
  double big = 0;
  for (std::size_t i = 0; i < m; ++i) big = std::max(big, std::abs(x[i]));
  if (big == 0) return 0;
  double sum = 0;
  if (big > 0x1p-480) {
    for (std::size_t i = 0; i < m; ++i) sum = sum + x[i] * x[i];
    return std::sqrt(sum);
  }
  int e;
  std::frexp(big, &e);
  for (std::size_t i = 0; i < m; ++i) {
    const double y = std::ldexp(x[i], -e);
    sum = sum + y * y;
  }
  return std::ldexp(std::sqrt(sum), e);
}

// ---- Stage 1: Householder tridiagonalisation -------------------------------------------------

// The reflection H = I - τ·v·vᵀ with H·x = β·e₁, from x = row k right of its diagonal (m entries).
// v overwrites x (v₀ = 1), so row k afterwards holds the reflection; returns τ (0: H = I, no
// reflection needed) and sets beta.
double reflect(double* x, std::size_t m, double& beta) {
  const double alpha = x[0], sigma = norm2(x + 1, m - 1);
  if (sigma == 0) {
    beta = alpha;
    return 0;
  }
  const double r = hypot2(alpha, sigma);
  beta = alpha >= 0 ? -r : r;  // the sign that avoids cancellation in alpha - beta
  const double tau = (beta - alpha) / beta, den = alpha - beta;
  x[0] = 1;
  for (std::size_t i = 1; i < m; ++i) x[i] = x[i] / den;
  return tau;
}

// a: the full symmetric n×n matrix (n ≥ 3), overwritten: row k right of the diagonal holds the
// k-th reflection's v for k ≤ n-3. d, e: T's diagonal and off-diagonal (e[n-1] = 0).
void tridiagonalise(const Kernels& kr, std::vector<double>& a, std::size_t n, std::vector<double>& tau,
                    std::vector<double>& d, std::vector<double>& e) {
  auto row = [&](std::size_t i) { return a.data() + i * n; };
  std::vector<double> p(n), w(n);
  // Step k turns the trailing block B = rows and columns k+1…n-1 into H·B·H with
  // p = τ·B·v, w = p - (τ/2)(pᵀv)·v and H·B·H = B - v·wᵀ - w·vᵀ. p for step 0 takes a pass of its
  // own; every later one is summed while the previous step updates the block.
  tau.assign(n, 0);
  tau[0] = reflect(row(0) + 1, n - 1, e[0]);
  if (tau[0] != 0) {
    std::fill(p.begin(), p.end(), 0.0);
    const double* v = row(0) + 1;
    for (std::size_t j = 1; j < n; ++j) kr.axpy(p.data(), row(j) + 1, v[j - 1], n - 1);
    for (std::size_t t = 0; t + 1 < n; ++t) p[t] = tau[0] * p[t];
  }
  for (std::size_t k = 0; k + 2 < n; ++k) {
    d[k] = row(k)[k];
    const std::size_t m = n - k - 1;  // the block's size
    const double* v = row(k) + k + 1;
    const bool update = tau[k] != 0;
    if (update) {
      double pv = 0;
      for (std::size_t t = 0; t < m; ++t) pv = pv + p[t] * v[t];
      const double half = 0.5 * tau[k] * pv;
      for (std::size_t t = 0; t < m; ++t) w[t] = p[t] - half * v[t];
      kr.update(row(k + 1) + k + 1, v, w.data(), v[0], w[0], m);
    }
    // Row k+1 is final: its reflection, then the rest of the block updated (columns past k+1
    // only: column k+1 of later rows is row k+1's mirror and is not read again) and the next
    // product summed over the updated rows in order.
    const bool next = k + 3 < n;
    if (next) tau[k + 1] = reflect(row(k + 1) + k + 2, m - 1, e[k + 1]);
    const bool sum = next && tau[k + 1] != 0;
    const double* u = row(k + 1) + k + 2;
    if (sum) std::fill(p.begin(), p.begin() + (m - 1), 0.0);
    for (std::size_t j = k + 2; j < n; ++j) {
      double* aj = row(j) + k + 2;
      const std::size_t t = j - k - 1;
      if (update && sum)
        kr.update_accumulate(aj, v + 1, w.data() + 1, v[t], w[t], p.data(), u[t - 1], m - 1);
      else if (update)
        kr.update(aj, v + 1, w.data() + 1, v[t], w[t], m - 1);
      else if (sum)
        kr.axpy(p.data(), aj, u[t - 1], m - 1);
    }
    if (sum)
      for (std::size_t t = 0; t + 1 < m; ++t) p[t] = tau[k + 1] * p[t];
  }
  d[n - 2] = row(n - 2)[n - 2];
  e[n - 2] = row(n - 2)[n - 1];
  d[n - 1] = row(n - 1)[n - 1];
  e[n - 1] = 0;
}

// Q = H₀·H₁·…·H_{n-3} into q (n×n), built from the last reflection back: H_k then meets a matrix
// that is the identity outside rows and columns k+1…, so it changes only that block X. Up to
// kReflections of them, k ∈ [lo, hi), go together on X = rows and columns lo+1…: applied one by
// one, last first, each would be X -= v_k·w_kᵀ with w_k = τ_k·(vᵀX as it then stands)
//   = τ_k·(Y_k - Σ_{i>k} (v_k·v_i)·w_i),  Y = VᵀX for X as it stands before them all,
// so one pass over X forms Y and one subtracts them all, instead of two passes per reflection.
void form_q(const Kernels& kr, const std::vector<double>& a, std::size_t n, const std::vector<double>& tau,
            std::vector<double>& q) {
  q.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) q[i * n + i] = 1;
  std::vector<double> v(kReflections * n), y(kReflections * n), w(kReflections * n);
  std::vector<std::size_t> ks;
  double coef[kReflections];
  for (std::size_t hi = n - 2; hi > 0;) {
    const std::size_t lo = hi > kReflections ? hi - kReflections : 0;
    ks.clear();
    for (std::size_t k = lo; k < hi; ++k)
      if (tau[k] != 0) ks.push_back(k);
    hi = lo;
    if (ks.empty()) continue;
    const std::size_t base = lo + 1, m = n - base, nb = ks.size();
    // v_j over X's rows: zero above row k+1, then the reflection's vector (v₀ = 1)
    std::fill(v.begin(), v.begin() + nb * m, 0.0);
    for (std::size_t j = 0; j < nb; ++j)
      for (std::size_t t = ks[j] + 1 - base; t < m; ++t) v[j * m + t] = a[ks[j] * n + base + t];
    const std::size_t first = ks[0] + 1 - base;  // rows above it meet no reflection
    std::fill(y.begin(), y.begin() + nb * m, 0.0);
    for (std::size_t t = first; t < m; ++t) {
      for (std::size_t j = 0; j < nb; ++j) coef[j] = v[j * m + t];
      kr.gather(y.data(), m, q.data() + (base + t) * n + base, coef, nb, m);
    }
    for (std::size_t j = nb; j-- > 0;) {
      double* wj = w.data() + j * m;
      std::copy(y.begin() + j * m, y.begin() + (j + 1) * m, wj);
      for (std::size_t i = j + 1; i < nb; ++i) {
        double dot = 0;
        for (std::size_t t = 0; t < m; ++t) dot = dot + v[j * m + t] * v[i * m + t];
        kr.axpy(wj, w.data() + i * m, -dot, m);
      }
      for (std::size_t t = 0; t < m; ++t) wj[t] = tau[ks[j]] * wj[t];
    }
    for (std::size_t t = first; t < m; ++t) {
      for (std::size_t j = 0; j < nb; ++j) coef[j] = v[j * m + t];
      kr.scatter(q.data() + (base + t) * n + base, w.data(), m, coef, nb, m);
    }
  }
}

// ---- Stages 2 and 3: QL on T, rotations into the panels --------------------------------------

// Q's rows as panels of P = kr.panel rows: panel b, row i, lane l holds Q[b·P + l][i] (zero past
// the last row). Rotations are buffered and applied a batch at a time, panel by panel: a panel
// and a batch both stay in cache while every rotation of the batch passes over the panel. Each
// row of Q gets every rotation in the order made, whatever P and the batches.
class Panels {
 public:
  Panels(const Kernels& kr, const std::vector<double>& q, std::size_t n)
      : kr_(kr), n_(n), p_(kr.panel), count_((n + p_ - 1) / p_), data_(count_ * n * p_, 0.0) {
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t i = 0; i < n; ++i) data_[index(r, i)] = q[r * n + i];
  }
  void begin_sweep(std::size_t top) { sweeps_.push_back({top, 0, rotations_.size()}); }
  void rotate(double c, double s) {
    rotations_.push_back({c, s});
    ++sweeps_.back().count;
  }
  void end_sweep() {
    if (rotations_.size() >= kBatch) flush();
  }
  void flush() {
    if (!sweeps_.empty())
      for (std::size_t b = 0; b < count_; ++b) kr_.rotate(data_.data() + b * n_ * p_, sweeps_.data(), sweeps_.size(), rotations_.data());
    sweeps_.clear();
    rotations_.clear();
  }
  double at(std::size_t r, std::size_t i) const { return data_[index(r, i)]; }

 private:
  static constexpr std::size_t kBatch = 1 << 15;  // 512 KiB of rotations
  std::size_t index(std::size_t r, std::size_t i) const { return ((r / p_) * n_ + i) * p_ + r % p_; }
  const Kernels& kr_;
  std::size_t n_, p_, count_;
  std::vector<double> data_;
  std::vector<Sweep> sweeps_;
  std::vector<Rotation> rotations_;
};

// Diagonalises T (d, e; e[n-1] = 0) in place: d becomes the eigenvalues, unsorted, and every
// rotation goes to the panels. For each l in turn, sweeps over the unreduced block l…m until
// e[l] is negligible.
void ql(std::vector<double>& d, std::vector<double>& e, std::size_t n, int max_sweeps, Panels& panels) {
  constexpr double eps = 0x1p-53;
  double norm = 0;  // ‖T‖₁
  for (std::size_t i = 0; i < n; ++i) norm = std::max(norm, std::abs(e[i]) + std::abs(d[i]) + (i ? std::abs(e[i - 1]) : 0.0));
  const double floor = eps * norm;
  for (std::size_t l = 0; l < n; ++l) {
    for (int sweeps = 0;; ++sweeps) {
      // e[m] is negligible beside its neighbours on the diagonal, or beside ‖T‖: rounding leaves
      // off-diagonal noise of about ε‖T‖ next to eigenvalues near zero (a rank-deficient
      // covariance), which no sweep removes, and setting it to zero moves no eigenvalue by more
      // than the reduction to T already did.
      std::size_t m = l;
      for (; m + 1 < n; ++m) {
        const double off = std::abs(e[m]);
        if (off <= eps * (std::abs(d[m]) + std::abs(d[m + 1])) || off <= floor) break;
      }
      if (m == l) break;
      if (sweeps == max_sweeps)
        throw std::runtime_error("symmetric_eigen: the QL iteration did not converge (eigenvalue " + std::to_string(l) +
                                 " of " + std::to_string(n) + " after " + std::to_string(max_sweeps) + " sweeps)");
      // Wilkinson's shift: the eigenvalue of T's leading 2×2 block l, l+1 nearer d[l].
      double g = (d[l + 1] - d[l]) / (2 * e[l]);
      double r = hypot2(g, 1);
      const double shift = d[l] - e[l] / (g + (g >= 0 ? r : -r));
      // The implicit step: a rotation of rows m-1, m makes the shifted T's first QL rotation;
      // each further one chases the bulge it leaves up to row l.
      g = d[m] - shift;
      double s = 1, c = 1, p = 0;
      bool broke = false;
      panels.begin_sweep(m - 1);
      for (std::size_t i = m; i-- > l;) {
        const double f = s * e[i], b = c * e[i];
        r = hypot2(f, g);
        e[i + 1] = r;
        if (r == 0) {  // the bulge vanished: T splits at i+1 as it stands; start over
          d[i + 1] = d[i + 1] - p;
          e[m] = 0;
          broke = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        panels.rotate(c, s);
      }
      panels.end_sweep();
      if (broke) continue;
      d[l] = d[l] - p;
      e[l] = g;
      e[m] = 0;
    }
  }
  panels.flush();
}

}  // namespace

SymmetricEigen symmetric_eigen(Isa isa, const double* a, std::size_t n, int max_sweeps) {
  const Kernels& kr = kernels(isa);
  double big = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      const double x = a[i * n + j];
      if (!std::isfinite(x))
        throw std::runtime_error("symmetric_eigen: entry (" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
                                 (std::isnan(x) ? "NaN" : "infinite"));
      big = std::max(big, std::abs(x));
    }
  SymmetricEigen out;
  out.values.assign(n, 0.0);
  out.vectors.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) out.vectors[i * n + i] = 1;
  if (big == 0) return out;  // the zero matrix (or n = 0): the identity's columns

  // Outside [2^-400, 2^400] the largest entry is brought into [1/2, 1) by a power of two, which
  // the eigenvalues undo exactly: no entry of the reduction (at most n times the largest) then
  // has a square that overflows, and few underflow. Inside, nothing is scaled, so no small entry
  // is lost to underflow.
  int scale = 0;
  if (big < 0x1p-400 || big > 0x1p400) std::frexp(big, &scale);
  std::vector<double> w(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) w[i * n + j] = w[j * n + i] = std::ldexp(a[i * n + j], -scale);

  std::vector<double> d(n), e(n, 0.0), tau, q;
  if (n == 1) {
    d[0] = w[0];
    q.assign(1, 1.0);
  } else if (n == 2) {
    d = {w[0], w[3]};
    e[0] = w[2];
    q = {1, 0, 0, 1};
  } else {
    tridiagonalise(kr, w, n, tau, d, e);
    form_q(kr, w, n, tau, q);
  }
  Panels panels(kr, q, n);
  ql(d, e, n, max_sweeps, panels);

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return d[x] < d[y]; });
  for (std::size_t j = 0; j < n; ++j) out.values[j] = std::ldexp(d[order[j]], scale);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < n; ++j) out.vectors[r * n + j] = panels.at(r, order[j]);
  return out;
}

SymmetricEigen symmetric_eigen(const double* a, std::size_t n) { return symmetric_eigen(active_isa(), a, n); }

}  // namespace untangle::num
