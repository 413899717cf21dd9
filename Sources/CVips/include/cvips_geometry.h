// libvips wrappers for the geometry steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_GEOMETRY_H
#define CVIPS_GEOMETRY_H

#include <vips/vips.h>

// ---- rotation, border and padding (RotationStep, BorderStep) -------------------------------------------------

/// vips_flip: mirrors left to right (`horizontal` != 0) or top to bottom.
int cvips_flip(VipsImage *in, VipsImage **out, int horizontal);

/// vips_rot by a whole number of quarter turns clockwise (1, 2 or 3): exact, no resampling.
int cvips_rot_quarters(VipsImage *in, VipsImage **out, int quarters);

/// vips_affine with the 2x2 matrix (a b; c d) about the centres: the input's centre lands on the centre of a
/// width x height output. Pixels from outside the input are `bg` (n values), or copies of the nearest edge
/// pixel when `extend_copy` is set. Bilinear; alpha is premultiplied around the resampling.
int cvips_affine_centred(VipsImage *in, VipsImage **out, double a, double b, double c, double d,
                         int width, int height, const double *bg, int n, int extend_copy);

/// A width x height sRGB image of one colour (n = 3 or 4 values), 8-bit.
int cvips_solid_srgb(VipsImage **out, int width, int height, const double *ink, int n);

/// vips_composite2 with the OVER blend, `overlay` placed at (x, y) on `base`; 8-bit output with alpha.
int cvips_composite2_over(VipsImage *base, VipsImage *overlay, VipsImage **out, int x, int y);

/// An 8-bit one-band coverage mask (255 inside) of a width x height rounded rectangle inset by `inset` pixels
/// on every side, with corner radii `radii` (top-left, top-right, bottom-right, bottom-left) measured on the
/// outer rectangle and reduced by the inset, as CSS does for inner borders. Edges are antialiased.
int cvips_rounded_rect_mask(VipsImage **out, int width, int height, const double *radii, double inset);

/// The band between the rounded rectangle's edge and the same rectangle inset by `thickness`: an 8-bit mask
/// of a stroke drawn just inside the outer edge.
int cvips_rounded_ring_mask(VipsImage **out, int width, int height, const double *radii, double thickness);

/// The complement of a rounded rectangle (`radii` as above) of width x height placed at (x, y) on a
/// box_width x box_height canvas: 255 around it, 0 inside. The mask of a border or padding frame.
int cvips_frame_mask(VipsImage **out, int box_width, int box_height, int x, int y, int width, int height,
                     const double *radii);

/// Multiplies the alpha band (the last band) of `in` by `mask` / 255; `in` must have an alpha band.
int cvips_multiply_alpha(VipsImage *in, VipsImage *mask, VipsImage **out);

/// `mask` / 255 scaled by `alpha` / 255 and joined as the alpha of a solid colour `ink` (3 values): a layer to
/// composite (used for the border stroke).
int cvips_coloured_layer(VipsImage *mask, VipsImage **out, const double *ink, double alpha);

// ---- end of rotation, border and padding ----------------------------------------------------------------------

#endif
