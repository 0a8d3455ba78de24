// What a figure's bytes depend on besides its inputs and params: the font files fontconfig finds
// for the figures' family, and the versions of the libraries that draw and encode the images.
// Neither depends on the CPU, but both differ between machines set up differently, so the ops
// that draw text (plot_projection) or encode PNG (plot_projection, report) put them into their
// keys: a machine with another DejaVu Sans, or another cairo, computes its own entries instead of
// taking or giving figures of other bytes under one key.
#pragma once
#include <string>
#include <vector>

namespace untangle::rendering {

inline constexpr const char* kFontFamily = "DejaVu Sans";

// The files of the family's regular and bold faces, as fontconfig resolves them (on Debian,
// fonts-dejavu-core's /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf and -Bold.ttf).
std::vector<std::string> font_files();

// "cairo 1.16.0 pixman 0.42.2 freetype 2.12.1 fontconfig 2.14.1 libpng 1.6.39 zlib 1.2.13", read
// from the libraries loaded, not from the headers compiled against.
std::string library_versions();

}  // namespace untangle::rendering
