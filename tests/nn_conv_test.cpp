#include <doctest/doctest.h>

#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "nodes/nn/conv2d.h"
#include "nodes/nn/kernels.h"
#include "nodes/nn/maxpool2d.h"
#include "nodes/nn/ops.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"

using namespace untangle;
using namespace untangle::nn;

namespace {

std::vector<float> uniform(std::size_t size, Rng& rng, double lo = -1, double hi = 1) {
  std::vector<float> v(size);
  for (auto& e : v) e = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return v;
}

std::vector<float> run(const Layer& l, const std::vector<float>& x, std::size_t n) {
  std::vector<float> y(n * volume(l.out_shape));
  Scratch s;
  l.forward(x.data(), y.data(), n, s, Pass{});
  return y;
}

// The textbook convolution, with the padding worked out independently of the layer:
// TensorFlow's "same" puts the odd padding element at the bottom/right.
std::vector<float> naive_conv(const std::vector<float>& x, std::size_t n, long H, long W, long C,
                              const std::vector<float>& kernel, const std::vector<float>& bias, long F, long kh,
                              long kw, long stride, bool same) {
  long OH, OW, pt = 0, pl = 0;
  if (same) {
    OH = (H + stride - 1) / stride, OW = (W + stride - 1) / stride;
    pt = std::max((OH - 1) * stride + kh - H, 0L) / 2;
    pl = std::max((OW - 1) * stride + kw - W, 0L) / 2;
  } else {
    OH = (H - kh) / stride + 1, OW = (W - kw) / stride + 1;
  }
  std::vector<float> y(n * OH * OW * F);
  for (long s = 0; s < static_cast<long>(n); ++s)
    for (long oh = 0; oh < OH; ++oh)
      for (long ow = 0; ow < OW; ++ow)
        for (long f = 0; f < F; ++f) {
          double sum = bias[f];
          for (long i = 0; i < kh; ++i)
            for (long j = 0; j < kw; ++j)
              for (long c = 0; c < C; ++c) {
                const long ih = oh * stride + i - pt, iw = ow * stride + j - pl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += double(x[((s * H + ih) * W + iw) * C + c]) * kernel[((i * kw + j) * C + c) * F + f];
              }
          y[((s * OH + oh) * OW + ow) * F + f] = static_cast<float>(sum);
        }
  return y;
}

// L = Σ w·y, summed in double from a fresh forward pass.
double loss(const Layer& l, const std::vector<float>& x, std::size_t n, const std::vector<float>& w) {
  const auto y = run(l, x, n);
  double sum = 0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += double(w[i]) * y[i];
  return sum;
}

// Central difference of L in *v; divides by the step float really took.
double numeric(const Layer& l, const std::vector<float>& x, std::size_t n, const std::vector<float>& w, float* v,
               float eps) {
  const float orig = *v;
  *v = orig + eps;
  const double hi = *v, lp = loss(l, x, n, w);
  *v = orig - eps;
  const double lo = *v, lm = loss(l, x, n, w);
  *v = orig;
  return (lp - lm) / (hi - lo);
}

bool close(double numeric, double analytic) {
  return std::abs(numeric - analytic) <= 1e-2 * std::max({std::abs(numeric), std::abs(analytic), 0.1});
}

// Checks dx in full and every parameter element (a random 50 of big ones) against finite
// differences of L = Σ w·y for fixed random w.
void grad_check(Layer& l, std::vector<float> x, std::size_t n, Rng& rng, float eps = 1e-2f) {
  const auto w = uniform(n * volume(l.out_shape), rng);
  std::vector<float> y(w.size()), dx(x.size());
  std::vector<std::vector<float>> grads;
  for (auto* p : l.params()) grads.emplace_back(p->value.size(), 0.0f);
  Scratch s;
  l.forward(x.data(), y.data(), n, s, Pass{});
  l.backward(x.data(), y.data(), w.data(), dx.data(), n, grads, s);

  for (std::size_t i = 0; i < x.size(); ++i) {
    const double num = numeric(l, x, n, w, &x[i], eps);
    CHECK_MESSAGE(close(num, dx[i]), "dx[" << i << "]: numeric " << num << ", backward " << dx[i]);
  }
  const auto params = l.params();
  for (std::size_t k = 0; k < params.size(); ++k) {
    auto& v = params[k]->value;
    std::vector<std::size_t> which(v.size());
    std::iota(which.begin(), which.end(), 0);
    if (v.size() > 60) {
      which.resize(50);
      for (auto& e : which) e = rng.below(v.size());
    }
    for (auto i : which) {
      const double num = numeric(l, x, n, w, &v[i], eps);
      CHECK_MESSAGE(close(num, grads[k][i]),
                    params[k]->name << "[" << i << "]: numeric " << num << ", backward " << grads[k][i]);
    }
  }
}

struct ConvCase {
  std::size_t H, W, C, F, kh, kw, stride;
  bool same;
  Act act;
};

const ConvCase kCases[] = {
    {5, 6, 2, 3, 3, 3, 1, true, Act::sigmoid},   // C>1, filters>1
    {6, 5, 3, 2, 3, 2, 2, false, Act::linear},   // stride 2, non-square kernel, valid
    {6, 7, 2, 2, 3, 3, 2, true, Act::sigmoid},   // odd padding on H: 0 above, 1 below
    {8, 8, 4, 5, 5, 5, 1, true, Act::linear},    // kernel of 500: a sample of it
    {7, 4, 1, 2, 2, 4, 3, false, Act::sigmoid},  // stride larger than the kernel height
    // The layer works on blocks of about 512 patch rows: 256 rows a sample gives blocks of 2
    // samples and then 1; 552 gives one sample a block.
    {16, 16, 2, 3, 3, 3, 1, true, Act::sigmoid},
    {24, 23, 1, 2, 5, 5, 1, true, Act::linear},
    // Channel and filter counts that fill no vector: partial blocks in every kernel.
    {7, 6, 17, 18, 3, 3, 2, false, Act::sigmoid},
    {5, 5, 19, 33, 3, 3, 1, true, Act::linear},
};

Conv2D make(const ConvCase& c, Rng& rng) {
  Conv2D l(c.F, c.kh, c.kw, c.stride, c.same, c.act, Init::glorot_uniform);
  l.build({c.H, c.W, c.C});
  l.init(rng);
  l.params()[1]->value = uniform(c.F, rng, -0.5, 0.5);  // biases of zero would hide a missing bias
  return l;
}

}  // namespace

TEST_CASE("conv2d: valid 2x2 kernel over a 3x3 image, by hand") {
  Conv2D l(1, 2, 2, 1, false, Act::linear, Init::zeros);
  CHECK(l.build({3, 3, 1}) == Shape{2, 2, 1});
  l.params()[0]->value = {1, 2, 3, 4};  // [[1, 2], [3, 4]]
  l.params()[1]->value = {0.5f};
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  // 1·1+2·2+4·3+5·4 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77
  CHECK(run(l, x, 1) == std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f});
}

TEST_CASE("conv2d: same padding shapes and Keras's pad split") {
  Conv2D mnist(32, 5, 5, 1, true, Act::relu, Init::glorot_uniform);
  CHECK(mnist.build({28, 28, 1}) == Shape{28, 28, 32});

  // An all-ones kernel over an all-ones image counts the window's cells inside the image.
  auto counts = [](std::size_t size) {
    Conv2D l(1, 3, 3, 2, true, Act::linear, Init::zeros);
    const Shape out = l.build({size, size, 1});
    CHECK(out == Shape{3, 3, 1});
    std::fill(l.params()[0]->value.begin(), l.params()[0]->value.end(), 1.0f);
    return run(l, std::vector<float>(size * size, 1.0f), 1);
  };
  // 5x5, stride 2: 2 padding cells, one each side.
  CHECK(counts(5) == std::vector<float>{4, 6, 4, 6, 9, 6, 4, 6, 4});
  // 6x6, stride 2: 1 padding cell, which TensorFlow puts after (bottom/right), not before.
  CHECK(counts(6) == std::vector<float>{9, 9, 6, 9, 9, 6, 6, 6, 4});
}

TEST_CASE("conv2d: matches a direct convolution") {
  Rng rng(7);
  for (const auto& c : kCases) {
    INFO(c.H << "x" << c.W << "x" << c.C << " into " << c.F << " filters " << c.kh << "x" << c.kw << ", stride "
              << c.stride << (c.same ? ", same" : ", valid"));
    ConvCase lin = c;
    lin.act = Act::linear;
    Conv2D l = make(lin, rng);
    const std::size_t n = 3;
    const auto x = uniform(n * c.H * c.W * c.C, rng);
    const auto y = run(l, x, n);
    const auto want = naive_conv(x, n, c.H, c.W, c.C, l.params()[0]->value, l.params()[1]->value, c.F, c.kh, c.kw,
                                 c.stride, c.same);
    REQUIRE(y.size() == want.size());
    for (std::size_t i = 0; i < y.size(); ++i)
      CHECK_MESSAGE(std::abs(y[i] - want[i]) <= 1e-5f, "y[" << i << "] = " << y[i] << ", direct " << want[i]);
  }
}

TEST_CASE("conv2d: gradients match finite differences") {
  Rng rng(11);
  for (const auto& c : kCases) {
    INFO(c.H << "x" << c.W << "x" << c.C << " into " << c.F << " filters " << c.kh << "x" << c.kw << ", stride "
              << c.stride << (c.same ? ", same" : ", valid"));
    Conv2D l = make(c, rng);
    grad_check(l, uniform(3 * c.H * c.W * c.C, rng), 3, rng);
  }
}

TEST_CASE("conv2d: gradients of a single sample match finite differences") {
  Rng rng(13);
  for (const auto& c : {kCases[1], kCases[2], kCases[7]}) {
    INFO(c.H << "x" << c.W << "x" << c.C << " into " << c.F << " filters, stride " << c.stride);
    Conv2D l = make(c, rng);
    grad_check(l, uniform(c.H * c.W * c.C, rng), 1, rng);
  }
}

TEST_CASE("conv2d: backward adds into grads, with or without dx") {
  Rng rng(3);
  Conv2D l = make(kCases[2], rng);
  const std::size_t n = 2;
  const auto x = uniform(n * volume(l.in_shape), rng);
  std::vector<float> y(n * volume(l.out_shape)), dx(x.size());
  const auto dy = uniform(y.size(), rng);
  Scratch s;
  l.forward(x.data(), y.data(), n, s, Pass{});
  std::vector<std::vector<float>> once = {std::vector<float>(l.params()[0]->value.size()),
                                          std::vector<float>(l.params()[1]->value.size())};
  auto twice = once;
  l.backward(x.data(), y.data(), dy.data(), nullptr, n, once, s);  // first layer: no dx
  l.backward(x.data(), y.data(), dy.data(), dx.data(), n, twice, s);
  l.backward(x.data(), y.data(), dy.data(), dx.data(), n, twice, s);
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t i = 0; i < once[k].size(); ++i) CHECK(twice[k][i] == doctest::Approx(2 * once[k][i]));
}

TEST_CASE("conv2d: parameter counts and errors") {
  auto count = [](Layer& l) {
    std::size_t total = 0;
    for (auto* p : l.params()) total += p->value.size();
    return total;
  };
  Conv2D c1(32, 5, 5, 1, true, Act::relu, Init::glorot_uniform);
  c1.build({28, 28, 1});
  CHECK(count(c1) == 832);
  CHECK(c1.params()[0]->shape == Shape{5, 5, 1, 32});
  Conv2D c2(64, 5, 5, 1, true, Act::relu, Init::glorot_uniform);
  CHECK(c2.build({14, 14, 32}) == Shape{14, 14, 64});
  CHECK(count(c2) == 51264);
  CHECK(std::string(c2.type()) == "Conv2D");

  Conv2D flat(8, 3, 3, 1, true, Act::relu, Init::glorot_uniform);
  CHECK_THROWS_WITH_AS(flat.build({784}), doctest::Contains("1 axes"), std::invalid_argument);
  Conv2D big(8, 5, 5, 1, false, Act::relu, Init::glorot_uniform);
  CHECK_THROWS_AS(big.build({4, 8, 1}), std::invalid_argument);
  Conv2D no_stride(8, 3, 3, 0, false, Act::relu, Init::glorot_uniform);
  CHECK_THROWS_AS(no_stride.build({8, 8, 1}), std::invalid_argument);
}

TEST_CASE("maxpool2d: shapes, a 4x4 example by hand, ties") {
  MaxPool2D mnist(2, 0);
  CHECK(mnist.build({28, 28, 32}) == Shape{14, 14, 32});
  CHECK(std::string(mnist.type()) == "MaxPooling2D");
  MaxPool2D odd(2, 0);
  CHECK(odd.build({5, 5, 3}) == Shape{2, 2, 3});  // valid padding drops the last row and column
  CHECK_THROWS_AS(MaxPool2D(2, 0).build({28, 28}), std::invalid_argument);
  CHECK_THROWS_AS(MaxPool2D(3, 0).build({2, 8, 1}), std::invalid_argument);

  MaxPool2D l(2, 2);
  l.build({4, 4, 1});
  const std::vector<float> x = {1, 3, 2, 4,  //
                                5, 0, 7, 1,  //
                                2, 2, 9, 8,  //
                                6, 1, 0, 3};
  std::vector<float> y(4), dx(16, -1.0f);
  Scratch s;
  l.forward(x.data(), y.data(), 1, s, Pass{});
  CHECK(y == std::vector<float>{5, 7, 6, 9});
  const std::vector<float> dy = {1, 2, 3, 4};
  std::vector<std::vector<float>> none;
  l.backward(x.data(), y.data(), dy.data(), dx.data(), 1, none, s);
  CHECK(dx == std::vector<float>{0, 0, 0, 0,  //
                                 1, 0, 2, 0,  //
                                 0, 0, 4, 0,  //
                                 3, 0, 0, 0});

  // All equal: the first cell of the window (row-major) takes the gradient.
  const std::vector<float> flat(16, 2.0f);
  l.forward(flat.data(), y.data(), 1, s, Pass{});
  l.backward(flat.data(), y.data(), dy.data(), dx.data(), 1, none, s);
  CHECK(dx == std::vector<float>{1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0});
}

TEST_CASE("maxpool2d: gradients match finite differences") {
  Rng rng(5);
  struct Case {
    std::size_t H, W, C, pool, stride;
  };
  // The first two tile the input, the second leaving a row and a column out of every window;
  // the last three overlap; 19 channels are two AVX2 vectors and a scalar tail.
  for (const Case c : {Case{6, 6, 3, 2, 0}, Case{5, 7, 3, 2, 0}, Case{5, 7, 2, 3, 2}, Case{5, 5, 2, 2, 1},
                       Case{5, 4, 19, 2, 1}}) {
    INFO(c.H << "x" << c.W << "x" << c.C << ", pool " << c.pool << ", stride " << c.stride);
    MaxPool2D l(c.pool, c.stride);
    l.build({c.H, c.W, c.C});
    // Distinct values 0.05 apart: a step of 0.01 never changes which one is the maximum.
    const std::size_t n = 2, size = n * c.H * c.W * c.C;
    std::vector<float> x(size);
    for (std::size_t i = 0; i < size; ++i) x[i] = 0.05f * static_cast<float>(i) - 1.0f;
    for (std::size_t i = size; i-- > 1;) std::swap(x[i], x[rng.below(i + 1)]);
    grad_check(l, x, n, rng);
  }
}

namespace {

// The kernels' own contract, in double precision: rows outside [row0, row1) are zero.
std::vector<double> direct(const ConvGeom& g, const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>& bias, std::vector<double>& magnitude) {
  std::vector<double> y(g.n * g.OH * g.OW * g.F);
  magnitude.assign(y.size(), 0.0);
  for (std::size_t s = 0; s < g.n; ++s)
    for (std::size_t oh = 0; oh < g.OH; ++oh)
      for (std::size_t ow = 0; ow < g.OW; ++ow)
        for (std::size_t f = 0; f < g.F; ++f) {
          const std::size_t o = ((s * g.OH + oh) * g.OW + ow) * g.F + f;
          y[o] = bias[f];
          magnitude[o] = std::abs(bias[f]);
          for (std::size_t i = 0; i < g.kh; ++i)
            for (std::size_t j = 0; j < g.kw; ++j)
              for (std::size_t c = 0; c < g.C; ++c) {
                const double t = double(x[((s * g.H + oh * g.stride + i) * g.W + ow * g.stride + j) * g.C + c]) *
                                 w[((i * g.kw + j) * g.C + c) * g.F + f];
                y[o] += t;
                magnitude[o] += std::abs(t);
              }
        }
  return y;
}

const ConvGeom kGeoms[] = {
    // n, H, W, C, row0, row1, kh, kw, stride, OH, OW, F
    {1, 9, 8, 3, 0, 9, 3, 3, 1, 7, 6, 17},      // a single sample; 17 filters: a partial block
    {2, 12, 11, 5, 2, 10, 5, 5, 1, 8, 7, 33},   // zero rows above and below, skipped
    {3, 9, 10, 2, 1, 8, 3, 2, 2, 4, 5, 7},      // stride 2, a 3x2 kernel, fewer filters than a vector
    {2, 7, 7, 19, 0, 7, 1, 1, 1, 7, 7, 40},     // 1x1, 19 channels
    {1, 6, 6, 1, 0, 6, 5, 5, 1, 2, 2, 1},       // one channel, one filter
    {2, 18, 18, 32, 2, 16, 5, 5, 1, 14, 14, 64},  // the seed CNN's second convolution
};

// The kernel sets this CPU runs, scalar first, and the AVX2 ones tiled as the AVX-512 ones are.
std::vector<std::pair<std::string, const Kernels*>> runnable() {
  std::vector<std::pair<std::string, const Kernels*>> sets;
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (kernels_for(isa)) sets.emplace_back(isa_name(isa), kernels_for(isa));
  if (avx2_tiled_as_avx512()) sets.emplace_back("avx2 with 12x32 tiles", avx2_tiled_as_avx512());
  return sets;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("conv kernels: every instruction set matches a direct convolution, and the scalar kernels bit for bit") {
  Rng rng(17);
  for (const ConvGeom& g : kGeoms) {
    INFO(g.n << "x" << g.H << "x" << g.W << "x" << g.C << ", rows " << g.row0 << "-" << g.row1 << ", kernel " << g.kh
              << "x" << g.kw << ", stride " << g.stride << ", " << g.F << " filters");
    auto x = uniform(g.n * g.H * g.W * g.C, rng);
    for (std::size_t s = 0; s < g.n; ++s)
      for (std::size_t h = 0; h < g.H; ++h)
        if (h < g.row0 || h >= g.row1) std::fill_n(x.begin() + (s * g.H + h) * g.W * g.C, g.W * g.C, 0.0f);
    const auto w = uniform(g.taps() * g.F, rng), bias = uniform(g.F, rng);
    const auto dz = uniform(g.n * g.OH * g.OW * g.F, rng), dw0 = uniform(g.taps() * g.F, rng);
    std::vector<double> mag;
    const auto want = direct(g, x, w, bias, mag);
    // dw = dw0 + Σ patchᵀ dz, directly.
    std::vector<double> want_dw(dw0.begin(), dw0.end());
    for (std::size_t p = 0; p < g.n * g.OH * g.OW; ++p) {
      const std::size_t s = p / (g.OH * g.OW), oh = p / g.OW % g.OH, ow = p % g.OW;
      for (std::size_t k = 0; k < g.taps(); ++k) {
        const std::size_t i = k / (g.kw * g.C), j = k / g.C % g.kw, c = k % g.C;
        const double v = x[((s * g.H + oh * g.stride + i) * g.W + ow * g.stride + j) * g.C + c];
        for (std::size_t f = 0; f < g.F; ++f) want_dw[k * g.F + f] += v * dz[p * g.F + f];
      }
    }

    std::vector<float> y0, dw_0;
    for (const auto& entry : runnable()) {
      const auto& name = entry.first;
      const auto& set = entry.second;
      INFO(name);
      const Kernels& k = *set;
      std::vector<float> y(want.size()), pack((g.taps() + 1) * round_up(g.F, k.nr));
      k.conv_forward(g, x.data(), w.data(), bias.data(), y.data(), pack.data());
      for (std::size_t i = 0; i < y.size(); ++i)
        REQUIRE_MESSAGE(std::abs(y[i] - want[i]) <= 1e-6 * (1 + mag[i]), "y[" << i << "] " << y[i] << ", direct " << want[i]);
      // dz with rows padded to whole blocks, the padding poisoned: it must not reach dw.
      const std::size_t ldz = round_up(g.F, k.nr);
      std::vector<float> dzp(g.n * g.OH * g.OW * ldz, std::nanf(""));
      for (std::size_t p = 0; p < g.n * g.OH * g.OW; ++p) std::copy_n(dz.begin() + p * g.F, g.F, dzp.begin() + p * ldz);
      auto dw = dw0;
      k.conv_backward_weights(g, x.data(), dzp.data(), ldz, dw.data());
      for (std::size_t i = 0; i < dw.size(); ++i)
        REQUIRE_MESSAGE(std::abs(dw[i] - want_dw[i]) <= 1e-5 * (1 + std::abs(want_dw[i])) + 1e-6 * double(g.n * g.OH * g.OW),
                        "dw[" << i << "] " << dw[i] << ", direct " << want_dw[i]);
      if (k.isa == Isa::generic) {
        y0 = y, dw_0 = dw;
      } else {
        CHECK(same_bits(y, y0));
        CHECK(same_bits(dw, dw_0));
      }
    }
  }
}

TEST_CASE("conv kernels: max pooling is the same on every instruction set, first maximum on ties") {
  Rng rng(19);
  for (const std::size_t C : {1, 7, 8, 19, 32, 35}) {
    const std::size_t n = 2, H = 7, W = 6, pool = 3, stride = 2, OH = 3, OW = 2;
    auto x = uniform(n * H * W * C, rng);
    for (std::size_t i = 0; i < x.size(); i += 3) x[i] = 0.5f;  // many ties
    std::vector<float> y0;
    std::vector<std::uint32_t> idx0;
    for (const auto& entry : runnable()) {
      const auto& name = entry.first;
      const auto& set = entry.second;
      INFO(name << ", " << C << " channels");
      std::vector<float> y(n * OH * OW * C);
      std::vector<std::uint32_t> idx(y.size());
      set->maxpool_forward(x.data(), n, H, W, C, pool, stride, OH, OW, y.data(), idx.data());
      for (std::size_t o = 0; o < y.size(); ++o) {
        const std::size_t s = o / (OH * OW * C), oh = o / (OW * C) % OH, ow = o / C % OW, c = o % C;
        float best = -2;
        std::size_t at = 0;
        for (std::size_t i = 0; i < pool; ++i)
          for (std::size_t j = 0; j < pool; ++j) {
            const std::size_t p = ((oh * stride + i) * W + ow * stride + j) * C + c;
            if (x[s * H * W * C + p] > best) best = x[s * H * W * C + p], at = p;
          }
        REQUIRE(y[o] == best);
        REQUIRE(idx[o] == at);
      }
      if (y0.empty()) y0 = y, idx0 = idx;
      CHECK(same_bits(y, y0));
      CHECK(idx == idx0);
    }
  }
}

TEST_CASE("conv kernels: the set of num::active_isa() is used, and every set the CPU runs is there") {
  // Which set that is (the widest, or UNTANGLE_ISA's) is tests/isa_test.cpp's concern.
  CHECK(kernels().isa == num::active_isa());
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512}) CHECK((kernels_for(isa) != nullptr) == num::runs(isa));
}

namespace {

// A small CNN over 20x20 random images, three classes: a batch spans several chunks.
Outputs train_cnn(std::uint64_t seed) {
  Rng rng(seed);
  const std::size_t n = 240;
  Tensor x = Tensor::zeros<float>({n, 10, 9, 3});
  Tensor y = Tensor::zeros<std::uint8_t>({n});
  for (std::size_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>(rng.uniform());
  for (std::size_t i = 0; i < n; ++i) y.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(rng.below(3));
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.inputs["y"] = {y};
  ctx.params = YAML::Load(
      "{model: [{conv2d: {filters: 17, kernel: 3, padding: same, activation: sigmoid}}, {maxpool2d: {pool: 2}}, "
      "{conv2d: {filters: 20, kernel: [3, 2], stride: 2, activation: relu}}, flatten, "
      "{dense: {units: 3, activation: softmax}}], loss: categorical_crossentropy, optimizer: {sgd: {lr: 0.2}}, "
      "batch_size: 120, epochs: 2, seed: 3, shuffle: true, validation_split: 0}");
  return train_op().run(ctx);
}

}  // namespace

TEST_CASE("conv kernels: a CNN trains to the same bits on 1, 2 and 4 threads") {
  std::vector<Outputs> runs;
  for (int threads : {1, 2, 4}) {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    runs.push_back(train_cnn(5));
  }
  REQUIRE(runs[0].count("weights/conv2d_1/kernel") == 1);
  for (const auto& entry : runs[0]) {
    const auto& name = entry.first;
    for (std::size_t r = 1; r < runs.size(); ++r) CHECK_MESSAGE(entry.second.digest() == runs[r].at(name).digest(), name);
  }
}

TEST_CASE("conv kernels: training gives the same bits whichever instruction set UNTANGLE_ISA picks") {
  test::TempDir dir;
  test::write_tiny_mnist(dir.path);
  const std::string graph = dir / "g.yaml";
  test::write_file(graph, "nodes:\n  mnist: {op: load_mnist, params: {dir: " + dir.path +
                              "}}\n  model:\n    op: train\n    inputs: {x: mnist.train_x, y: mnist.train_y}\n"
                              "    params:\n      model: [{conv2d: {filters: 5, kernel: 3, padding: same, activation: sigmoid}},"
                              " {maxpool2d: {pool: 2}}, {conv2d: {filters: 18, kernel: 3, activation: tanh}}, flatten,"
                              " {dense: {units: 10, activation: softmax}}]\n      batch_size: 60\n      epochs: 2\n");
  // `show` lists each output's digest; only the lines with digests are compared.
  auto digests = [&](const std::string& isa) {
    const std::string cache = dir / ("cache-" + isa);
    const std::string env = isa.empty() ? "" : "UNTANGLE_ISA=" + isa + " ";
    const auto ran = test::run_command(env + UNTANGLE_BINARY + " run " + graph + " --cache " + cache);
    REQUIRE_MESSAGE(ran.code == 0, ran.out << ran.err);
    const auto shown = test::run_command(std::string(UNTANGLE_BINARY) + " show " + graph + " model --cache " + cache);
    REQUIRE(shown.code == 0);
    std::string lines;
    std::istringstream in(shown.out);
    for (std::string line; std::getline(in, line);)
      if (line.find("weights/") != std::string::npos || line.find("history/") != std::string::npos) lines += line + "\n";
    return lines;
  };
  const std::string native = digests("");
  CHECK(native.find("weights/conv2d_2/kernel") != std::string::npos);
  for (const char* isa : {"generic", "avx2", "avx512"}) CHECK_MESSAGE(digests(isa) == native, isa);
  const auto bad = test::run_command("UNTANGLE_ISA=sse9 " + std::string(UNTANGLE_BINARY) + " run " + graph + " --cache " +
                                     (dir / "cache-bad"));
  CHECK(bad.code == 1);
  CHECK(bad.out.find("UNTANGLE_ISA=sse9: expected generic, avx2 or avx512") != std::string::npos);
}

TEST_CASE("kernels: the sigmoid is within a few ulp of the exact one, and the same bits on every instruction set") {
  Rng rng(23);
  std::vector<float> x(10007);  // not a whole number of vectors: the tail too
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((2 * rng.uniform() - 1) * (i % 2 ? 10 : 100));
  x[0] = 0, x[1] = -0.0f, x[2] = 1000, x[3] = -1000, x[4] = std::nanf("");
  std::vector<float> first;
  for (const auto& entry : runnable()) {
    const auto& name = entry.first;
    const auto& set = entry.second;
    INFO(name);
    auto y = x;
    set->sigmoid(y.data(), y.size());
    CHECK(std::isnan(y[4]));
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (i == 4) continue;
      const double exact = 1 / (1 + std::exp(-double(x[i])));
      // 4 ulp of the result, or of the smallest normal float where e^-x saturates
      const double ulp = std::max(double(std::nextafter(float(exact), 2.0f)) - float(exact), 1.2e-38);
      REQUIRE_MESSAGE(std::abs(y[i] - exact) <= 4 * ulp, "sigmoid(" << x[i] << ") = " << y[i] << ", exactly " << exact);
    }
    if (first.empty()) first = y;
    CHECK(same_bits(y, first));
  }
}
