// The lab report's figure of a 2-D projection, as a scene (plain data) drawn with cairo. The op
// builds the scene from its inputs; tests use the same scene to find where a point lands.
#pragma once
#include <cairo.h>

#include <string>
#include <vector>

#include "pipeline/schema.h"

namespace untangle::plot {

struct XY {
  double x, y;
};

struct Panel {
  std::string title;
  std::vector<std::vector<XY>> shapes;  // one outline per class (empty: none); no shapes: the points panel
};

struct Scene {
  std::string title;                    // empty: no figure title
  std::vector<std::string> classes;     // label texts, in increasing label order
  std::vector<std::vector<XY>> points;  // per class
  std::vector<Panel> panels;
  int width = 500;                      // px per panel (panels are square)
  double point_size = 2;                // dot radius, px
};

// The legend is a column right of the panels; a figure title adds a band above them.
constexpr int kLegendWidth = 110, kTitleBand = 34;

struct Size {
  int width, height;
};
Size figure_size(const Scene& s);

// Data → pixels. Every panel shows the same limits at one scale for x and y; panel p is
// p · width px right of panel 0.
struct View {
  double scale, x0, y0;
  int panel_width;
  XY pixel(XY p, std::size_t panel) const { return {x0 + panel * panel_width + scale * p.x, y0 - scale * p.y}; }
};
View view_of(const Scene& s);

// Checks the op's inputs and gathers them into a scene; throws std::runtime_error on bad input.
Scene scene_of(const OpContext& ctx);

void draw(cairo_t* cr, const Scene& s);
std::vector<unsigned char> png_of(const Scene& s);
std::vector<unsigned char> svg_of(const Scene& s);

}  // namespace untangle::plot
