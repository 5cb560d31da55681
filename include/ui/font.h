#ifndef UI_FONT_H
#define UI_FONT_H

#include <stdint.h>

/* The text consoles' 8x16 font: glyph c - FONT_FIRST for printable ASCII c. */
#define FONT_WIDTH  8
#define FONT_HEIGHT 16
#define FONT_FIRST  0x20
#define FONT_GLYPHS 95

extern const uint8_t font_8x16[FONT_GLYPHS][16];

#endif
