// libvips wrappers for the formats steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_FORMATS_H
#define CVIPS_FORMATS_H

#include <stddef.h>
#include <vips/vips.h>

/// jpegsave with explicit chroma subsampling: `full_chroma` 1 = 4:4:4, 0 = 4:2:0 (libvips' "auto" would
/// switch to 4:4:4 at Q >= 90, which imgix does not).
int cvips_jpegsave_opts(VipsImage *in, void **buf, size_t *len, int q, int interlace, int full_chroma);
/// pngsave; `palette` quantises to at most 2^bitdepth colours with libimagequant. `keep_profile` writes the
/// image's ICC profile (strip would drop it; the caller removed every other metadata field first).
int cvips_pngsave_opts(VipsImage *in, void **buf, size_t *len, int compression, int palette, int bitdepth, int keep_profile);
int cvips_webpsave_opts(VipsImage *in, void **buf, size_t *len, int q, int lossless);
int cvips_avifsave_opts(VipsImage *in, void **buf, size_t *len, int q, int effort, int lossless);
int cvips_gifsave_opts(VipsImage *in, void **buf, size_t *len, int bitdepth);
int cvips_jp2ksave_buffer(VipsImage *in, void **buf, size_t *len, int q, int lossless);

/// A copy of `in` whose resolution header is `xres` x `yres` pixels per millimetre.
int cvips_copy_resolution(VipsImage *in, VipsImage **out, double xres, double yres);
/// Converts sRGB pixels to the ICC profile read from `profile_path` (no profile is attached to the output).
int cvips_icc_from_srgb(VipsImage *in, VipsImage **out, const char *profile_path);
/// Attaches (a copy of) an ICC profile to an image the caller owns alone.
void cvips_set_icc(VipsImage *image, const void *profile, size_t len);
/// The embedded ICC profile, or NULL (the pointer belongs to the image).
const void *cvips_get_icc(VipsImage *image, size_t *len);
/// libvips' built-in sRGB profile; the caller frees it with cvips_area_unref.
int cvips_builtin_srgb_profile(VipsBlob **blob, const void **data, size_t *len);
void cvips_area_unref(VipsBlob *blob);

/// Per-band histogram (256 x 1, one band per input band, uint counts).
int cvips_hist_find(VipsImage *in, VipsImage **out);
/// out = in * a + b per band, rounded and clipped to uchar.
int cvips_linear_uchar(VipsImage *in, VipsImage **out, const double *a, const double *b, int n);
/// A memory copy (so a sequential pipeline can be read twice).
int cvips_copy_memory(VipsImage *in, VipsImage **out);
/// Shrinks to fit `size` x `size` (keeping the aspect ratio).
int cvips_thumbnail_image(VipsImage *in, VipsImage **out, int size);
/// Renders the pixels into a new g_malloc'd buffer (free with g_free).
void *cvips_write_to_memory(VipsImage *in, size_t *len);

/// Metadata readers for fm=json (fields absent → the defaults given).
int cvips_get_int(VipsImage *image, const char *name, int fallback);
/// A string field, or NULL (the pointer belongs to the image).
const char *cvips_get_string(VipsImage *image, const char *name);
/// A blob field, or NULL (the pointer belongs to the image).
const void *cvips_get_blob(VipsImage *image, const char *name, size_t *len);
double cvips_xres(VipsImage *image);
double cvips_yres(VipsImage *image);

#endif
