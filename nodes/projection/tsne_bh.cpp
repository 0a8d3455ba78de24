#include "nodes/projection/tsne_bh.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nodes/numeric/elementary.h"
#include "nodes/numeric/gemm.h"
#include "nodes/projection/tsne_core.h"

namespace untangle::tsne {

void nearest_neighbours(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k,
                        std::vector<std::uint32_t>& index, std::vector<double>& sq) {
  index.assign(n * k, 0);
  sq.assign(n * k, 0.0);
  std::vector<double> norm(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t t = 0; t < d; ++t) norm[i] += x[i * d + t] * x[i * d + t];
  // Blocks of rows against tiles of columns: |a|² + |b|² - 2a·b through one product per pair of
  // them, a tile small enough to stay in cache while its rows are scanned. The k found are then
  // measured again directly, since the product form loses digits for near pairs.
  constexpr std::size_t kBlock = 128, kTile = 2048;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  tbb::parallel_for(std::size_t(0), blocks, [&](std::size_t b) {
    const std::size_t r0 = b * kBlock, rows = std::min(kBlock, n - r0);
    std::vector<double> dot(rows * kTile);
    // Each row's k closest so far in a max-heap: most points fail the one comparison with its top.
    std::vector<std::vector<std::pair<double, std::uint32_t>>> heaps(rows);
    for (auto& heap : heaps) heap.reserve(k);
    for (std::size_t c0 = 0; c0 < n; c0 += kTile) {
      const std::size_t cols = std::min(kTile, n - c0);
      num::gemm({num::Op::none, num::Op::transpose, rows, cols, d, d, d, cols, false}, &x[r0 * d], &x[c0 * d], dot.data());
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = r0 + r;
        const double* row = &dot[r * cols];
        auto& heap = heaps[r];
        for (std::size_t c = 0; c < cols; ++c) {
          const std::size_t j = c0 + c;
          if (j == i) continue;
          const std::pair<double, std::uint32_t> e{norm[i] + norm[j] - 2 * row[c], static_cast<std::uint32_t>(j)};
          if (heap.size() < k) {
            heap.push_back(e);
            std::push_heap(heap.begin(), heap.end());
          } else if (e < heap.front()) {
            std::pop_heap(heap.begin(), heap.end());
            heap.back() = e;
            std::push_heap(heap.begin(), heap.end());
          }
        }
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t i = r0 + r;
      const auto& heap = heaps[r];
      std::vector<std::pair<double, std::uint32_t>> found(k);
      for (std::size_t m = 0; m < k; ++m) {
        const double* a = &x[i * d];
        const double* c = &x[std::size_t(heap[m].second) * d];
        double s = 0;
        for (std::size_t t = 0; t < d; ++t) s += (a[t] - c[t]) * (a[t] - c[t]);
        found[m] = {s, heap[m].second};
      }
      std::sort(found.begin(), found.end());
      for (std::size_t m = 0; m < k; ++m) {
        index[i * k + m] = found[m].second;
        sq[i * k + m] = found[m].first;
      }
    }
  });
}

SparseP sparse_joint_probabilities(const std::vector<double>& x, std::size_t n, std::size_t d, double perplexity) {
  const std::size_t k = std::min(n - 1, static_cast<std::size_t>(3 * perplexity + 1));  // as scikit-learn
  std::vector<std::uint32_t> index;
  std::vector<double> sq, cond(n * k);
  nearest_neighbours(x, n, d, k, index, sq);
  tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) { calibrate_row(&sq[i * k], k, perplexity, &cond[i * k]); });

  // Symmetrise: every p(j|i) goes to (i, j) and (j, i); entries meeting at one place add.
  struct Entry {
    std::uint32_t row, col;
    double v;
  };
  std::vector<Entry> e;
  e.reserve(2 * n * k);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t m = 0; m < k; ++m) {
      const auto r = static_cast<std::uint32_t>(i), c = index[i * k + m];
      e.push_back({r, c, cond[i * k + m]});
      e.push_back({c, r, cond[i * k + m]});
    }
  std::sort(e.begin(), e.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.row, a.col, a.v) < std::tie(b.row, b.col, b.v);
  });
  SparseP p;
  p.n = n;
  p.row_start.assign(n + 1, 0);
  for (std::size_t t = 0; t < e.size(); ++t) {
    if (t && e[t].row == e[t - 1].row && e[t].col == e[t - 1].col) {
      p.val.back() += e[t].v / (2.0 * n);
      continue;
    }
    p.col.push_back(e[t].col);
    p.val.push_back(e[t].v / (2.0 * n));
    p.row_start[e[t].row + 1] = p.col.size();
  }
  for (std::size_t i = 0; i < n; ++i) p.row_start[i + 1] = std::max(p.row_start[i + 1], p.row_start[i]);
  return p;
}

void attraction(const SparseP& p, const std::vector<double>& y, double exaggeration, std::vector<double>& out) {
  out.resize(2 * p.n);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, p.n, 256), [&](const tbb::blocked_range<std::size_t>& range) {
    for (std::size_t i = range.begin(); i < range.end(); ++i) {
      const double xi = y[2 * i], yi = y[2 * i + 1];
      double ax = 0, ay = 0;
      for (std::size_t t = p.row_start[i]; t < p.row_start[i + 1]; ++t) {
        const std::size_t j = p.col[t];
        const double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
        const double pw = p.val[t] / (1.0 + dx * dx + dy * dy);
        ax += pw * dx;
        ay += pw * dy;
      }
      out[2 * i] = exaggeration * ax;
      out[2 * i + 1] = exaggeration * ay;
    }
  });
}

namespace {

struct Box {
  double lo_x, hi_x, lo_y, hi_y;
};

Box bounds(const std::vector<double>& y) {
  Box b{y[0], y[0], y[1], y[1]};
  for (std::size_t i = 1; i < y.size() / 2; ++i) {
    b.lo_x = std::min(b.lo_x, y[2 * i]), b.hi_x = std::max(b.hi_x, y[2 * i]);
    b.lo_y = std::min(b.lo_y, y[2 * i + 1]), b.hi_y = std::max(b.hi_y, y[2 * i + 1]);
  }
  return b;
}

// A quadtree over the embedding. A cell is a leaf until a second, distinct point lands in it;
// points at exactly the same place share a leaf, which keeps the depth finite.
class QuadTree {
 public:
  struct Cell {
    double mx, my;         // centre of mass (sums while building)
    double cx, cy, half;   // the square: centre and half its side
    std::uint32_t count;
    std::int32_t child;    // first of four, or -1 for a leaf
    std::uint32_t point;   // a leaf's point
  };

  // Rebuilds the tree over y (within `box`), inserting points in `order`; keeps its memory from
  // the last build.
  void build(const std::vector<double>& y, const Box& box, const std::vector<std::uint32_t>& order) {
    y_ = &y;
    const double half = std::max(box.hi_x - box.lo_x, box.hi_y - box.lo_y) / 2 * (1 + 1e-9) + 1e-12;
    cells_.clear();
    cells_.push_back({0, 0, (box.lo_x + box.hi_x) / 2, (box.lo_y + box.hi_y) / 2, half, 0, -1, 0});
    for (auto i : order) insert(i);
    for (auto& c : cells_)
      if (c.count) c.mx /= c.count, c.my /= c.count;
  }

  const std::vector<Cell>& cells() const { return cells_; }

 private:
  static constexpr int kMaxDepth = 60;

  void add(std::size_t c, std::uint32_t i, std::uint32_t times = 1) {
    cells_[c].mx += times * (*y_)[2 * i];
    cells_[c].my += times * (*y_)[2 * i + 1];
    cells_[c].count += times;
  }

  std::size_t quadrant(std::size_t c, std::uint32_t i) const {
    const Cell& cell = cells_[c];
    return cell.child + ((*y_)[2 * i] >= cell.cx) + 2 * ((*y_)[2 * i + 1] >= cell.cy);
  }

  void split(std::size_t c) {
    const auto first = static_cast<std::int32_t>(cells_.size());
    const double h = cells_[c].half / 2;
    for (int q = 0; q < 4; ++q)
      cells_.push_back({0, 0, cells_[c].cx + (q & 1 ? h : -h), cells_[c].cy + (q & 2 ? h : -h), h, 0, -1, 0});
    cells_[c].child = first;
    const std::uint32_t old = cells_[c].point;
    const std::size_t q = quadrant(c, old);
    cells_[q].point = old;
    add(q, old, cells_[c].count);
  }

  void insert(std::uint32_t i) {
    std::size_t c = 0;
    for (int depth = 0;; ++depth) {
      Cell& cell = cells_[c];
      if (cell.child < 0) {
        if (cell.count == 0) {
          cell.point = i;
          return add(c, i);
        }
        const std::uint32_t o = cell.point;
        const auto& y = *y_;
        if ((y[2 * o] == y[2 * i] && y[2 * o + 1] == y[2 * i + 1]) || depth == kMaxDepth) return add(c, i);
        split(c);
      }
      add(c, i);
      c = quadrant(c, i);
    }
  }

  const std::vector<double>* y_ = nullptr;
  std::vector<Cell> cells_;
};

// Points in Z-order (the order of a quadtree walk): neighbours in the plane are handled one
// after another, so they walk the same cells while those are still in cache.
void z_order(const std::vector<double>& y, const Box& box, std::vector<std::pair<std::uint64_t, std::uint32_t>>& keyed,
             std::vector<std::uint32_t>& order) {
  const std::size_t n = y.size() / 2;
  const double lo_x = box.lo_x, hi_x = box.hi_x, lo_y = box.lo_y, hi_y = box.hi_y;
  auto spread = [](std::uint64_t v) {  // the 21 low bits of v to every other bit
    v &= 0x1fffff;
    v = (v | v << 32) & 0x1f00000000ffffull;
    v = (v | v << 16) & 0x1f0000ff0000ffull;
    v = (v | v << 8) & 0x100f00f00f00f00full;
    v = (v | v << 4) & 0x10c30c30c30c30c3ull;
    return (v | v << 2) & 0x1249249249249249ull;
  };
  const double sx = hi_x > lo_x ? 2097151.0 / (hi_x - lo_x) : 0, sy = hi_y > lo_y ? 2097151.0 / (hi_y - lo_y) : 0;
  keyed.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto qx = static_cast<std::uint64_t>((y[2 * i] - lo_x) * sx), qy = static_cast<std::uint64_t>((y[2 * i + 1] - lo_y) * sy);
    keyed[i] = {spread(qx) | spread(qy) << 1, static_cast<std::uint32_t>(i)};
  }
  std::sort(keyed.begin(), keyed.end());
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = keyed[i].second;
}

constexpr std::size_t kGroup = 16;

// What the walk reads of a cell, packed: two cells per cache line instead of one.
struct HotCell {
  double mx, my, side2;  // centre of mass, squared side
  std::uint32_t count;
  std::int32_t child;  // first of four; a leaf holds -1 - its point
};

}  // namespace

struct BarnesHut::Work {
  QuadTree tree;
  std::vector<HotCell> cells;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed;
  std::vector<std::uint32_t> order;
  std::vector<double> rep, row_z;
  BhGradient out;
};

BarnesHut::BarnesHut(const SparseP& p, double theta) : p_(p), theta_(theta), work_(std::make_unique<Work>()) {}
BarnesHut::~BarnesHut() = default;

const BhGradient& BarnesHut::gradient(const std::vector<double>& y, double exaggeration) {
  const SparseP& p = p_;
  const std::size_t n = p.n;
  Work& w = *work_;
  const Box box = bounds(y);
  z_order(y, box, w.keyed, w.order);
  w.tree.build(y, box, w.order);
  w.cells.clear();
  for (const auto& c : w.tree.cells())
    w.cells.push_back({c.mx, c.my, 4 * c.half * c.half, c.count, c.child < 0 ? -1 - static_cast<std::int32_t>(c.point) : c.child});
  const auto& cells = w.cells;
  const auto& order = w.order;
  const double theta2 = theta_ * theta_;
  w.rep.resize(2 * n);
  w.row_z.resize(n);
  BhGradient& out = w.out;
  out.grad.resize(2 * n);
  out.z = 0;
  auto& rep = w.rep;
  auto& row_z = w.row_z;
  // Repulsion, a group of kGroup points neighbouring in Z-order at a time: the group walks the
  // tree once, and a cell far enough from the group's bounding box acts on each of its points as
  // one body at its centre of mass. The walk's cost is shared, and the loop over the group's
  // points vectorises. Seen from any single point the criterion is stricter than theta's.
  const std::size_t groups = (n + kGroup - 1) / kGroup;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, groups, 4), [&](const tbb::blocked_range<std::size_t>& range) {
    std::int32_t stack[4 * 64 + 8];
    alignas(32) double gx[kGroup], gy[kGroup], gz[kGroup], fx[kGroup], fy[kGroup];
    for (std::size_t g = range.begin(); g < range.end(); ++g) {
      const std::size_t first = g * kGroup, m = std::min(kGroup, n - first);
      double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = order[first + k];
        gx[k] = y[2 * i], gy[k] = y[2 * i + 1];
        gz[k] = fx[k] = fy[k] = 0;
        x0 = std::min(x0, gx[k]), x1 = std::max(x1, gx[k]), y0 = std::min(y0, gy[k]), y1 = std::max(y1, gy[k]);
      }
      std::size_t top = 0;
      stack[top++] = 0;
      while (top) {
        const HotCell& c = cells[stack[--top]];
        if (c.child < 0) {  // a leaf: exact, except for a point's own leaf, whose points sit on it
          const std::size_t j = static_cast<std::size_t>(-1 - c.child);
          for (std::size_t k = 0; k < m; ++k) {
            const double dx = gx[k] - c.mx, dy = gy[k] - c.my;
            if (gx[k] == y[2 * j] && gy[k] == y[2 * j + 1]) {
              gz[k] += c.count - 1.0;
              continue;
            }
            const double q = 1.0 / (1.0 + dx * dx + dy * dy), cq = c.count * q;
            gz[k] += cq;
            fx[k] += cq * q * dx;
            fy[k] += cq * q * dy;
          }
          continue;
        }
        const double ex = std::max({x0 - c.mx, c.mx - x1, 0.0}), ey = std::max({y0 - c.my, c.my - y1, 0.0});
        if (c.side2 < theta2 * (ex * ex + ey * ey)) {
          for (std::size_t k = 0; k < m; ++k) {
            const double dx = gx[k] - c.mx, dy = gy[k] - c.my;
            const double q = 1.0 / (1.0 + dx * dx + dy * dy), cq = c.count * q;
            gz[k] += cq;
            fx[k] += cq * q * dx;
            fy[k] += cq * q * dy;
          }
        } else {
          for (int k = 0; k < 4; ++k)
            if (cells[c.child + k].count) stack[top++] = c.child + k;
        }
      }
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = order[first + k];
        row_z[i] = gz[k];
        rep[2 * i] = fx[k];
        rep[2 * i + 1] = fy[k];
      }
    }
  });
  attraction(p, y, exaggeration, out.grad);
  // Z added in point order, so the gradient is the same whatever the threads did.
  for (double s : row_z) out.z += s;
  for (std::size_t k = 0; k < 2 * n; ++k) out.grad[k] = 4.0 * (out.grad[k] - rep[k] / out.z);
  return out;
}

BhGradient bh_gradient(const SparseP& p, const std::vector<double>& y, double exaggeration, double theta) {
  return BarnesHut(p, theta).gradient(y, exaggeration);
}

double sparse_kl_divergence(const SparseP& p, const std::vector<double>& y, double z) {
  constexpr double kTiny = std::numeric_limits<double>::epsilon();
  double kl = 0;
  for (std::size_t i = 0; i < p.n; ++i)
    for (std::size_t t = p.row_start[i]; t < p.row_start[i + 1]; ++t) {
      const std::size_t j = p.col[t];
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      const double q = std::max(1.0 / (1.0 + dx * dx + dy * dy) / z, kTiny);
      kl += p.val[t] * num::log(std::max(p.val[t], kTiny) / q);
    }
  return kl;
}

}  // namespace untangle::tsne
