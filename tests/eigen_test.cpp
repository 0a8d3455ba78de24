#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "nodes/numeric/eigen.h"

// LAPACK's divide-and-conquer and QR drivers, the references (Fortran: column-major, which a
// symmetric matrix does not notice; the trailing lengths are gfortran's for the character arguments).
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info, std::size_t,
                        std::size_t);
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                       double* work, const int* lwork, int* info, std::size_t, std::size_t);

using namespace untangle::num;

namespace {

constexpr double eps = DBL_EPSILON;

// A fixed-seed generator of our own (splitmix64), uniform in [-1, 1).
struct Rng {
  std::uint64_t state;
  double uniform() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1p-52 - 1.0;
  }
};

std::vector<double> random_symmetric(std::size_t n, std::uint64_t seed) {
  Rng rng{seed};
  std::vector<double> a(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = rng.uniform();
  return a;
}

struct Lapack {
  std::vector<double> values, vectors;  // vectors column-major: vector j at [j·n, (j+1)·n)
};

Lapack dsyevd(const std::vector<double>& a, std::size_t n, bool with_vectors = true) {
  Lapack out{std::vector<double>(n), a};
  const int nn = static_cast<int>(n), lwork = static_cast<int>(1 + 6 * n + 2 * n * n), liwork = static_cast<int>(3 + 5 * n);
  std::vector<double> work(lwork);
  std::vector<int> iwork(liwork);
  int info = 0;
  dsyevd_(with_vectors ? "V" : "N", "U", &nn, out.vectors.data(), &nn, out.values.data(), work.data(), &lwork,
          iwork.data(), &liwork, &info, 1, 1);
  REQUIRE(info == 0);
  return out;
}

Lapack dsyev(const std::vector<double>& a, std::size_t n) {
  Lapack out{std::vector<double>(n), a};
  const int nn = static_cast<int>(n), lwork = static_cast<int>(3 * n + 64 * n);
  std::vector<double> work(lwork);
  int info = 0;
  dsyev_("V", "U", &nn, out.vectors.data(), &nn, out.values.data(), work.data(), &lwork, &info, 1, 1);
  REQUIRE(info == 0);
  return out;
}

// max row sum of |A|, the 1- and ∞-norm of a symmetric matrix
double norm1(const std::vector<double>& a, std::size_t n) {
  double best = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) s += std::abs(a[i * n + j]);
    best = std::max(best, s);
  }
  return best;
}

// How far the decomposition is from exact, in units of n·ε·‖A‖ (residual) and n·ε
// (orthogonality), with sums in extended precision so that the check's own rounding is
// negligible beside what it measures.
struct Quality {
  double residual = 0, orthogonality = 0;
};

Quality quality(const std::vector<double>& a, std::size_t n, const SymmetricEigen& r) {
  Quality q;
  const double an = norm1(a, n);
  const std::vector<double>& v = r.vectors;
  std::vector<long double> col(n);
  for (std::size_t j = 0; j < n; ++j) {
    long double worst = 0;
    for (std::size_t i = 0; i < n; ++i) {
      long double s = 0;
      for (std::size_t k = 0; k < n; ++k) s += static_cast<long double>(a[i * n + k]) * v[k * n + j];
      s -= static_cast<long double>(r.values[j]) * v[i * n + j];
      worst += s * s;
    }
    if (an > 0) q.residual = std::max(q.residual, static_cast<double>(std::sqrt(worst)) / (n * eps * an));
  }
  // VᵀV - I from the rows of V: G += vᵣᵀ·vᵣ, rows in order.
  std::vector<long double> g(n * n, 0.0L);
  for (std::size_t r0 = 0; r0 < n; ++r0) {
    const double* row = v.data() + r0 * n;
    for (std::size_t i = 0; i < n; ++i) {
      const long double x = row[i];
      long double* gi = g.data() + i * n;
      for (std::size_t j = 0; j < n; ++j) gi[j] += x * row[j];
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      q.orthogonality = std::max(q.orthogonality, static_cast<double>(std::abs(g[i * n + j] - (i == j ? 1.0L : 0.0L))) / (n * eps));
  return q;
}

// Checks the decomposition of a against LAPACK: ascending values, small residual and loss of
// orthogonality, each value within a few n·ε·‖A‖ of LAPACK's, and each vector whose value is
// well apart from its neighbours equal to LAPACK's up to sign, within the bound that gap gives.
void check_against_lapack(const std::vector<double>& a, std::size_t n, const SymmetricEigen& r) {
  REQUIRE(r.values.size() == n);
  REQUIRE(r.vectors.size() == n * n);
  for (std::size_t j = 1; j < n; ++j) CHECK(r.values[j - 1] <= r.values[j]);
  const Quality q = quality(a, n, r);
  CHECK(q.residual < 1.0);
  CHECK(q.orthogonality < 1.0);
  const Lapack ref = dsyevd(a, n), qr = dsyev(a, n);
  const double an = norm1(a, n);
  double worst_value = 0, worst_vector = 0;
  for (std::size_t j = 0; j < n; ++j) {
    worst_value = std::max(worst_value, std::abs(r.values[j] - ref.values[j]) / (n * eps * an));
    worst_value = std::max(worst_value, std::abs(r.values[j] - qr.values[j]) / (n * eps * an));
    double gap = std::numeric_limits<double>::infinity();
    if (j > 0) gap = std::min(gap, ref.values[j] - ref.values[j - 1]);
    if (j + 1 < n) gap = std::min(gap, ref.values[j + 1] - ref.values[j]);
    if (gap < 1e-3 * an) continue;
    double dot = 0;
    for (std::size_t i = 0; i < n; ++i) dot += r.vectors[i * n + j] * ref.vectors[j * n + i];
    const double sign = dot < 0 ? -1 : 1;
    double diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff = std::max(diff, std::abs(r.vectors[i * n + j] - sign * ref.vectors[j * n + i]));
    worst_vector = std::max(worst_vector, diff / (n * eps * an / gap));
  }
  CHECK(worst_value < 1.0);
  CHECK(worst_vector < 1.0);
  MESSAGE("n = " << n << ": residual " << q.residual << " n·ε·‖A‖, orthogonality " << q.orthogonality
                 << " n·ε, values vs LAPACK " << worst_value << " n·ε·‖A‖, vectors " << worst_vector << " n·ε·‖A‖/gap");
}

bool same_bits(const SymmetricEigen& x, const SymmetricEigen& y) {
  return x.values.size() == y.values.size() && x.vectors.size() == y.vectors.size() &&
         std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(double)) == 0 &&
         std::memcmp(x.vectors.data(), y.vectors.data(), x.vectors.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("symmetric_eigen: random symmetric matrices of sizes 1 to 300 agree with LAPACK") {
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, 64, 100, 150, 217, 300}) {
    CAPTURE(n);
    const std::vector<double> a = random_symmetric(n, 1000 + n);
    check_against_lapack(a, n, symmetric_eigen(a.data(), n));
  }
}

TEST_CASE("symmetric_eigen: a random symmetric matrix of 784 (MNIST's pixels) agrees with LAPACK") {
  const std::size_t n = 784;
  const std::vector<double> a = random_symmetric(n, 784);
  check_against_lapack(a, n, symmetric_eigen(a.data(), n));
}

TEST_CASE("symmetric_eigen: the tridiagonal matrix 2, -1 has eigenvalues 2 - 2cos(kπ/(n+1)) and sine eigenvectors") {
  const std::size_t n = 200;
  std::vector<double> a(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    a[i * n + i] = 2;
    if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
  }
  const SymmetricEigen r = symmetric_eigen(a.data(), n);
  const double pi = std::acos(-1.0), h = pi / (n + 1);
  const double norm = std::sqrt(2.0 / (n + 1));  // ‖(sin(jkh))_j‖ = √((n+1)/2)
  double worst_value = 0, worst_vector = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    const double lambda = 2 - 2 * std::cos(k * h), value = r.values[k - 1];
    worst_value = std::max(worst_value, std::abs(value - lambda));
    // Neighbouring eigenvalues are at least about 4·sin(h/2)·sin(h) ≈ h² apart at the ends.
    const double gap = std::min(k > 1 ? lambda - (2 - 2 * std::cos((k - 1) * h)) : 4.0,
                                k < n ? (2 - 2 * std::cos((k + 1) * h)) - lambda : 4.0);
    double dot = 0;
    for (std::size_t j = 0; j < n; ++j) dot += r.vectors[j * n + k - 1] * std::sin((j + 1) * k * h);
    const double sign = dot < 0 ? -1 : 1;
    double diff = 0;
    for (std::size_t j = 0; j < n; ++j)
      diff = std::max(diff, std::abs(r.vectors[j * n + k - 1] - sign * norm * std::sin((j + 1) * k * h)));
    worst_vector = std::max(worst_vector, diff * gap / (n * eps * 4));
  }
  CHECK(worst_value < 10 * eps * 4);  // ‖A‖ = 4
  CHECK(worst_vector < 1.0);
  MESSAGE("values within " << worst_value / eps << " ε of 2 - 2cos(kπ/(n+1)); vectors " << worst_vector << " n·ε·‖A‖/gap");
}

TEST_CASE("symmetric_eigen: a diagonal matrix gives its diagonal, sorted, exactly and the unit vectors") {
  const std::vector<double> diag = {3.5, -1, 0, 1e-300, -2e100, 3.5, 7, -0.25, 0, 1e-310};
  const std::size_t n = diag.size();
  std::vector<double> a(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) a[i * n + i] = diag[i];
  const SymmetricEigen r = symmetric_eigen(a.data(), n);
  std::vector<double> sorted = diag;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t j = 0; j < n; ++j) {
    CHECK(r.values[j] == sorted[j]);
    // column j is a unit vector e_i with diag[i] = values[j]
    std::size_t ones = 0, zeros = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = r.vectors[i * n + j];
      if (std::abs(x) == 1) {
        ++ones;
        CHECK(diag[i] == r.values[j]);
      } else if (x == 0) {
        ++zeros;
      }
    }
    CHECK(ones == 1);
    CHECK(zeros == n - 1);
  }
}

TEST_CASE("symmetric_eigen: n = 0, n = 1 and the zero matrix") {
  const SymmetricEigen empty = symmetric_eigen(nullptr, 0);
  CHECK(empty.values.empty());
  CHECK(empty.vectors.empty());
  const double one = -2.5;
  const SymmetricEigen single = symmetric_eigen(&one, 1);
  REQUIRE(single.values.size() == 1);
  CHECK(single.values[0] == -2.5);
  CHECK(std::abs(single.vectors[0]) == 1);
  const std::size_t n = 17;
  const std::vector<double> zero(n * n, 0.0);
  const SymmetricEigen z = symmetric_eigen(zero.data(), n);
  for (std::size_t j = 0; j < n; ++j) CHECK(z.values[j] == 0);
  const Quality q = quality(zero, n, z);
  CHECK(q.orthogonality == 0);
}

TEST_CASE("symmetric_eigen: repeated eigenvalues give an orthonormal basis of each eigenspace") {
  SUBCASE("J + I: n+1 once, 1 repeated n-1 times") {
    const std::size_t n = 50;
    std::vector<double> a(n * n, 1.0);
    for (std::size_t i = 0; i < n; ++i) a[i * n + i] = 2;
    const SymmetricEigen r = symmetric_eigen(a.data(), n);
    const double tol = n * eps * norm1(a, n);
    for (std::size_t j = 0; j + 1 < n; ++j) CHECK(std::abs(r.values[j] - 1) < tol);
    CHECK(std::abs(r.values[n - 1] - (n + 1)) < tol);
    check_against_lapack(a, n, r);
  }
  SUBCASE("two copies of one random block, interleaved: every eigenvalue twice") {
    const std::size_t h = 40, n = 2 * h;
    const std::vector<double> b = random_symmetric(h, 42);
    std::vector<double> a(n * n, 0.0);
    for (std::size_t i = 0; i < h; ++i)
      for (std::size_t j = 0; j < h; ++j) a[(2 * i) * n + 2 * j] = a[(2 * i + 1) * n + 2 * j + 1] = b[i * h + j];
    const SymmetricEigen r = symmetric_eigen(a.data(), n);
    const double an = norm1(a, n);
    for (std::size_t j = 0; j < h; ++j) CHECK(std::abs(r.values[2 * j] - r.values[2 * j + 1]) < n * eps * an);
    check_against_lapack(a, n, r);
  }
}

TEST_CASE("symmetric_eigen: PCA-like covariances with duplicated columns and rows and fewer points than dimensions") {
  // Centered data X (points × dims) with some columns copies of others and some rows copies of
  // others; C = XᵀX/(points-1) then has exact ties among its entries and one zero eigenvalue
  // per duplicated column, and at most (distinct points - 1) nonzero ones.
  auto covariance = [](std::size_t points, std::size_t dims, std::uint64_t seed) {
    Rng rng{seed};
    std::vector<double> x(points * dims);
    for (double& v : x) v = rng.uniform() * 3 + 1;
    for (std::size_t i = 0; i < points; ++i) {
      x[i * dims + dims - 1] = x[i * dims + 0];
      x[i * dims + dims - 2] = x[i * dims + 1];
      x[i * dims + dims - 3] = x[i * dims + 1];
    }
    for (std::size_t i = points / 2; i < points; i += 3)
      for (std::size_t j = 0; j < dims; ++j) x[i * dims + j] = x[(i - points / 2) * dims + j];
    for (std::size_t j = 0; j < dims; ++j) {
      double mean = 0;
      for (std::size_t i = 0; i < points; ++i) mean += x[i * dims + j];
      mean /= points;
      for (std::size_t i = 0; i < points; ++i) x[i * dims + j] -= mean;
    }
    std::vector<double> c(dims * dims, 0.0);
    for (std::size_t i = 0; i < points; ++i)
      for (std::size_t p = 0; p < dims; ++p)
        for (std::size_t q = 0; q < dims; ++q) c[p * dims + q] += x[i * dims + p] * x[i * dims + q];
    for (double& v : c) v /= static_cast<double>(points - 1);
    return c;
  };
  struct Case {
    std::size_t points, dims, zeros;
  };
  for (const Case& k : {Case{300, 60, 3}, Case{20, 60, 60 - (20 - 4 - 1)}}) {
    CAPTURE(k.points);
    const std::vector<double> c = covariance(k.points, k.dims, 7 + k.points);
    const SymmetricEigen r = symmetric_eigen(c.data(), k.dims);
    check_against_lapack(c, k.dims, r);
    const double top = r.values.back(), tiny = 1e-12 * top;
    std::size_t zeros = 0;
    for (double v : r.values) {
      CHECK(v > -(k.dims * eps * top));  // positive semidefinite, up to rounding
      zeros += std::abs(v) < tiny;
    }
    CHECK(zeros == k.zeros);
  }
}

TEST_CASE("symmetric_eigen: entries of very different scale") {
  const std::size_t n = 60;
  const std::vector<double> a = random_symmetric(n, 60);
  const SymmetricEigen base = symmetric_eigen(a.data(), n);
  SUBCASE("A·2^k for huge and tiny 2^k: the same vectors and the values times 2^k, bit for bit") {
    // Largest entries beyond 2^±400 are brought near 1 by a power of two before anything else.
    for (int k : {1000, -1000, 500, -500}) {
      CAPTURE(k);
      std::vector<double> s(a);
      for (double& v : s) v = std::ldexp(v, k);
      const SymmetricEigen r = symmetric_eigen(s.data(), n);
      for (std::size_t j = 0; j < n; ++j) CHECK(r.values[j] == std::ldexp(base.values[j], k));
      CHECK(std::memcmp(r.vectors.data(), base.vectors.data(), n * n * sizeof(double)) == 0);
    }
  }
  SUBCASE("entries near the largest and smallest doubles in one matrix") {
    std::vector<double> s(a);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) s[i * n + j] *= (i < 5 && j < 5) ? 1e300 : 1e-300;
    check_against_lapack(s, n, symmetric_eigen(s.data(), n));
  }
  SUBCASE("a graded matrix: rows and columns scaled from 1e-12 to 1e12") {
    std::vector<double> s(a);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) s[i * n + j] *= std::pow(10.0, -12 + 24.0 * i / (n - 1)) * std::pow(10.0, -12 + 24.0 * j / (n - 1));
    check_against_lapack(s, n, symmetric_eigen(s.data(), n));
  }
}

// Dense blocks of 20 and 25 on the diagonal, nothing between them: the reflection of row 19 is
// the identity while its neighbours are not.
std::vector<double> two_blocks() {
  const std::size_t n = 45;
  const std::vector<double> b = random_symmetric(20, 20), c = random_symmetric(25, 25);
  std::vector<double> a(n * n, 0.0);
  for (std::size_t i = 0; i < 20; ++i)
    for (std::size_t j = 0; j < 20; ++j) a[i * n + j] = b[i * 20 + j];
  for (std::size_t i = 0; i < 25; ++i)
    for (std::size_t j = 0; j < 25; ++j) a[(20 + i) * n + 20 + j] = c[i * 25 + j];
  return a;
}

TEST_CASE("symmetric_eigen: a block-diagonal matrix, whose reduction skips a reflection") {
  const std::vector<double> a = two_blocks();
  const SymmetricEigen r = symmetric_eigen(a.data(), 45);
  check_against_lapack(a, 45, r);
}

TEST_CASE("symmetric_eigen: only the lower triangle is read") {
  const std::size_t n = 40;
  const std::vector<double> a = random_symmetric(n, 5);
  std::vector<double> lower(a);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) lower[i * n + j] = std::nan("");
  CHECK(same_bits(symmetric_eigen(lower.data(), n), symmetric_eigen(a.data(), n)));
}

TEST_CASE("symmetric_eigen: the same bits on every run and with every instruction set the CPU runs") {
  for (std::size_t n : {5, 33, 45, 250}) {
    CAPTURE(n);
    const std::vector<double> a = n == 45 ? two_blocks() : random_symmetric(n, 77 + n);
    const SymmetricEigen first = symmetric_eigen(a.data(), n);
    CHECK(same_bits(first, symmetric_eigen(a.data(), n)));
    for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512}) {
      CAPTURE(isa_name(isa));
      if (runs(isa)) CHECK(same_bits(first, symmetric_eigen(isa, a.data(), n)));
      else CHECK_THROWS_AS(symmetric_eigen(isa, a.data(), n), std::invalid_argument);
    }
  }
}

TEST_CASE("symmetric_eigen: NaN or infinite input and an iteration that does not converge throw") {
  const std::size_t n = 30;
  std::vector<double> a = random_symmetric(n, 9);
  {
    std::vector<double> bad(a);
    bad[7 * n + 3] = std::nan("");
    CHECK_THROWS_WITH_AS(symmetric_eigen(bad.data(), n), "symmetric_eigen: entry (7, 3) is NaN", std::runtime_error);
    bad[7 * n + 3] = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(symmetric_eigen(bad.data(), n), "symmetric_eigen: entry (7, 3) is infinite", std::runtime_error);
  }
  CHECK_THROWS_WITH_AS(symmetric_eigen(active_isa(), a.data(), n, 1), doctest::Contains("did not converge"), std::runtime_error);
  CHECK_NOTHROW(symmetric_eigen(active_isa(), a.data(), n, 30));
}
