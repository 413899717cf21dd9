// libvips wrappers for the filters steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_FILTERS_H
#define CVIPS_FILTERS_H

#include <vips/vips.h>

// ---- adjust and stylize (AdjustStep, StylizeStep); implemented in filters.c -----------------------------------
// Inputs are 8-bit sRGB colour bands (alpha split off by the caller) unless a comment says otherwise; every
// 8-bit result is rounded to nearest (vips_cast alone truncates) and clipped to 0-255.

/// vips_extract_band: `n` bands starting at `first`.
int cvips_extract_bands(VipsImage *in, VipsImage **out, int first, int n);

/// vips_bandjoin2: the bands of `a` followed by those of `b` (colour plus its alpha).
int cvips_bandjoin_pair(VipsImage *a, VipsImage *b, VipsImage **out);

/// vips_rint then vips_cast to uchar: rounds to nearest and clips to 0-255.
int cvips_rint_uchar(VipsImage *in, VipsImage **out);

/// vips_maplut through a 256-entry table of `bands` interleaved uchar values (table[i * bands + b]); a 1-band
/// table maps every band of `in` alike.
int cvips_maplut_uchar(VipsImage *in, VipsImage **out, const unsigned char *table, int bands);

/// vips_premultiply of an image with alpha (last band): float output, colour scaled by alpha / 255.
int cvips_premultiply_alpha(VipsImage *in, VipsImage **out);
/// vips_unpremultiply, then rounded back to uchar.
int cvips_unpremultiply_uchar(VipsImage *in, VipsImage **out);

/// vips_shrink by whole factors (box average of each xfac x yfac block).
int cvips_shrink_box(VipsImage *in, VipsImage **out, int xfac, int yfac);
/// vips_zoom: each pixel repeated xfac x yfac times (nearest neighbour, no interpolation).
int cvips_zoom(VipsImage *in, VipsImage **out, int xfac, int yfac);

/// vips_sharpen on the luminance of an sRGB image (LabS inside, sRGB out): `sigma` of the gaussian, `x1`
/// flat/jaggy threshold, `y2`/`y3` maximum brightening/darkening, `m1`/`m2` slopes for flat/jaggy areas.
int cvips_sharpen_luminance(VipsImage *in, VipsImage **out, double sigma, double x1, double y2, double y3,
                            double m1, double m2);

/// Unsharp mask from a blurred copy: in + amount * (in - blurred), uchar. Negative `amount` softens.
int cvips_unsharp_combine(VipsImage *in, VipsImage *blurred, VipsImage **out, double amount);

/// Edge-aware noise reduction from a blurred copy: per band, d = |in - blurred| (0-255) selects
/// k = k_table[d] and the result is in + k * (blurred - in), uchar. k = 1 is fully smoothed, 0 untouched,
/// negative sharpens. `k_table` has 256 entries.
int cvips_noise_reduce(VipsImage *in, VipsImage *blurred, VipsImage **out, const float *k_table);

/// One pass in LCh: hue rotated by `hue_degrees`, chroma multiplied by `chroma_scale` and by the vibrance
/// factor 1 + vibrance * exp(-C / 40) (muted colours move most), then back to 8-bit sRGB.
int cvips_lch_adjust(VipsImage *in, VipsImage **out, double hue_degrees, double chroma_scale, double vibrance);

/// vips_recomb with a 3x3 matrix (row-major: out band i = sum_j m[3i+j] * in band j), rounded to uchar.
int cvips_recomb_uchar(VipsImage *in, VipsImage **out, const double *matrix);

/// The luminance (vips B_W) of `in` through a 256-entry, 3-band interleaved table, mixed with `in` as
/// in * (1 - mix) + mapped * mix; uchar sRGB out. Monochrome tints and duotones.
int cvips_tone_map(VipsImage *in, VipsImage **out, const unsigned char *table, double mix);

/// A black-and-white halftone of the luminance (vips B_W) of `in`: a round-dot screen at 45 degrees with
/// `period` pixels between dots along each axis (period >= 2), thresholds rank-ordered so a flat grey keeps its
/// mean; dot edges are antialiased over about a pixel. 3-band uchar sRGB out (0 ink, 255 paper).
int cvips_halftone(VipsImage *in, VipsImage **out, int period);

// ---- end of adjust and stylize ---------------------------------------------------------------------------------

#endif
