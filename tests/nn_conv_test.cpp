#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "nodes/nn/conv2d.h"
#include "nodes/nn/maxpool2d.h"

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
  for (const Case c : {Case{6, 6, 3, 2, 0}, Case{5, 7, 2, 3, 2}, Case{5, 5, 2, 2, 1}}) {  // the last two overlap
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
