#include "nodes/numeric/fft.h"

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "nodes/numeric/elementary.h"
#include "nodes/numeric/fft_impl.h"

namespace untangle::num {

namespace fft {
extern const Kernels kGenericFft, kAvx2Fft, kAvx512Fft;
}

namespace {

const fft::Kernels& kernels_for(Isa isa) {
  if (!runs(isa)) throw std::invalid_argument(std::string("RealFft2d: this CPU does not run ") + isa_name(isa));
  switch (isa) {
    case Isa::avx2: return fft::kAvx2Fft;
    case Isa::avx512: return fft::kAvx512Fft;
    case Isa::generic: break;
  }
  return fft::kGenericFft;
}

// (cos, sin) of -2π·m/n in double. The angle is reduced to [0, π/4] by whole quadrants and a
// reflection, all exact, so 1, 0 and −1 come out exact and factors that are equal by symmetry
// come out equal.
void root(std::size_t m, std::size_t n, double& c, double& s) {
  constexpr double kHalfPi = 1.5707963267948966;
  m %= n;
  const std::size_t q = 4 * m / n, t = 4 * m - q * n;  // 2πm/n = (π/2)·(q + t/n)
  double sn, cs;
  if (2 * t <= n) {
    sincos(kHalfPi * static_cast<double>(t) / static_cast<double>(n), sn, cs);
  } else {  // cos(π/2 − θ) = sin θ
    sincos(kHalfPi * static_cast<double>(n - t) / static_cast<double>(n), cs, sn);
  }
  const double pc[4] = {cs, -sn, -cs, sn}, ps[4] = {sn, cs, -sn, -cs};
  c = pc[q], s = -ps[q];
}

void push_root(std::vector<float>& t, std::size_t m, std::size_t n) {
  double c, s;
  root(m, n, c, s);
  t.push_back(static_cast<float>(c));
  t.push_back(static_cast<float>(s));
}

// 7, 5 and 3 first (the first stage has no twiddles to multiply by), then the powers of 2 in
// stages of 8 and 4 (2 only for an odd power: 8·2 costs what 4·4 does): the fewer the passes
// over the data the better. The same on every instruction set, as the bits depend on it. The
// twiddles of every stage are appended to `tables`, their offsets kept in place of the pointers
// until the tables stop growing.
fft::Line line(std::size_t n, const char* what, std::size_t original, std::vector<float>& tables,
               std::vector<std::size_t>& offsets) {
  if (n == 0) throw std::invalid_argument(std::string("RealFft2d: ") + what + " must be at least 1");
  fft::Line l;
  l.n = n;
  std::size_t rest = n, ns = 1;
  auto add = [&](std::size_t r) {
    fft::Stage& st = l.stage[l.stages++];
    st.radix = r, st.ns = ns, st.tw = nullptr;
    offsets.push_back(tables.size());
    for (std::size_t k = 0; k < ns; ++k)
      for (std::size_t j = 1; j < r; ++j) push_root(tables, j * k, ns * r);
    ns *= r, rest /= r;
  };
  int twos = 0;
  for (std::size_t m = n; m % 2 == 0; m /= 2) ++twos;
  for (std::size_t f : {7, 5, 3})
    while (rest % f == 0) add(f);
  for (; twos >= 3 && twos != 4; twos -= 3) add(8);
  for (; twos >= 2; twos -= 2) add(4);
  if (twos) add(2);
  if (rest != 1)
    throw std::invalid_argument(std::string("RealFft2d: ") + what + " must be a product of 2, 3, 5 and 7, got " +
                                std::to_string(original));
  return l;
}

struct AlignedFree {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
};

}  // namespace

struct RealFft2d::Plan {
  fft::Plan2d p;
  std::vector<float> tables;
  const fft::Kernels* kernels;
  std::size_t scratch;  // floats a call needs: the layout at forward_t in fft_impl.h
};

RealFft2d::RealFft2d(std::size_t rows, std::size_t cols) : RealFft2d(rows, cols, active_isa()) {}

RealFft2d::RealFft2d(std::size_t rows, std::size_t cols, Isa isa) : plan_(new Plan{}) {
  Plan& pl = *plan_;
  fft::Plan2d& p = pl.p;
  pl.kernels = &kernels_for(isa);
  p.rows = rows, p.cols = cols;
  std::vector<std::size_t> offsets;
  if (cols == 0) throw std::invalid_argument("RealFft2d: cols must be at least 1");
  p.col = line(rows, "rows", rows, pl.tables, offsets);
  p.row = line(cols % 2 == 0 ? cols / 2 : cols, "cols", cols, pl.tables, offsets);
  const std::size_t rot = pl.tables.size();
  if (cols % 2 == 0)
    for (std::size_t k = 0; 4 * k <= cols; ++k) push_root(pl.tables, k, cols);
  for (std::size_t r : {3, 5, 7, 8})
    for (std::size_t j = 0; j < r; ++j) {
      double c, s;
      root(j, r, c, s);  // e^{-2πij/r}
      p.unit[r][j][0] = static_cast<float>(c), p.unit[r][j][1] = static_cast<float>(-s);
    }
  std::size_t o = 0;
  for (fft::Line* l : {&p.col, &p.row})
    for (std::size_t i = 0; i < l->stages; ++i) l->stage[i].tw = pl.tables.data() + offsets[o++];
  p.rot = pl.tables.data() + rot;
  const std::size_t lanes = pl.kernels->lanes, len = (p.col.n > p.row.n ? p.col.n : p.row.n) + 1;
  pl.scratch = 2 * len * 2 * lanes + 2 * rows + (cols % 2 ? rows * 2 * (cols / 2 + 1) : 0);
}

RealFft2d::~RealFft2d() = default;
std::size_t RealFft2d::rows() const { return plan_->p.rows; }
std::size_t RealFft2d::cols() const { return plan_->p.cols; }

// Scratch per call: nothing shared between calls but the plan's tables, which are only read.
void RealFft2d::forward(const float* in, std::complex<float>* out) const {
  std::unique_ptr<float[], AlignedFree> scratch(
      static_cast<float*>(::operator new[](plan_->scratch * sizeof(float), std::align_val_t(64))));
  plan_->kernels->forward(plan_->p, in, reinterpret_cast<float*>(out), scratch.get());
}

void RealFft2d::inverse(const std::complex<float>* in, float* out) const {
  std::unique_ptr<float[], AlignedFree> scratch(
      static_cast<float*>(::operator new[](plan_->scratch * sizeof(float), std::align_val_t(64))));
  plan_->kernels->inverse(plan_->p, reinterpret_cast<const float*>(in), out, scratch.get());
}

}  // namespace untangle::num
