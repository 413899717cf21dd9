// Fixed-argument wrappers around libvips' C-variadic API (option lists ending in NULL), which Swift cannot
// call, and around VIPS_INIT, which is a macro. Each wrapper is named after the call it wraps; each returns
// 0 on success and -1 on failure, with the reason left in vips' error buffer (read it with
// cvips_error_take right away: the buffer is process-wide).
#ifndef CVIPS_H
#define CVIPS_H

#include <stddef.h>
#include <vips/vips.h>

/// vips_init plus the process-wide settings imgedge relies on: no operation cache (every request is new
/// work, and the cache would hold decoded pixels), `concurrency` worker threads per pipeline.
int cvips_init(const char *argv0, int concurrency);

/// Copies and clears vips' error buffer; the caller frees the result with g_free.
char *cvips_error_take(void);

/// The loader vips would use for these bytes ("jpegload_buffer", ...), or NULL when none recognises them.
const char *cvips_find_load_buffer(const void *buf, size_t len);

/// Opens an image lazily (header only until pixels are asked for). `fail` makes loaders stop at the first
/// damaged chunk rather than guess.
int cvips_image_new_from_buffer(const void *buf, size_t len, int fail, VipsImage **out);

/// vips_thumbnail_buffer to exactly width x height (size = FORCE), auto-rotated by EXIF orientation,
/// colour-managed to sRGB when the image carries a profile. Shrink-on-load happens inside.
int cvips_thumbnail_buffer(const void *buf, size_t len, int width, int height, int fail, VipsImage **out);

int cvips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
/// Places `in` at (x, y) on a width x height canvas of the solid colour `bg` (n values).
int cvips_embed_background(VipsImage *in, VipsImage **out, int x, int y, int width, int height, const double *bg, int n);
int cvips_flatten(VipsImage *in, VipsImage **out, const double *bg, int n);
int cvips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space);
int cvips_cast_uchar(VipsImage *in, VipsImage **out);
int cvips_copy(VipsImage *in, VipsImage **out);
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
