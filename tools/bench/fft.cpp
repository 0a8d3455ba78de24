// numeric/fft's RealFft2d against FFTW (FFTW_ESTIMATE, float, with the SIMD codelets it picks
// for this CPU: what tsne_fft used before) on the grids the t-SNE fft method transforms, one
// thread each: a forward and an inverse per run, the two alternating run by run, the median of
// each. Built and run by tools/bench/fft; see there for the options.
#include <fftw3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "nodes/numeric/fft.h"

using untangle::num::RealFft2d;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class A, class B>
double relative_error(const A* a, const B* b, std::size_t n) {
  double d = 0, s = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::complex<double> x(a[k]), y(b[k]);
    d += std::norm(x - y), s += std::norm(y);
  }
  return std::sqrt(d / s);
}

}  // namespace

int main(int argc, char** argv) {
  std::string sizes = "400x400,800x800,1120x1120,1600x1600,2000x1600";
  int repeats = 9;
  double limit = 1.0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) sizes = argv[++i];
    else if (a == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else if (a == "--limit" && i + 1 < argc) limit = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "bench_fft: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::printf("isa %s, median of %d runs of forward + inverse, one thread\n",
              untangle::num::isa_name(untangle::num::active_isa()), repeats);
  std::printf("%-11s %10s %10s %8s %10s\n", "size", "ours ms", "fftw ms", "ratio", "rel diff");
  bool ok = true;
  std::size_t at = 0;
  while (at < sizes.size()) {
    const std::size_t comma = std::min(sizes.find(',', at), sizes.size());
    const std::string size = sizes.substr(at, comma - at);
    at = comma + 1;
    std::size_t rows = 0, cols = 0;
    if (std::sscanf(size.c_str(), "%zux%zu", &rows, &cols) != 2 || rows == 0 || cols == 0) {
      std::fprintf(stderr, "bench_fft: bad size '%s' (expected ROWSxCOLS)\n", size.c_str());
      return 2;
    }
    const std::size_t h = cols / 2 + 1, n = rows * cols;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1, 1);
    float* x = fftwf_alloc_real(n);
    float* back = fftwf_alloc_real(n);
    fftwf_complex* spec = fftwf_alloc_complex(rows * h);
    fftwf_complex* tmp = fftwf_alloc_complex(rows * h);
    for (std::size_t k = 0; k < n; ++k) x[k] = d(rng);
    fftwf_plan fwd = fftwf_plan_dft_r2c_2d(int(rows), int(cols), x, spec, FFTW_ESTIMATE);
    fftwf_plan inv = fftwf_plan_dft_c2r_2d(int(rows), int(cols), tmp, back, FFTW_ESTIMATE);
    const RealFft2d ours(rows, cols);
    std::vector<std::complex<float>> our_spec(rows * h);
    std::vector<float> our_back(n);

    std::vector<double> t_ours, t_fftw;
    for (int r = 0; r <= repeats; ++r) {  // run 0 warms the caches and is not counted
      auto t0 = Clock::now();
      ours.forward(x, our_spec.data());
      ours.inverse(our_spec.data(), our_back.data());
      auto t1 = Clock::now();
      fftwf_execute(fwd);
      auto t2 = Clock::now();
      std::memcpy(tmp, spec, rows * h * sizeof(fftwf_complex));  // c2r overwrites its input
      auto t3 = Clock::now();
      fftwf_execute(inv);
      auto t4 = Clock::now();
      if (r > 0) t_ours.push_back(seconds(t0, t1)), t_fftw.push_back(seconds(t1, t2) + seconds(t3, t4));
    }
    const auto* fs = reinterpret_cast<const std::complex<float>*>(spec);
    const double diff = std::max(relative_error(our_spec.data(), fs, rows * h), relative_error(our_back.data(), back, n));
    const double mo = median(t_ours), mf = median(t_fftw), ratio = mo / mf;
    std::printf("%-11s %10.3f %10.3f %8.3f %10.2e\n", size.c_str(), 1e3 * mo, 1e3 * mf, ratio, diff);
    std::fflush(stdout);
    if (!(diff < 1e-6)) std::printf("  results disagree beyond float tolerance\n"), ok = false;
    if (ratio > limit) ok = false;
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(inv);
    fftwf_free(x), fftwf_free(back), fftwf_free(spec), fftwf_free(tmp);
  }
  return ok ? 0 : 1;
}
