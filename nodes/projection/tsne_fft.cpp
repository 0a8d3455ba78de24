#include "nodes/projection/tsne_fft.h"

#include <fftw3.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace untangle::tsne {

namespace {

// FFTW's planner is not thread-safe and other nodes may plan at the same time; only the
// fftw_execute functions may run concurrently.
std::mutex& planner() {
  static std::mutex m;
  return m;
}

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
// FFTW's own allocation: every array has the alignment the plans were made for, a condition of
// executing a plan on arrays other than its own.
template <class T>
using Buffer = std::unique_ptr<T[], FftwFree>;

struct Plan {
  fftwf_plan p = nullptr;
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    std::lock_guard<std::mutex> lock(planner());
    replace(nullptr);
  }
  // With the planner's lock held.
  void replace(fftwf_plan q) {
    if (p) fftwf_destroy_plan(p);
    p = q;
  }
};

// The smallest m ≥ n for which 2·nodes·m, the FFT's length, has no prime factor above 7:
// FFTW is fastest on such lengths.
std::size_t smooth_boxes(std::size_t n, std::size_t nodes) {
  for (std::size_t m = std::max<std::size_t>(n, 1);; ++m) {
    std::size_t r = 2 * nodes * m;
    for (std::size_t f : {2, 3, 5, 7})
      while (r % f == 0) r /= f;
    if (r == 1) return m;
  }
}

// The three kernels, of the offset (dx, dy) from a source to a target: q for Z, and q²·dx and
// q²·dy for the force. Convolving each with the charges directly, rather than q² with charges
// 1, y and |y|² as in FIt-SNE, avoids subtracting large nearly equal terms far from the origin;
// so single precision suffices for the grid and its FFTs (rounding ~1e-6 relative, far below
// the interpolation's error), which halves their time. Points' weights and sums stay double.
constexpr std::size_t kKernels = 3;

double kernel(std::size_t k, double dx, double dy) {
  const double q = 1.0 / (1.0 + dx * dx + dy * dy);
  return k == 0 ? q : q * q * (k == 1 ? dx : dy);
}

}  // namespace

struct FftRepulsion::Work {
  // The grid: bx × by boxes of side `width`, nodes × nodes interpolation nodes each; the node
  // arrays are zero-padded to twice the size so the FFT's cyclic convolution is a linear one.
  std::size_t bx = 0, by = 0, mx = 0, my = 0;
  double width = 0;
  Buffer<float> charge;                               // 2mx × 2my
  Buffer<fftwf_complex> spectrum;                      // 2mx × (my + 1)
  std::array<Buffer<fftwf_complex>, kKernels> kernel;  // the kernels' spectra over the FFT's size
  std::array<Buffer<fftwf_complex>, kKernels> product;
  std::array<Buffer<float>, kKernels> potential;  // 2mx × 2my; the kernels' inputs while their spectra are made
  Plan forward, backward;

  std::vector<double> wx, wy;  // each point's interpolation weights along x and y
  std::vector<std::uint32_t> box, start, order;
  std::vector<double> row_z;
};

FftRepulsion::FftRepulsion(FftSettings settings) : settings_(settings), work_(std::make_unique<Work>()) {
  if (settings_.nodes < 2 || settings_.nodes > 8) throw std::invalid_argument("FFT t-SNE: nodes per box must be 2 to 8");
  if (!(settings_.box_width > 0) || settings_.min_boxes < 1) throw std::invalid_argument("FFT t-SNE: bad grid settings");
}
FftRepulsion::~FftRepulsion() = default;

double FftRepulsion::compute(const std::vector<double>& y, std::vector<double>& force) {
  Work& w = *work_;
  const std::size_t n = y.size() / 2, p = settings_.nodes;
  double x0 = y[0], x1 = y[0], y0 = y[1], y1 = y[1];
  for (std::size_t i = 1; i < n; ++i) {
    x0 = std::min(x0, y[2 * i]), x1 = std::max(x1, y[2 * i]);
    y0 = std::min(y0, y[2 * i + 1]), y1 = std::max(y1, y[2 * i + 1]);
  }
  // Boxes of the full width once the embedding is wide enough; before, at least min_boxes across
  // it, so the early, tiny embeddings get as fine a grid relative to their size. Their width
  // shrinks in steps of 2^(1/8) rather than with every change of the extent, so that the
  // kernels' spectra serve for as long as the extent stays within a step.
  const double span = std::max({x1 - x0, y1 - y0, 1e-12});
  double width = settings_.box_width;
  while (width * settings_.min_boxes > span) width /= 1.0905077326652577;  // 2^(1/8)
  const std::size_t bx = smooth_boxes(static_cast<std::size_t>(std::ceil((x1 - x0) / width)), p);
  const std::size_t by = smooth_boxes(static_cast<std::size_t>(std::ceil((y1 - y0) / width)), p);
  const std::size_t mx = bx * p, my = by * p, fx = 2 * mx, fy = 2 * my, half = my + 1;

  if (bx != w.bx || by != w.by) {
    w.charge.reset(fftwf_alloc_real(fx * fy));
    w.spectrum.reset(fftwf_alloc_complex(fx * half));
    for (std::size_t k = 0; k < kKernels; ++k) {
      w.kernel[k].reset(fftwf_alloc_complex(fx * half));
      w.product[k].reset(fftwf_alloc_complex(fx * half));
      w.potential[k].reset(fftwf_alloc_real(fx * fy));
    }
    std::fill(w.charge.get(), w.charge.get() + fx * fy, 0.0f);
    // FFTW_ESTIMATE: plans chosen by rule, not by timing, so the same sizes always get the same
    // algorithm and the same rounding.
    std::lock_guard<std::mutex> lock(planner());
    w.forward.replace(fftwf_plan_dft_r2c_2d(static_cast<int>(fx), static_cast<int>(fy), w.charge.get(), w.spectrum.get(),
                                         FFTW_ESTIMATE));
    w.backward.replace(fftwf_plan_dft_c2r_2d(static_cast<int>(fx), static_cast<int>(fy), w.product[0].get(),
                                          w.potential[0].get(), FFTW_ESTIMATE));
    w.bx = bx, w.by = by, w.mx = mx, w.my = my, w.width = 0;
  }
  const double h = width / p;  // node spacing
  if (width != w.width) {
    // The kernels at every offset between nodes, laid out cyclically (offset -d at 2m - d); the
    // middle row and column stand for no offset that occurs and stay 0.
    const double scale = 1.0 / static_cast<double>(fx * fy);
    tbb::parallel_for(std::size_t(0), kKernels, [&](std::size_t k) {
      float* in = w.potential[k].get();
      for (std::size_t u = 0; u < fx; ++u) {
        const double dx = (u < mx ? double(u) : double(u) - double(fx)) * h;
        for (std::size_t v = 0; v < fy; ++v) {
          const double dy = (v < my ? double(v) : double(v) - double(fy)) * h;
          in[u * fy + v] = u == mx || v == my ? 0.0f : static_cast<float>(kernel(k, dx, dy) * scale);
        }
      }
      fftwf_execute_dft_r2c(w.forward.p, in, w.kernel[k].get());
    });
    w.width = width;
  }

  // The grid is centred on the embedding; it reaches past it where the box counts were rounded up.
  const double gx = (x0 + x1) / 2 - bx * width / 2, gy = (y0 + y1) / 2 - by * width / 2;
  // Lagrange weights on the nodes at (t + 0.5) / p of a box, t = 0…p-1, for a point at s ∈ [0, 1].
  std::array<double, 8> at{}, denom{};
  for (std::size_t t = 0; t < p; ++t) at[t] = (t + 0.5) / p;
  for (std::size_t t = 0; t < p; ++t) {
    denom[t] = 1;
    for (std::size_t u = 0; u < p; ++u)
      if (u != t) denom[t] *= at[t] - at[u];
  }
  auto weights = [&](double s, double* out) {
    for (std::size_t t = 0; t < p; ++t) {
      double v = 1 / denom[t];
      for (std::size_t u = 0; u < p; ++u)
        if (u != t) v *= s - at[u];
      out[t] = v;
    }
  };
  w.wx.resize(n * p);
  w.wy.resize(n * p);
  w.box.resize(n);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1024), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      const double sx = (y[2 * i] - gx) / width, sy = (y[2 * i + 1] - gy) / width;
      const std::size_t ix = std::min(static_cast<std::size_t>(std::max(sx, 0.0)), bx - 1);
      const std::size_t iy = std::min(static_cast<std::size_t>(std::max(sy, 0.0)), by - 1);
      weights(sx - ix, &w.wx[i * p]);
      weights(sy - iy, &w.wy[i * p]);
      w.box[i] = static_cast<std::uint32_t>(ix * by + iy);
    }
  });
  // Points grouped by box, in index order within each (a counting sort): a box's nodes are its
  // own, so boxes are charged in parallel, each adding its points in the same order every time.
  const std::size_t boxes = bx * by;
  w.start.assign(boxes + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++w.start[w.box[i] + 1];
  for (std::size_t b = 0; b < boxes; ++b) w.start[b + 1] += w.start[b];
  w.order.resize(n);
  {
    std::vector<std::uint32_t> next(w.start.begin(), w.start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) w.order[next[w.box[i]]++] = static_cast<std::uint32_t>(i);
  }
  float* charge = w.charge.get();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, bx, 4), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t ix = r.begin(); ix < r.end(); ++ix) {
      for (std::size_t a = 0; a < p; ++a) std::fill_n(charge + (ix * p + a) * fy, my, 0.0f);
      for (std::size_t iy = 0; iy < by; ++iy) {
        const std::size_t b = ix * by + iy;
        for (std::size_t k = w.start[b]; k < w.start[b + 1]; ++k) {
          const std::size_t i = w.order[k];
          for (std::size_t a = 0; a < p; ++a) {
            float* row = charge + (ix * p + a) * fy + iy * p;
            for (std::size_t c = 0; c < p; ++c) row[c] += static_cast<float>(w.wx[i * p + a] * w.wy[i * p + c]);
          }
        }
      }
    }
  });

  fftwf_execute_dft_r2c(w.forward.p, charge, w.spectrum.get());
  // One kernel per task: each FFT runs on one thread, so its rounding does not depend on how many there are.
  tbb::parallel_for(std::size_t(0), kKernels, [&](std::size_t k) {
    const fftwf_complex* a = w.spectrum.get();
    const fftwf_complex* b = w.kernel[k].get();
    fftwf_complex* c = w.product[k].get();
    for (std::size_t t = 0; t < fx * half; ++t) {
      c[t][0] = a[t][0] * b[t][0] - a[t][1] * b[t][1];
      c[t][1] = a[t][0] * b[t][1] + a[t][1] * b[t][0];
    }
    fftwf_execute_dft_c2r(w.backward.p, c, w.potential[k].get());
  });

  // The potentials interpolated back at the points. A point's own unit charge adds q(0) = 1 to
  // its Z, up to interpolation error, and nothing to its force: Z drops exactly that 1.
  force.resize(2 * n);
  w.row_z.resize(n);
  const float* pz = w.potential[0].get();
  const float* px = w.potential[1].get();
  const float* py = w.potential[2].get();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1024), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      const std::size_t ix = w.box[i] / by, iy = w.box[i] % by;
      double z = 0, f0 = 0, f1 = 0;
      for (std::size_t a = 0; a < p; ++a) {
        const std::size_t row = (ix * p + a) * fy + iy * p;
        double rz = 0, r0 = 0, r1 = 0;
        for (std::size_t c = 0; c < p; ++c) {
          const double wc = w.wy[i * p + c];
          rz += wc * pz[row + c];
          r0 += wc * px[row + c];
          r1 += wc * py[row + c];
        }
        const double wa = w.wx[i * p + a];
        z += wa * rz, f0 += wa * r0, f1 += wa * r1;
      }
      w.row_z[i] = z - 1.0;
      force[2 * i] = f0;
      force[2 * i + 1] = f1;
    }
  });
  double z = 0;
  for (double s : w.row_z) z += s;  // in point order: the same sum on any thread count
  return z;
}

FftGradient::FftGradient(const SparseP& p, FftSettings settings) : p_(p), repulsion_(settings) {}

const BhGradient& FftGradient::gradient(const std::vector<double>& y, double exaggeration) {
  attraction(p_, y, exaggeration, out_.grad);
  out_.z = repulsion_.compute(y, force_);
  for (std::size_t k = 0; k < out_.grad.size(); ++k) out_.grad[k] = 4.0 * (out_.grad[k] - force_[k] / out_.z);
  return out_;
}

}  // namespace untangle::tsne
