// Fixed-argument wrappers around libvips' C-variadic API (option lists ending in NULL), which Swift cannot
// call, and around VIPS_INIT, which is a macro. Each wrapper is named after the call it wraps; each returns
// 0 on success and -1 on failure, with the reason left in vips' error buffer (read it with
// cvips_error_take right away: the buffer is process-wide).
#ifndef CVIPS_H
#define CVIPS_H

#include <stddef.h>
#include <vips/vips.h>

/// vips_init plus the process-wide settings imgedge relies on: no operation cache (every request is new
/// work, and the cache would hold decoded pixels), `concurrency` worker threads per pipeline, and at most two
/// malloc arenas (glibc's default of one per thread inflates peak memory under concurrent transforms).
int cvips_init(const char *argv0, int concurrency);

/// Copies and clears vips' error buffer; the caller frees the result with g_free.
char *cvips_error_take(void);

/// The loader vips would use for these bytes ("jpegload_buffer", ...), or NULL when none recognises them.
const char *cvips_find_load_buffer(const void *buf, size_t len);

/// Opens an image lazily (header only until pixels are asked for). `fail` makes loaders stop at the first
/// damaged chunk rather than guess.
int cvips_image_new_from_buffer(const void *buf, size_t len, int fail, VipsImage **out);

/// vips_thumbnail_buffer to exactly width x height (size = FORCE), auto-rotated by EXIF orientation.
/// Shrink-on-load happens inside. `srgb`: colour-manage images that carry a profile into sRGB (else their
/// pixels stay in the source's colour space).
int cvips_thumbnail_buffer(const void *buf, size_t len, int width, int height, int fail, int srgb, VipsImage **out);

/// The same with EXIF auto-rotation off (`no_rotate`), for an orientation the request overrides.
int cvips_thumbnail_buffer_norotate(const void *buf, size_t len, int width, int height, int fail, int srgb, VipsImage **out);

/// Decodes a JPEG at a DCT scale of 1/`shrink` into memory and discards it (the decode floor a transform cannot
/// beat: tools/bench/miss). Returns the decoded size.
int cvips_decode_jpeg(const void *buf, size_t len, int shrink, int *width, int *height);

/// A JPEG decoded at 1/`shrink` of its size into memory: a decoded copy several variants are made from.
int cvips_jpegload_memory(const void *buf, size_t len, int shrink, VipsImage **out);

/// A decoded copy shrunk by an integer `factor` (a box filter, as a JPEG DCT scale-down averages) into memory.
int cvips_shrink_memory(VipsImage *in, int factor, VipsImage **out);

/// An image resized exactly to width x height like cvips_thumbnail_buffer (orientation unless `no_rotate`, sRGB
/// when `srgb`), from a decoded image rather than a buffer.
int cvips_thumbnail_of(VipsImage *in, int width, int height, int srgb, int no_rotate, VipsImage **out);

/// A baseline JPEG decoded at 1/`shrink` of its size (1, 2, 4 or 8: libjpeg's DCT scaling, which libvips'
/// thumbnail never uses fully — it keeps a factor of 2 for its final resize), then resized exactly to width x
/// height like cvips_thumbnail_buffer (orientation unless `no_rotate`, sRGB when `srgb`).
int cvips_jpeg_shrink_thumbnail(const void *buf, size_t len, int shrink, int width, int height, int srgb,
                                int no_rotate, VipsImage **out);

/// Applies EXIF orientation `orientation` (1-8) to the pixels, whatever the image's own tag says.
int cvips_autorot_as(VipsImage *in, VipsImage **out, int orientation);

/// vips_find_trim: the bounding box of what differs from `bg` by more than `threshold`.
int cvips_find_trim(VipsImage *in, double threshold, const double *bg, int n, int *left, int *top, int *width, int *height);
/// vips_getpoint: the band values of one pixel (at most 4 are written to `values`).
int cvips_getpoint(VipsImage *in, int x, int y, double *values, int *n);
int cvips_extract_band(VipsImage *in, VipsImage **out, int band);
/// vips_smartcrop to width x height: `attention` picks the salient region, else entropy.
int cvips_smartcrop(VipsImage *in, VipsImage **out, int width, int height, int attention);
/// vips_resize with separate horizontal and vertical scales (lanczos3).
int cvips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale);
int cvips_gaussblur(VipsImage *in, VipsImage **out, double sigma);
/// vips_embed extending the edge pixels outwards (imgix fit=clamp).
int cvips_embed_extend(VipsImage *in, VipsImage **out, int x, int y, int width, int height);
int cvips_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y);
/// Draws a one-pixel cross of colour `ink` through (x, y) on a private copy (imgix fp-debug).
int cvips_draw_cross(VipsImage *in, VipsImage **out, int x, int y, const double *ink, int n);

int cvips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
/// Places `in` at (x, y) on a width x height canvas of the solid colour `bg` (n values).
int cvips_embed_background(VipsImage *in, VipsImage **out, int x, int y, int width, int height, const double *bg, int n);
int cvips_flatten(VipsImage *in, VipsImage **out, const double *bg, int n);
int cvips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space);
int cvips_cast_uchar(VipsImage *in, VipsImage **out);
int cvips_copy(VipsImage *in, VipsImage **out);
// cvips_copy_memory (cvips_formats.h) renders an image into memory, so operations that read it more than
// once (smartcrop, trim detection) do not hit a sequential loader's "out of order read".
int cvips_bandjoin_const1(VipsImage *in, VipsImage **out, double c);

int cvips_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, int q, int interlace);
int cvips_pngsave_buffer(VipsImage *in, void **buf, size_t *len, int compression);
int cvips_webpsave_buffer(VipsImage *in, void **buf, size_t *len, int q);
int cvips_avifsave_buffer(VipsImage *in, void **buf, size_t *len, int q, int effort);
int cvips_gifsave_buffer(VipsImage *in, void **buf, size_t *len);

/// Removes every metadata field (EXIF, XMP, IPTC, ICC, comments, PNG text) from an image that the caller
/// owns alone (a fresh copy). Works around libvips 8.14.1 writing EXIF into WebP despite `strip`.
void cvips_remove_metadata(VipsImage *image);

/// The EXIF orientation tag (1-8), 1 when absent or out of range.
int cvips_orientation(VipsImage *image);

void cvips_unref(void *object);

// Wrappers grouped by the pipeline steps that use them.
#include "cvips_filters.h"   // adjust and stylize
#include "cvips_compose.h"   // watermark and text
#include "cvips_geometry.h"  // rotation, trim, border and padding, size extras
#include "cvips_formats.h"   // encoders and format options

#endif
