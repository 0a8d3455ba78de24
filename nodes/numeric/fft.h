// Fast Fourier transforms of real 2-D grids in single precision, computed the same way on every
// machine: each output one fixed sequence of operations whatever the instruction set (vectors
// only hold different rows or columns side by side), twiddle factors from num::sincos. FFTW's
// plans and SIMD codelets depend on the CPU it runs on; these do not.
#pragma once
#include <complex>
#include <cstddef>
#include <memory>

#include "nodes/numeric/isa.h"

namespace untangle::num {

// A transform of rows × cols reals (row-major), both sizes products of 2, 3, 5 and 7
// (std::invalid_argument otherwise). in and out of a call must not overlap.
class RealFft2d {
 public:
  RealFft2d(std::size_t rows, std::size_t cols);  // computed with num::active_isa()
  // With a given instruction set, for tests (std::invalid_argument if the CPU does not run it).
  // Every set gives the same bits.
  RealFft2d(std::size_t rows, std::size_t cols, Isa isa);
  ~RealFft2d();
  RealFft2d(const RealFft2d&) = delete;
  RealFft2d& operator=(const RealFft2d&) = delete;
  std::size_t rows() const;
  std::size_t cols() const;
  std::size_t spectrum_cols() const { return cols() / 2 + 1; }
  // out (rows × spectrum_cols()) = the DFT of in, as FFTW's r2c: out[u][v] = Σ in[x][y]·e^{-2πi(ux/rows + vy/cols)}.
  // Safe to call from several threads at once.
  void forward(const float* in, std::complex<float>* out) const;
  // The unnormalised inverse, as FFTW's c2r (rows·cols times the input of forward); in is not changed.
  void inverse(const std::complex<float>* in, float* out) const;

 private:
  struct Plan;
  std::unique_ptr<Plan> plan_;
};

}  // namespace untangle::num
