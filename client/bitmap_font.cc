#include "client/bitmap_font.h"

#include <array>
#include <cctype>

namespace deepsweep::client {
namespace {

// One glyph: five rows of three pixels, 'X' = ink.
struct Glyph {
  char c;
  std::array<const char*, kGlyphHeight> rows;
};

constexpr Glyph kGlyphs[] = {
    {'0', {"XXX", "X.X", "X.X", "X.X", "XXX"}}, {'1', {".X.", "XX.", ".X.", ".X.", "XXX"}},
    {'2', {"XXX", "..X", "XXX", "X..", "XXX"}}, {'3', {"XXX", "..X", ".XX", "..X", "XXX"}},
    {'4', {"X.X", "X.X", "XXX", "..X", "..X"}}, {'5', {"XXX", "X..", "XXX", "..X", "XXX"}},
    {'6', {"XXX", "X..", "XXX", "X.X", "XXX"}}, {'7', {"XXX", "..X", "..X", ".X.", ".X."}},
    {'8', {"XXX", "X.X", "XXX", "X.X", "XXX"}}, {'9', {"XXX", "X.X", "XXX", "..X", "XXX"}},
    {'A', {".X.", "X.X", "XXX", "X.X", "X.X"}}, {'B', {"XX.", "X.X", "XX.", "X.X", "XX."}},
    {'C', {".XX", "X..", "X..", "X..", ".XX"}}, {'D', {"XX.", "X.X", "X.X", "X.X", "XX."}},
    {'E', {"XXX", "X..", "XX.", "X..", "XXX"}}, {'F', {"XXX", "X..", "XX.", "X..", "X.."}},
    {'G', {".XX", "X..", "X.X", "X.X", ".XX"}}, {'H', {"X.X", "X.X", "XXX", "X.X", "X.X"}},
    {'I', {"XXX", ".X.", ".X.", ".X.", "XXX"}}, {'J', {"..X", "..X", "..X", "X.X", ".X."}},
    {'K', {"X.X", "X.X", "XX.", "X.X", "X.X"}}, {'L', {"X..", "X..", "X..", "X..", "XXX"}},
    {'M', {"X.X", "XXX", "XXX", "X.X", "X.X"}}, {'N', {"XX.", "X.X", "X.X", "X.X", "X.X"}},
    {'O', {".X.", "X.X", "X.X", "X.X", ".X."}}, {'P', {"XX.", "X.X", "XX.", "X..", "X.."}},
    {'Q', {".X.", "X.X", "X.X", "XX.", ".XX"}}, {'R', {"XX.", "X.X", "XX.", "X.X", "X.X"}},
    {'S', {".XX", "X..", ".X.", "..X", "XX."}}, {'T', {"XXX", ".X.", ".X.", ".X.", ".X."}},
    {'U', {"X.X", "X.X", "X.X", "X.X", "XXX"}}, {'V', {"X.X", "X.X", "X.X", "X.X", ".X."}},
    {'W', {"X.X", "X.X", "XXX", "XXX", "X.X"}}, {'X', {"X.X", "X.X", ".X.", "X.X", "X.X"}},
    {'Y', {"X.X", "X.X", ".X.", ".X.", ".X."}}, {'Z', {"XXX", "..X", ".X.", "X..", "XXX"}},
    {'+', {"...", ".X.", "XXX", ".X.", "..."}}, {'-', {"...", "...", "XXX", "...", "..."}},
    {'/', {"..X", "..X", ".X.", "X..", "X.."}}, {'.', {"...", "...", "...", "...", ".X."}},
    {'?', {"XX.", "..X", ".X.", "...", ".X."}}, {' ', {"...", "...", "...", "...", "..."}},
};

const Glyph& GlyphFor(char c) {
  const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const Glyph* unknown = nullptr;
  for (const Glyph& glyph : kGlyphs) {
    if (glyph.c == upper) return glyph;
    if (glyph.c == '?') unknown = &glyph;
  }
  return *unknown;
}

}  // namespace

int TextWidth(std::string_view text, int scale) {
  if (text.empty()) return 0;
  return (static_cast<int>(text.size()) * kGlyphAdvance - (kGlyphAdvance - kGlyphWidth)) * scale;
}

void DrawText(RgbImage& image, int x, int y, std::string_view text, int scale, Rgb color) {
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph& glyph = GlyphFor(text[i]);
    const int left = x + static_cast<int>(i) * kGlyphAdvance * scale;
    for (int row = 0; row < kGlyphHeight; ++row) {
      for (int col = 0; col < kGlyphWidth; ++col) {
        if (glyph.rows[row][col] != 'X') continue;
        image.FillRect(left + col * scale, y + row * scale, scale, scale, color);
      }
    }
  }
}

}  // namespace deepsweep::client
