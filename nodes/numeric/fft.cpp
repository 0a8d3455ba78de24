#include "nodes/numeric/fft.h"

#include <stdexcept>

namespace untangle::num {

struct RealFft2d::Plan {
  std::size_t rows, cols;
};

RealFft2d::RealFft2d(std::size_t rows, std::size_t cols) : plan_(new Plan{rows, cols}) {}
RealFft2d::~RealFft2d() = default;
std::size_t RealFft2d::rows() const { return plan_->rows; }
std::size_t RealFft2d::cols() const { return plan_->cols; }
void RealFft2d::forward(const float*, std::complex<float>*) const { throw std::logic_error("RealFft2d: not yet built"); }
void RealFft2d::inverse(const std::complex<float>*, float*) const { throw std::logic_error("RealFft2d: not yet built"); }

}  // namespace untangle::num
