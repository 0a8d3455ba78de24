#include "nodes/report/rendering.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <pixman.h>
#include <png.h>
#include <zlib.h>

#include <stdexcept>

namespace untangle::rendering {

std::vector<std::string> font_files() {
  // The query cairo's toy font API makes for a family, weight by weight.
  std::vector<std::string> files;
  for (int weight : {FC_WEIGHT_MEDIUM, FC_WEIGHT_BOLD}) {
    FcPattern* want = FcPatternCreate();
    FcPatternAddString(want, FC_FAMILY, reinterpret_cast<const FcChar8*>(kFontFamily));
    FcPatternAddInteger(want, FC_SLANT, FC_SLANT_ROMAN);
    FcPatternAddInteger(want, FC_WEIGHT, weight);
    FcConfigSubstitute(nullptr, want, FcMatchPattern);
    FcDefaultSubstitute(want);
    FcResult result;
    FcPattern* found = FcFontMatch(nullptr, want, &result);
    FcPatternDestroy(want);
    FcChar8* file = nullptr;
    const bool ok = found && FcPatternGetString(found, FC_FILE, 0, &file) == FcResultMatch;
    if (ok) files.emplace_back(reinterpret_cast<char*>(file));
    if (found) FcPatternDestroy(found);
    if (!ok)
      throw std::runtime_error(std::string("fontconfig finds no font for ") + kFontFamily +
                               " (install fonts-dejavu-core: tools/setup does)");
  }
  return files;
}

std::string library_versions() {
  FT_Library ft;
  std::string freetype = "?";
  if (FT_Init_FreeType(&ft) == 0) {
    FT_Int major, minor, patch;
    FT_Library_Version(ft, &major, &minor, &patch);
    freetype = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    FT_Done_FreeType(ft);
  }
  const int fc = FcGetVersion();
  return std::string("cairo ") + cairo_version_string() + " pixman " + pixman_version_string() + " freetype " + freetype +
         " fontconfig " + std::to_string(fc / 10000) + "." + std::to_string(fc / 100 % 100) + "." + std::to_string(fc % 100) +
         " libpng " + png_get_libpng_ver(nullptr) + " zlib " + zlibVersion();
}

}  // namespace untangle::rendering
