// The machine's single-precision matrix-product peak as OpenBLAS reaches it, for
// tools/bench/train to set the training's GFLOP/s against. Square products of size N on 1 and
// on all cores, best of R; the environment (OPENBLAS_CORETYPE, ...) is used as it is.
//
// usage: sgemm_peak [N] [R]; prints "threads T: G GFLOP/s" lines and "core: NAME".
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2048, repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<float> a(std::size_t(n) * n), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) * 1e-3f, b[i] = float(i % 5) * 1e-3f;
  std::printf("core: %s\n", openblas_get_corename());
  for (int threads : {1, cores}) {
    openblas_set_num_threads(threads);
    double best = 0;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.data(), n, b.data(), n, 0, c.data(), n);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (2.0 * n * n * n / s / 1e9 > best) best = 2.0 * n * n * n / s / 1e9;
    }
    std::printf("threads %d: %.1f GFLOP/s\n", threads, best);
    if (cores == 1) break;
  }
}
