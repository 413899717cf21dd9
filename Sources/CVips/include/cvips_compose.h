// libvips wrappers for the compose steps (see CVips.h for why wrappers exist): watermark and text.
// Each helper runs a short fixed chain of vips operations (variadic in C), so Swift makes one call per idea.
#ifndef CVIPS_COMPOSE_H
#define CVIPS_COMPOSE_H

#include <stddef.h>
#include <vips/vips.h>

/// vips_thumbnail_buffer to exactly width x height over a private copy of the bytes, freed when the image
/// closes: the watermark's bytes belong to the caller, while vips reads them lazily until the encode.
int cvips_thumbnail_buffer_copy(const void *buf, size_t len, int width, int height, VipsImage **out);

/// Any image (grey, 16-bit, CMYK, with or without alpha) as 8-bit sRGB with an alpha band (4 bands).
int cvips_to_srgba(VipsImage *in, VipsImage **out);

/// Multiplies the alpha band (the last of 4) of an 8-bit RGBA image by `opacity` (0-1).
int cvips_scale_alpha(VipsImage *in, VipsImage **out, double opacity);

/// vips_rotate of an RGBA image by `angle` degrees anticlockwise; the canvas grows to hold the result and the
/// new corners are transparent. Premultiplied while resampling so edges do not pick up dark fringes.
int cvips_rotate_transparent(VipsImage *in, VipsImage **out, double angle);

/// An RGBA tile repeated in a grid (vips_replicate, so the cost follows the output area, not the tile count),
/// each copy followed by gap_x / gap_y transparent pixels, shifted so a copy's top-left corner lies at (x, y),
/// cut to width x height.
int cvips_tile_grid(VipsImage *tile, VipsImage **out, int gap_x, int gap_y, int x, int y, int width, int height);

/// vips_composite2 (OVER) of an RGBA `layer` onto `base` with the layer's top-left at (x, y), which may lie
/// partly or wholly outside: only the overlap is composited. The result keeps base's bands (an alpha band only
/// if base had one) and band format.
int cvips_overlay(VipsImage *base, VipsImage *layer, VipsImage **out, int x, int y);

/// vips_text of `text` on one line (no wrapping) into a one-band 8-bit coverage mask. The text is escaped
/// here: it comes from URLs and is never read as Pango markup. `font` is a Pango font description whose size
/// is in pixels (rendered at 72 dpi, where a point is a pixel); `letter_spacing` is added between letters,
/// in 1/1024 px; `line_spacing` (px, 0 for the font's own) separates lines.
int cvips_text_mask(VipsImage **out, const char *text, const char *font, int letter_spacing, int line_spacing);

/// Colours a text mask as an RGBA layer: `rgba` inside the glyphs, an outline `line` px wide drawn inside the
/// glyph edges in `line_rgba` (an erosion by a square window, two 1-D vips_rank passes), and a soft black halo
/// (vips_gaussblur of the mask, sigma `shadow`) under it. The layer is `*margin` px larger on every side than
/// the mask, to hold the halo.
int cvips_text_layer(VipsImage *mask, VipsImage **out, const double rgba[4], int line, const double line_rgba[4],
                     double shadow, int *margin);

#endif
