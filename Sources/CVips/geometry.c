// libvips wrappers for the geometry steps (see CVips.h for why wrappers exist).
#include "CVips.h"
#include <math.h>
#include <string.h>

// ---- rotation, border and padding (RotationStep, BorderStep) -------------------------------------------------

int cvips_flip(VipsImage *in, VipsImage **out, int horizontal) {
    return vips_flip(in, out, horizontal ? VIPS_DIRECTION_HORIZONTAL : VIPS_DIRECTION_VERTICAL, NULL);
}

int cvips_rot_quarters(VipsImage *in, VipsImage **out, int quarters) {
    VipsAngle angle;
    switch (((quarters % 4) + 4) % 4) {
    case 1: angle = VIPS_ANGLE_D90; break;
    case 2: angle = VIPS_ANGLE_D180; break;
    case 3: angle = VIPS_ANGLE_D270; break;
    default: angle = VIPS_ANGLE_D0; break;
    }
    return vips_rot(in, out, angle, NULL);
}

int cvips_affine_centred(VipsImage *in, VipsImage **out, double a, double b, double c, double d,
                         int width, int height, const double *bg, int n, int extend_copy) {
    VipsArrayDouble *background = vips_array_double_new(bg, n);
    VipsArrayInt *oarea = vips_array_int_newv(4, 0, 0, width, height);
    /* libvips 8.14 maps pixel centres (its transform adds and removes half a pixel on each side), so the
     * centre of a w-pixel row is at (w - 1) / 2 in both spaces. */
    int r = vips_affine(in, out, a, b, c, d,
        "idx", -(vips_image_get_width(in) - 1) / 2.0,
        "idy", -(vips_image_get_height(in) - 1) / 2.0,
        "odx", (width - 1) / 2.0,
        "ody", (height - 1) / 2.0,
        "oarea", oarea,
        "background", background,
        "extend", extend_copy ? VIPS_EXTEND_COPY : VIPS_EXTEND_BACKGROUND,
        NULL);
    vips_area_unref(VIPS_AREA(oarea));
    vips_area_unref(VIPS_AREA(background));
    return r;
}

int cvips_solid_srgb(VipsImage **out, int width, int height, const double *ink, int n) {
    VipsImage *black = NULL, *lin = NULL, *u8 = NULL;
    double zero[4] = {0, 0, 0, 0};
    int r = -1;
    if (n < 1 || n > 4) {
        vips_error("cvips_solid_srgb", "%d bands", n);
        return -1;
    }
    if (vips_black(&black, width, height, "bands", n, NULL) == 0 &&
        vips_linear(black, &lin, zero, ink, n, NULL) == 0 &&
        vips_cast_uchar(lin, &u8, NULL) == 0 &&
        vips_copy(u8, out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) == 0) {
        r = 0;
    }
    if (black) g_object_unref(black);
    if (lin) g_object_unref(lin);
    if (u8) g_object_unref(u8);
    return r;
}

int cvips_composite2_over(VipsImage *base, VipsImage *overlay, VipsImage **out, int x, int y) {
    VipsImage *mixed = NULL;
    if (vips_composite2(base, overlay, &mixed, VIPS_BLEND_MODE_OVER, "x", x, "y", y, NULL) != 0) return -1;
    int r = vips_cast_uchar(mixed, out, NULL);
    g_object_unref(mixed);
    return r;
}

/* Signed distance from (px, py) to the edge of a rounded box centred on the origin with half sizes (hx, hy)
 * and corner radius `radius` (negative inside). */
static double cvips_rounded_box_distance(double px, double py, double hx, double hy, double radius) {
    double qx = fabs(px) - hx + radius, qy = fabs(py) - hy + radius;
    double ox = qx > 0 ? qx : 0, oy = qy > 0 ? qy : 0;
    double inner = qx > qy ? qx : qy;
    return sqrt(ox * ox + oy * oy) + (inner < 0 ? inner : 0) - radius;
}

int cvips_rounded_rect_mask(VipsImage **out, int width, int height, const double *radii, double inset) {
    if (width < 1 || height < 1) {
        vips_error("cvips_rounded_rect_mask", "bad size %dx%d", width, height);
        return -1;
    }
    /* CSS's rule for radii that do not fit: scale them all down until each side holds its two corners. */
    double r[4];
    for (int i = 0; i < 4; i++) r[i] = radii[i] > 0 ? radii[i] : 0;
    double f = 1;
    double sums[4] = {r[0] + r[1], r[3] + r[2], r[0] + r[3], r[1] + r[2]};
    double sides[4] = {width, width, height, height};
    for (int i = 0; i < 4; i++) if (sums[i] > sides[i]) f = fmin(f, sides[i] / sums[i]);
    for (int i = 0; i < 4; i++) r[i] = fmax(0, r[i] * f - inset);

    double hx = width / 2.0 - inset, hy = height / 2.0 - inset;
    VipsImage *image = vips_image_new_memory();
    vips_image_init_fields(image, width, height, 1, VIPS_FORMAT_UCHAR, VIPS_CODING_NONE,
        VIPS_INTERPRETATION_B_W, 1.0, 1.0);
    if (vips_image_write_prepare(image) != 0) {
        g_object_unref(image);
        return -1;
    }
    /* Only the corners and the inset bands need the distance; each row's middle shares one value. */
    int left = (int)ceil(inset + fmax(r[0], r[3])) + 2, right = (int)ceil(inset + fmax(r[1], r[2])) + 2;
    for (int y = 0; y < height; y++) {
        VipsPel *row = VIPS_IMAGE_ADDR(image, 0, y);
        double py = y + 0.5 - height / 2.0;
        int split = left + right < width;
        for (int x = 0; x < width; x++) {
            if (split && x == left) {
                double d = cvips_rounded_box_distance(0, py, hx, hy, 0);
                double cov = fmin(1, fmax(0, 0.5 - d));
                memset(row + left, (int)lround(cov * 255), (size_t)(width - left - right));
                x = width - right - 1;
                continue;
            }
            double px = x + 0.5 - width / 2.0;
            double radius = py < 0 ? (px < 0 ? r[0] : r[1]) : (px < 0 ? r[3] : r[2]);
            if (hx <= 0 || hy <= 0) {
                row[x] = 0;
                continue;
            }
            radius = fmin(radius, fmin(hx, hy));
            double d = cvips_rounded_box_distance(px, py, hx, hy, radius);
            double cov = fmin(1, fmax(0, 0.5 - d));
            row[x] = (VipsPel)lround(cov * 255);
        }
    }
    *out = image;
    return 0;
}

int cvips_rounded_ring_mask(VipsImage **out, int width, int height, const double *radii, double thickness) {
    VipsImage *outer = NULL, *inner = NULL, *difference = NULL;
    int r = -1;
    if (cvips_rounded_rect_mask(&outer, width, height, radii, 0) == 0 &&
        cvips_rounded_rect_mask(&inner, width, height, radii, thickness) == 0 &&
        vips_subtract(outer, inner, &difference, NULL) == 0 &&
        vips_cast_uchar(difference, out, NULL) == 0) {
        r = 0;
    }
    if (outer) g_object_unref(outer);
    if (inner) g_object_unref(inner);
    if (difference) g_object_unref(difference);
    return r;
}

int cvips_frame_mask(VipsImage **out, int box_width, int box_height, int x, int y, int width, int height,
                     const double *radii) {
    VipsImage *inside = NULL, *placed = NULL;
    int r = -1;
    if (cvips_rounded_rect_mask(&inside, width, height, radii, 0) == 0 &&
        vips_embed(inside, &placed, x, y, box_width, box_height, "extend", VIPS_EXTEND_BLACK, NULL) == 0 &&
        vips_invert(placed, out, NULL) == 0) {
        r = 0;
    }
    if (inside) g_object_unref(inside);
    if (placed) g_object_unref(placed);
    return r;
}

int cvips_multiply_alpha(VipsImage *in, VipsImage *mask, VipsImage **out) {
    int bands = vips_image_get_bands(in);
    VipsImage *colour = NULL, *alpha = NULL, *product = NULL, *scaled = NULL, *alpha8 = NULL;
    int r = -1;
    if (bands < 2) {
        vips_error("cvips_multiply_alpha", "image has no alpha band");
        return -1;
    }
    if (vips_extract_band(in, &colour, 0, "n", bands - 1, NULL) == 0 &&
        vips_extract_band(in, &alpha, bands - 1, NULL) == 0 &&
        vips_multiply(alpha, mask, &product, NULL) == 0 &&
        vips_linear1(product, &scaled, 1.0 / 255.0, 0.5, NULL) == 0 &&
        vips_cast_uchar(scaled, &alpha8, NULL) == 0 &&
        vips_bandjoin2(colour, alpha8, out, NULL) == 0) {
        r = 0;
    }
    if (colour) g_object_unref(colour);
    if (alpha) g_object_unref(alpha);
    if (product) g_object_unref(product);
    if (scaled) g_object_unref(scaled);
    if (alpha8) g_object_unref(alpha8);
    return r;
}

int cvips_coloured_layer(VipsImage *mask, VipsImage **out, const double *ink, double alpha) {
    VipsImage *solid = NULL, *scaled = NULL, *alpha8 = NULL;
    int r = -1;
    if (cvips_solid_srgb(&solid, vips_image_get_width(mask), vips_image_get_height(mask), ink, 3) == 0 &&
        vips_linear1(mask, &scaled, alpha / 255.0, 0.5, NULL) == 0 &&
        vips_cast_uchar(scaled, &alpha8, NULL) == 0 &&
        vips_bandjoin2(solid, alpha8, out, NULL) == 0) {
        r = 0;
    }
    if (solid) g_object_unref(solid);
    if (scaled) g_object_unref(scaled);
    if (alpha8) g_object_unref(alpha8);
    return r;
}

// ---- end of rotation, border and padding ----------------------------------------------------------------------
