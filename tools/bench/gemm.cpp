// The products the ops make, timed on one thread: by numeric/gemm (`bench_gemm ours`) or by
// OpenBLAS (`bench_gemm openblas`, its kernels as OPENBLAS_CORETYPE or its own detection
// chooses). tools/bench/gemm runs both and sets them side by side.
//
// Prints "isa: NAME" or "core: NAME", then one "model|shape|weight|flops|GFLOP/s" line per shape,
// best of several batches of repeats.
#include <cblas.h>
#include <tbb/global_control.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nodes/numeric/gemm.h"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

using namespace untangle::num;

namespace {

struct Case {
  const char* model;
  const char* label;
  bool f64, ta, tb;
  std::size_t m, n, k;
  bool accumulate;
  int weight;     // how often the shape comes per chunk of 50 samples (per call for the rest)
  bool gram = false;  // XᵀX of an n×d matrix: m = n = d, k = the rows
};

// The dense layers as nodes/nn/dense.cpp calls them on a chunk of 50 samples: forward
// y += x·W, weight gradient dW += xᵀ·dz, input gradient dx = dz·Wᵀ (not for the first layer).
const Case kCases[] = {
    {"mlp", "fwd 50x100x784", false, false, false, 50, 100, 784, true, 1},
    {"mlp", "dW T 784x100x50", false, true, false, 784, 100, 50, true, 1},
    {"mlp", "fwd 50x10x100", false, false, false, 50, 10, 100, true, 1},
    {"mlp", "dW T 100x10x50", false, true, false, 100, 10, 50, true, 1},
    {"mlp", "dx 50x100x10 T", false, false, true, 50, 100, 10, false, 1},
    {"softmax", "fwd 50x10x784", false, false, false, 50, 10, 784, true, 1},
    {"softmax", "dW T 784x10x50", false, true, false, 784, 10, 50, true, 1},
    {"cnn", "fwd 50x100x3136", false, false, false, 50, 100, 3136, true, 1},
    {"cnn", "dW T 3136x100x50", false, true, false, 3136, 100, 50, true, 1},
    {"cnn", "dx 50x3136x100 T", false, false, true, 50, 3136, 100, false, 1},
    {"cnn", "fwd 50x10x100", false, false, false, 50, 10, 100, true, 1},
    {"cnn", "dW T 100x10x50", false, true, false, 100, 10, 50, true, 1},
    {"cnn", "dx 50x100x10 T", false, false, true, 50, 100, 10, false, 1},
    {"tsne", "d 128x2048x50 T", true, false, true, 128, 2048, 50, false, 1},
    {"pca", "d gram 784 of 70000", true, true, false, 784, 784, 70000, false, 1, true},
    {"pca", "d proj 70000x50x784 T", true, false, true, 70000, 50, 784, false, 1},
};

template <class T>
struct Operands {
  std::vector<T> a, b, c;
  Operands(const Case& s, std::mt19937& rng) {
    std::uniform_real_distribution<T> d(-1, 1);
    a.resize(s.m * s.k), b.resize(s.gram ? 0 : s.k * s.n), c.resize(s.m * s.n);
    if (s.gram) a.resize(s.k * s.m);
    for (T& x : a) x = d(rng);
    for (T& x : b) x = d(rng);
    for (T& x : c) x = d(rng);
  }
};

// The calling thread's CPU time: both sides run on it alone (TBB and OpenBLAS limited to one
// thread), and on a machine shared with other work the time it waits for the core is not its.
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Best GFLOP/s of many short batches. The products' count is the same for both sides
// (2·m·n·k, the Gram matrix's too, though either side computes only half of it).
double best_rate(const Case& s, const std::function<void()>& run) {
  const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  run();  // warm: pages touched, buffers sized
  int reps = 1;
  for (;;) {
    const double t0 = cpu_seconds();
    for (int r = 0; r < reps; ++r) run();
    if (cpu_seconds() - t0 > 0.002 || reps > (1 << 20)) break;
    reps *= 2;
  }
  const int batches = flops > 1e10 ? 3 : flops > 1e9 ? 10 : 60;
  double best = 0;
  for (int b = 0; b < batches; ++b) {
    const double t0 = cpu_seconds();
    for (int r = 0; r < reps; ++r) run();
    const double sec = (cpu_seconds() - t0) / reps;
    if (flops / sec / 1e9 > best) best = flops / sec / 1e9;
  }
  return best;
}

CBLAS_TRANSPOSE t(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

template <class T>
double ours(const Case& s, Operands<T>& o) {
  if constexpr (sizeof(T) == 8)
    if (s.gram) return best_rate(s, [&] { gram(s.k, s.m, o.a.data(), s.m, o.c.data()); });
  const GemmShape g{s.ta ? Op::transpose : Op::none, s.tb ? Op::transpose : Op::none, s.m, s.n, s.k,
                    s.ta ? s.m : s.k, s.tb ? s.k : s.n, s.n, s.accumulate};
  return best_rate(s, [&] { gemm(g, o.a.data(), o.b.data(), o.c.data()); });
}

double theirs(const Case& s, Operands<float>& o) {
  return best_rate(s, [&] {
    cblas_sgemm(CblasRowMajor, t(s.ta), t(s.tb), int(s.m), int(s.n), int(s.k), 1.0f, o.a.data(), int(s.ta ? s.m : s.k),
                o.b.data(), int(s.tb ? s.k : s.n), s.accumulate ? 1.0f : 0.0f, o.c.data(), int(s.n));
  });
}

double theirs(const Case& s, Operands<double>& o) {
  if (s.gram)  // OpenBLAS's own symmetric rank-k update, the upper triangle only
    return best_rate(s, [&] {
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, int(s.m), int(s.k), 1.0, o.a.data(), int(s.m), 0.0,
                  o.c.data(), int(s.m));
    });
  return best_rate(s, [&] {
    cblas_dgemm(CblasRowMajor, t(s.ta), t(s.tb), int(s.m), int(s.n), int(s.k), 1.0, o.a.data(), int(s.ta ? s.m : s.k),
                o.b.data(), int(s.tb ? s.k : s.n), s.accumulate ? 1.0 : 0.0, o.c.data(), int(s.n));
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string who = argc > 1 ? argv[1] : "";
  bool quick = false;
  std::string only;
  for (int i = 2; i < argc; ++i) std::strcmp(argv[i], "--quick") == 0 ? void(quick = true) : void(only = argv[i]);
  if (who != "ours" && who != "openblas") {
    std::fprintf(stderr, "usage: bench_gemm ours|openblas [--quick] [MODEL]\n");
    return 2;
  }
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  openblas_set_num_threads(1);
  if (who == "ours") std::printf("isa: %s\n", isa_name(active_isa()));
  else std::printf("core: %s\n", openblas_get_corename());
  std::fflush(stdout);
  std::mt19937 rng(1);
  for (const Case& s : kCases) {
    if ((quick && std::string(s.model) == "pca") || (!only.empty() && only != s.model)) continue;
    double rate;
    if (s.f64) {
      Operands<double> o(s, rng);
      rate = who == "ours" ? ours(s, o) : theirs(s, o);
    } else {
      Operands<float> o(s, rng);
      rate = who == "ours" ? ours(s, o) : theirs(s, o);
    }
    std::printf("%s|%s|%d|%.0f|%.2f\n", s.model, s.label, s.weight, 2.0 * double(s.m) * double(s.n) * double(s.k), rate);
    std::fflush(stdout);
  }
}
