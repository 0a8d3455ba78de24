// The 2-D real FFT against a direct DFT in double, against FFTW, against itself on every
// instruction set and on many threads at once.
#include <doctest/doctest.h>
#include <fftw3.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "nodes/numeric/fft.h"

using namespace untangle::num;
using cd = std::complex<double>;
using cf = std::complex<float>;

namespace {


std::vector<float> random_grid(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// The definition, separably: each row's sums, then each column's, in double with libm's cos
// and sin. sign −1 is the forward transform.
std::vector<cd> direct_dft(const std::vector<cd>& x, std::size_t rows, std::size_t cols, int sign) {
  const double tau = 2 * 3.14159265358979323846;
  std::vector<cd> t(rows * cols), y(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t v = 0; v < cols; ++v) {
      cd s = 0;
      for (std::size_t c = 0; c < cols; ++c) s += x[r * cols + c] * std::polar(1.0, sign * tau * double(v * c % cols) / cols);
      t[r * cols + v] = s;
    }
  for (std::size_t u = 0; u < rows; ++u)
    for (std::size_t v = 0; v < cols; ++v) {
      cd s = 0;
      for (std::size_t r = 0; r < rows; ++r) s += t[r * cols + v] * std::polar(1.0, sign * tau * double(u * r % rows) / rows);
      y[u * cols + v] = s;
    }
  return y;
}

// ‖a − b‖ / ‖b‖ over complex or real arrays.
template <class A, class B>
double relative_error(const A& a, const B& b) {
  double d = 0, s = 0;
  for (std::size_t k = 0; k < b.size(); ++k) d += std::norm(cd(a[k]) - cd(b[k])), s += std::norm(cd(b[k]));
  return std::sqrt(d / s);
}

std::vector<cf> forward(const RealFft2d& f, const std::vector<float>& x) {
  std::vector<cf> out(f.rows() * f.spectrum_cols());
  f.forward(x.data(), out.data());
  return out;
}

std::vector<float> inverse(const RealFft2d& f, const std::vector<cf>& x) {
  std::vector<float> out(f.rows() * f.cols());
  f.inverse(x.data(), out.data());
  return out;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Small sizes with every factor, odd and even, one and both dimensions at once; rows past a
// multiple of the lane counts (4, 8, 16) and odd numbers of spectrum columns.
const std::pair<std::size_t, std::size_t> kSmall[] = {
    {1, 1}, {1, 2}, {2, 1}, {1, 7},  {3, 5},   {5, 3},  {7, 7},  {4, 6},   {6, 10},  {8, 14},  {12, 15},
    {9, 25}, {49, 2}, {16, 20}, {30, 42}, {14, 105}, {210, 6}, {6, 210}, {35, 64}, {27, 32}, {64, 1}, {16, 343}};

}  // namespace

TEST_CASE("fft: forward and inverse agree with a direct DFT in double on small sizes of every factor") {
  for (auto entry : kSmall) {
    const auto rows = entry.first;
    const auto cols = entry.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const RealFft2d f(rows, cols);
    REQUIRE(f.spectrum_cols() == cols / 2 + 1);
    const auto x = random_grid(rows * cols, unsigned(rows * 1000 + cols));
    const std::vector<cd> xd(x.begin(), x.end());
    const auto full = direct_dft(xd, rows, cols, -1);
    const std::size_t h = cols / 2 + 1;
    std::vector<cd> want(rows * h);
    for (std::size_t u = 0; u < rows; ++u)
      for (std::size_t v = 0; v < h; ++v) want[u * h + v] = full[u * cols + v];
    const auto got = forward(f, x);
    CHECK(relative_error(got, want) < 1e-6);

    // The inverse of the exact spectrum (rounded to float) is rows·cols times x.
    std::vector<cf> spectrum(want.begin(), want.end());
    const auto back = inverse(f, spectrum);
    std::vector<double> scaled(rows * cols);
    for (std::size_t k = 0; k < scaled.size(); ++k) scaled[k] = double(rows * cols) * x[k];
    CHECK(relative_error(back, scaled) < 1e-6);
  }
}

TEST_CASE("fft: the inverse agrees with a direct inverse DFT of a Hermitian spectrum") {
  // A spectrum made Hermitian by construction, not by a forward transform: the inverse's sums
  // are checked on their own.
  for (auto entry : {std::pair<std::size_t, std::size_t>{6, 10}, {15, 14}, {8, 21}, {20, 36}}) {
    const auto rows = entry.first;
    const auto cols = entry.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const auto noise = random_grid(2 * rows * cols, unsigned(rows + 7 * cols));
    std::vector<cd> full(rows * cols);
    for (std::size_t k = 0; k < full.size(); ++k) full[k] = cd(noise[2 * k], noise[2 * k + 1]);
    for (std::size_t u = 0; u < rows; ++u)  // X[u][v] and conj X[-u][-v] averaged: the DFT of something real
      for (std::size_t v = 0; v < cols; ++v) {
        const std::size_t a = u * cols + v, b = (rows - u) % rows * cols + (cols - v) % cols;
        if (a > b) continue;
        const cd m = (full[a] + std::conj(full[b])) / 2.0;
        full[a] = m, full[b] = std::conj(m);
      }
    const auto want = direct_dft(full, rows, cols, +1);
    const std::size_t h = cols / 2 + 1;
    std::vector<cf> spectrum(rows * h);
    for (std::size_t u = 0; u < rows; ++u)
      for (std::size_t v = 0; v < h; ++v) spectrum[u * h + v] = cf(full[u * cols + v]);
    const auto got = inverse(RealFft2d(rows, cols), spectrum);
    std::vector<double> real(want.size());
    for (std::size_t k = 0; k < want.size(); ++k) {
      REQUIRE(std::abs(want[k].imag()) < 1e-9 * rows * cols);
      real[k] = want[k].real();
    }
    CHECK(relative_error(got, real) < 1e-6);
  }
}

TEST_CASE("fft: agrees with FFTW's r2c and c2r on the sizes t-SNE uses") {
  for (auto entry : {std::pair<std::size_t, std::size_t>{400, 400}, {1120, 1120}, {2000, 1600}, {126, 750}, {405, 98}}) {
    const auto rows = entry.first;
    const auto cols = entry.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const std::size_t h = cols / 2 + 1;
    auto x = random_grid(rows * cols, unsigned(rows ^ cols));
    std::vector<cf> want(rows * h);
    fftwf_plan p = fftwf_plan_dft_r2c_2d(int(rows), int(cols), x.data(), reinterpret_cast<fftwf_complex*>(want.data()),
                                         FFTW_ESTIMATE);
    fftwf_execute(p);
    fftwf_destroy_plan(p);
    const RealFft2d f(rows, cols);
    const auto got = forward(f, x);
    CHECK(relative_error(got, want) < 5e-7);  // each within ~2.5e-7 of the exact spectrum

    std::vector<float> want_back(rows * cols);
    auto spectrum = want;  // c2r overwrites its input
    p = fftwf_plan_dft_c2r_2d(int(rows), int(cols), reinterpret_cast<fftwf_complex*>(spectrum.data()), want_back.data(),
                              FFTW_ESTIMATE);
    fftwf_execute(p);
    fftwf_destroy_plan(p);
    const auto back = inverse(f, want);
    CHECK(relative_error(back, want_back) < 5e-7);
  }
}

TEST_CASE("fft: as accurate as FFTW against a direct DFT in double") {
  const std::size_t rows = 210, cols = 240, h = cols / 2 + 1;
  auto x = random_grid(rows * cols, 5);
  const auto full = direct_dft(std::vector<cd>(x.begin(), x.end()), rows, cols, -1);
  std::vector<cd> exact(rows * h);
  for (std::size_t u = 0; u < rows; ++u)
    for (std::size_t v = 0; v < h; ++v) exact[u * h + v] = full[u * cols + v];
  std::vector<cf> theirs(rows * h);
  fftwf_plan p = fftwf_plan_dft_r2c_2d(int(rows), int(cols), x.data(), reinterpret_cast<fftwf_complex*>(theirs.data()),
                                       FFTW_ESTIMATE);
  fftwf_execute(p);
  fftwf_destroy_plan(p);
  const double ours = relative_error(forward(RealFft2d(rows, cols), x), exact), fftw = relative_error(theirs, exact);
  MESSAGE("relative error: ours " << ours << ", FFTW's " << fftw);
  CHECK(ours < 1.25 * fftw);
}

TEST_CASE("fft: inverse(forward(x)) is rows·cols times x, and the inverse leaves its input alone") {
  for (auto entry : {std::pair<std::size_t, std::size_t>{800, 800}, {210, 343}, {125, 48}}) {
    const auto rows = entry.first;
    const auto cols = entry.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const RealFft2d f(rows, cols);
    const auto x = random_grid(rows * cols, 3);
    const auto spectrum = forward(f, x);
    const auto copy = spectrum;
    const auto back = inverse(f, spectrum);
    CHECK(same_bits(spectrum, copy));
    std::vector<double> scaled(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) scaled[k] = double(rows * cols) * x[k];
    CHECK(relative_error(back, scaled) < 1e-6);
  }
}

TEST_CASE("fft: every instruction set the CPU runs gives the same bits") {
  const auto isas = runnable_isas();
  MESSAGE("instruction sets compared: " << isas.size());
  for (auto entry : {std::pair<std::size_t, std::size_t>{30, 42}, {105, 98}, {35, 15}, {400, 400}, {16, 343}, {1120, 350}}) {
    const auto rows = entry.first;
    const auto cols = entry.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const auto x = random_grid(rows * cols, 11);
    const RealFft2d ref(rows, cols, Isa::generic);
    const auto spectrum = forward(ref, x);
    const auto back = inverse(ref, spectrum);
    for (Isa isa : isas) {
      CAPTURE(isa_name(isa));
      const RealFft2d f(rows, cols, isa);
      CHECK(same_bits(forward(f, x), spectrum));
      CHECK(same_bits(inverse(f, spectrum), back));
    }
  }
}

TEST_CASE("fft: one plan called from several threads at once gives each the bits it gives alone") {
  const RealFft2d f(240, 350);
  constexpr int kThreads = 4, kRounds = 5;
  std::vector<std::vector<float>> x;
  std::vector<std::vector<cf>> spectrum;
  std::vector<std::vector<float>> back;
  for (int t = 0; t < kThreads; ++t) {
    x.push_back(random_grid(240 * 350, unsigned(100 + t)));
    spectrum.push_back(forward(f, x[t]));
    back.push_back(inverse(f, spectrum[t]));
  }
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        if (!same_bits(forward(f, x[t]), spectrum[t])) ++wrong[t];
        if (!same_bits(inverse(f, spectrum[t]), back[t])) ++wrong[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) CHECK(wrong[t] == 0);
}

TEST_CASE("fft: sizes with a prime factor above 7, and 0, are refused with a reason") {
  auto error_of = [](std::size_t rows, std::size_t cols) -> std::string {
    try {
      RealFft2d f(rows, cols);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of(11, 4) == "RealFft2d: rows must be a product of 2, 3, 5 and 7, got 11");
  CHECK(error_of(4, 22) == "RealFft2d: cols must be a product of 2, 3, 5 and 7, got 22");
  CHECK(error_of(4, 26) == "RealFft2d: cols must be a product of 2, 3, 5 and 7, got 26");  // 13 after halving
  CHECK(error_of(0, 4) == "RealFft2d: rows must be at least 1");
  CHECK(error_of(4, 0) == "RealFft2d: cols must be at least 1");
  CHECK(error_of(2 * 3 * 5 * 7 * 11, 8).find("got 2310") != std::string::npos);
  CHECK(error_of(2 * 3 * 5 * 7, 4 * 9 * 25 * 49).empty());
  for (Isa isa : {Isa::avx2, Isa::avx512})
    if (!runs(isa)) CHECK_THROWS_AS(RealFft2d(4, 4, isa), std::invalid_argument);
}
