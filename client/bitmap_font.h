// A tiny hand-made 3 x 5 pixel font for labels in the CLI's pictures: digits,
// A-Z (lower case is drawn as upper case) and " +-/.?"; any other character is
// drawn as '?'. Each glyph advances 4 pixels (times the scale).
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_CLIENT_BITMAP_FONT_H_
#define DEEPSWEEP_CLIENT_BITMAP_FONT_H_

#include <string_view>

#include "client/rgb_image.h"

namespace deepsweep::client {

inline constexpr int kGlyphWidth = 3;
inline constexpr int kGlyphHeight = 5;
inline constexpr int kGlyphAdvance = 4;

// Width in pixels of `text` drawn at `scale` (no trailing gap).
int TextWidth(std::string_view text, int scale);

// Draws `text` with its top-left corner at (x, y), each font pixel a
// scale x scale square; pixels outside the image are clipped.
void DrawText(RgbImage& image, int x, int y, std::string_view text, int scale, Rgb color);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_BITMAP_FONT_H_
