#include <doctest/doctest.h>

#include <cblas.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nodes/numeric/gemm.h"

using namespace untangle::num;

namespace {


// The definition in gemm.h, written out: one fma per p, in order.
template <class T>
void chain(const GemmShape& s, const T* a, const T* b, T* c) {
  for (std::size_t i = 0; i < s.m; ++i)
    for (std::size_t j = 0; j < s.n; ++j) {
      T acc = s.accumulate ? c[i * s.ldc + j] : T(0);
      for (std::size_t p = 0; p < s.k; ++p) {
        const T x = s.ta == Op::none ? a[i * s.lda + p] : a[p * s.lda + i];
        const T y = s.tb == Op::none ? b[p * s.ldb + j] : b[j * s.ldb + p];
        acc = std::fma(x, y, acc);
      }
      c[i * s.ldc + j] = acc;
    }
}

template <class T>
std::vector<T> random(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<T> d;
  std::vector<T> v(n);
  for (T& x : v) x = d(rng);
  return v;
}

// A product's operands laid out as the shape says, rows `pad` longer than they need be.
template <class T>
struct Problem {
  GemmShape s;
  std::vector<T> a, b, c;
  Problem(GemmShape shape, std::size_t pad, std::mt19937& rng) : s(shape) {
    const std::size_t a_rows = s.ta == Op::none ? s.m : s.k, b_rows = s.tb == Op::none ? s.k : s.n;
    s.lda = (s.ta == Op::none ? s.k : s.m) + pad;
    s.ldb = (s.tb == Op::none ? s.n : s.k) + pad;
    s.ldc = s.n + pad;
    a = random<T>(a_rows * s.lda + 1, rng);
    b = random<T>(b_rows * s.ldb + 1, rng);
    c = random<T>(s.m * s.ldc + 1, rng);
  }
};

template <class T>
bool same_bits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

std::string describe(const GemmShape& s) {
  return std::string(s.ta == Op::transpose ? "Aᵀ" : "A") + (s.tb == Op::transpose ? "·Bᵀ" : "·B") + " m=" +
         std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) + " lda=" +
         std::to_string(s.lda) + " ldb=" + std::to_string(s.ldb) + " ldc=" + std::to_string(s.ldc) +
         (s.accumulate ? " +=" : " =");
}

// Sizes around every tile (4, 6, 12 rows; 4, 8, 16, 32 columns) and block (144, 192, 256 rows
// and depths, 512 and 1024 columns) edge of the three sets.
const std::size_t kSizes[] = {0, 1, 2, 3, 5, 7, 11, 13, 16, 17, 31, 33, 47, 64, 97, 131, 257};

template <class T>
void every_isa_is_the_chain() {
  std::mt19937 rng(7);
  std::size_t cases = 0;
  for (Op ta : {Op::none, Op::transpose})
    for (Op tb : {Op::none, Op::transpose})
      for (std::size_t m : kSizes)
        for (std::size_t n : kSizes)
          for (std::size_t k : {0, 1, 3, 17, 64, 130, 257, 520}) {
            // The full cross product would take minutes; a stride through it reaches every size.
            if ((m * 7 + n * 3 + k + static_cast<std::size_t>(ta) * 5 + static_cast<std::size_t>(tb)) % 4 != 0) continue;
            const bool accumulate = (m + n + k) % 2 == 1;
            Problem<T> p({ta, tb, m, n, k, 0, 0, 0, accumulate}, (m + k) % 3, rng);
            std::vector<T> want = p.c;
            chain(p.s, p.a.data(), p.b.data(), want.data());
            for (Isa isa : runnable_isas()) {
              std::vector<T> got = p.c;
              gemm(isa, p.s, p.a.data(), p.b.data(), got.data());
              INFO(isa_name(isa), " ", describe(p.s));
              REQUIRE(same_bits(got, want));
            }
            ++cases;
          }
  CHECK(cases > 500);
}

}  // namespace

TEST_CASE("gemm: every instruction set gives the bits of the plain chain, float") { every_isa_is_the_chain<float>(); }
TEST_CASE("gemm: every instruction set gives the bits of the plain chain, double") { every_isa_is_the_chain<double>(); }

TEST_CASE("gemm: the dense layers' and the projections' shapes, on every instruction set") {
  std::mt19937 rng(11);
  const GemmShape shapes[] = {
      {Op::none, Op::none, 50, 100, 784, 0, 0, 0, true},          {Op::transpose, Op::none, 784, 100, 50, 0, 0, 0, true},
      {Op::none, Op::transpose, 50, 100, 10, 0, 0, 0, false},      {Op::none, Op::none, 50, 10, 784, 0, 0, 0, true},
      {Op::none, Op::none, 50, 100, 3136, 0, 0, 0, true},          {Op::none, Op::transpose, 50, 3136, 100, 0, 0, 0, false},
      {Op::transpose, Op::none, 3136, 100, 50, 0, 0, 0, true},
  };
  for (const GemmShape& s : shapes) {
    Problem<float> p(s, 0, rng);
    std::vector<float> want = p.c;
    chain(p.s, p.a.data(), p.b.data(), want.data());
    for (Isa isa : runnable_isas()) {
      std::vector<float> got = p.c;
      gemm(isa, p.s, p.a.data(), p.b.data(), got.data());
      INFO(isa_name(isa), " ", describe(p.s));
      CHECK(same_bits(got, want));
    }
  }
  Problem<double> p({Op::none, Op::transpose, 128, 2048, 50, 0, 0, 0, false}, 0, rng);
  std::vector<double> want = p.c;
  chain(p.s, p.a.data(), p.b.data(), want.data());
  for (Isa isa : runnable_isas()) {
    std::vector<double> got = p.c;
    gemm(isa, p.s, p.a.data(), p.b.data(), got.data());
    INFO(isa_name(isa));
    CHECK(same_bits(got, want));
  }
}

TEST_CASE("gemm: agrees with OpenBLAS within rounding") {
  std::mt19937 rng(3);
  for (Op ta : {Op::none, Op::transpose})
    for (Op tb : {Op::none, Op::transpose}) {
      Problem<float> pf({ta, tb, 61, 83, 300, 0, 0, 0, true}, 5, rng);
      Problem<double> pd({ta, tb, 61, 83, 300, 0, 0, 0, false}, 5, rng);
      std::vector<float> want_f = pf.c, got_f = pf.c;
      std::vector<double> want_d = pd.c, got_d = pd.c;
      const auto t = [](Op o) { return o == Op::none ? CblasNoTrans : CblasTrans; };
      cblas_sgemm(CblasRowMajor, t(ta), t(tb), 61, 83, 300, 1.0f, pf.a.data(), int(pf.s.lda), pf.b.data(),
                  int(pf.s.ldb), 1.0f, want_f.data(), int(pf.s.ldc));
      cblas_dgemm(CblasRowMajor, t(ta), t(tb), 61, 83, 300, 1.0, pd.a.data(), int(pd.s.lda), pd.b.data(),
                  int(pd.s.ldb), 0.0, want_d.data(), int(pd.s.ldc));
      gemm(pf.s, pf.a.data(), pf.b.data(), got_f.data());
      gemm(pd.s, pd.a.data(), pd.b.data(), got_d.data());
      // Both are sums of 300 products of unit normals (and C): errors of a few ε·√k·|x||y|.
      double worst_f = 0, worst_d = 0;
      for (std::size_t i = 0; i < 61; ++i)
        for (std::size_t j = 0; j < 83; ++j) {
          worst_f = std::max(worst_f, double(std::abs(got_f[i * pf.s.ldc + j] - want_f[i * pf.s.ldc + j])));
          worst_d = std::max(worst_d, std::abs(got_d[i * pd.s.ldc + j] - want_d[i * pd.s.ldc + j]));
        }
      INFO(describe(pf.s));
      CHECK(worst_f < 300 * 1.2e-7 * 4);
      CHECK(worst_d < 300 * 2.3e-16 * 4);
      CHECK(worst_f > 0);  // a different order of the sum: the same numbers would mean OpenBLAS was not what ran
    }
}

TEST_CASE("gemm: parallel_gemm gives gemm's bits on any number of threads") {
  std::mt19937 rng(5);
  const GemmShape shapes[] = {{Op::none, Op::none, 301, 700, 97, 0, 0, 0, true},
                              {Op::transpose, Op::transpose, 419, 263, 130, 0, 0, 0, false},
                              {Op::none, Op::transpose, 128, 2048, 50, 0, 0, 0, false}};
  for (const GemmShape& s : shapes) {
    Problem<double> pd(s, 3, rng);
    Problem<float> pf(s, 1, rng);
    std::vector<double> want_d = pd.c;
    std::vector<float> want_f = pf.c;
    gemm(pd.s, pd.a.data(), pd.b.data(), want_d.data());
    gemm(pf.s, pf.a.data(), pf.b.data(), want_f.data());
    for (int threads : {1, 2, 3, 8}) {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
      std::vector<double> got_d = pd.c;
      std::vector<float> got_f = pf.c;
      parallel_gemm(pd.s, pd.a.data(), pd.b.data(), got_d.data());
      parallel_gemm(pf.s, pf.a.data(), pf.b.data(), got_f.data());
      INFO(threads, " threads ", describe(s));
      CHECK(same_bits(got_d, want_d));
      CHECK(same_bits(got_f, want_f));
    }
  }
}

TEST_CASE("gemm: many threads at once, each with its own product, get what one thread gets") {
  std::mt19937 rng(9);
  constexpr int kTasks = 64;
  std::vector<Problem<float>> problems;
  std::vector<std::vector<float>> want;
  for (int t = 0; t < kTasks; ++t) {
    problems.emplace_back(GemmShape{t % 2 ? Op::transpose : Op::none, t % 3 ? Op::none : Op::transpose,
                                    std::size_t(20 + t), std::size_t(50 + 3 * t), std::size_t(300 - t), 0, 0, 0, t % 2 == 0},
                          std::size_t(t % 4), rng);
    want.push_back(problems.back().c);
    chain(problems.back().s, problems.back().a.data(), problems.back().b.data(), want.back().data());
  }
  std::vector<std::vector<float>> got(kTasks);
  for (int round = 0; round < 3; ++round) {
    tbb::parallel_for(0, kTasks, [&](int t) {
      got[t] = problems[t].c;
      gemm(problems[t].s, problems[t].a.data(), problems[t].b.data(), got[t].data());
    });
    std::vector<std::thread> threads;  // and from threads of their own, outside TBB
    std::vector<std::vector<float>> got2(kTasks);
    for (int w = 0; w < 4; ++w)
      threads.emplace_back([&, w] {
        for (int t = w; t < kTasks; t += 4) {
          got2[t] = problems[t].c;
          gemm(problems[t].s, problems[t].a.data(), problems[t].b.data(), got2[t].data());
        }
      });
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kTasks; ++t) {
      INFO("task ", t, " round ", round);
      CHECK(same_bits(got[t], want[t]));
      CHECK(same_bits(got2[t], want[t]));
    }
  }
}

TEST_CASE("gemm: gram is the chain over the rows on every instruction set and thread count, exactly symmetric") {
  std::mt19937 rng(13);
  // d around the panels (4, 8, 16 columns) and n around the slabs of rows (up to 256).
  for (std::size_t d : {1, 5, 17, 127, 128, 129, 300})
    for (std::size_t n : {0, 1, 255, 257, 1030}) {
      if (d == 300 && n < 1030) continue;
      const std::size_t ldx = d + d % 3;
      const std::vector<double> x = random<double>(n * ldx + 1, rng);
      std::vector<double> want(d * d);
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) {
          double acc = 0;
          for (std::size_t r = 0; r < n; ++r) acc = std::fma(x[r * ldx + i], x[r * ldx + j], acc);
          want[i * d + j] = acc;
        }
      for (Isa isa : runnable_isas())
        for (int threads : {1, 2, 5}) {
          tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
          std::vector<double> got(d * d, -1.0);
          gram(isa, n, d, x.data(), ldx, got.data());
          INFO(isa_name(isa), " d=", d, " n=", n, " threads=", threads);
          CHECK(same_bits(got, want));
          bool symmetric = true;
          for (std::size_t i = 0; i < d; ++i)
            for (std::size_t j = 0; j < d; ++j)
              symmetric = symmetric && std::memcmp(&got[i * d + j], &got[j * d + i], sizeof(double)) == 0;
          CHECK(symmetric);
        }
    }
  std::vector<double> x(12), c(9, -1.0);
  CHECK_THROWS_AS(gram(4, 3, x.data(), 2, c.data()), std::invalid_argument);
}

TEST_CASE("gemm: bad leading dimensions and an instruction set the CPU lacks are refused") {
  std::vector<float> a(100), b(100), c(100);
  CHECK_THROWS_AS(gemm(GemmShape{Op::none, Op::none, 4, 4, 5, 4, 4, 4, false}, a.data(), b.data(), c.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(GemmShape{Op::none, Op::transpose, 4, 4, 5, 5, 4, 4, false}, a.data(), b.data(), c.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(GemmShape{Op::none, Op::none, 4, 6, 5, 5, 6, 5, false}, a.data(), b.data(), c.data()),
                  std::invalid_argument);
  for (Isa isa : {Isa::avx2, Isa::avx512})
    if (!runs(isa))
      CHECK_THROWS_AS(gemm(isa, GemmShape{Op::none, Op::none, 2, 2, 2, 2, 2, 2, false}, a.data(), b.data(), c.data()),
                      std::invalid_argument);
}
