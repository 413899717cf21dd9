// Fixed-argument wrappers and small composites for the adjust and stylize steps. libvips' option-taking calls
// are C-variadic, which Swift cannot call; the composites (several operations feeding one result) live here so
// their intermediate images are released in one place. See cvips_filters.h for what each one computes.
#include "CVips.h"
#include <math.h>
#include <stdlib.h>

// Intermediate images of a composite: `vips_object_local_array` ties them to `ctx`; unreffing ctx frees them
// all, so the result must be referenced on its own before that (operations ref their inputs).
#define LOCALS(n) \
    VipsImage *ctx = vips_image_new(); \
    VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(ctx), (n))

static int finish(VipsImage *ctx, VipsImage *result, VipsImage **out) {
    if (result) {
        g_object_ref(result);
        *out = result;
    }
    g_object_unref(ctx);
    return result ? 0 : -1;
}

int cvips_extract_bands(VipsImage *in, VipsImage **out, int first, int n) {
    return vips_extract_band(in, out, first, "n", n, NULL);
}

int cvips_bandjoin_pair(VipsImage *a, VipsImage *b, VipsImage **out) {
    return vips_bandjoin2(a, b, out, NULL);
}

int cvips_rint_uchar(VipsImage *in, VipsImage **out) {
    if (vips_image_get_format(in) == VIPS_FORMAT_UCHAR) return vips_copy(in, out, NULL);
    VipsImage *r = NULL;
    if (vips_rint(in, &r, NULL) != 0) return -1;
    int rc = vips_cast_uchar(r, out, NULL);
    g_object_unref(r);
    return rc;
}

int cvips_maplut_uchar(VipsImage *in, VipsImage **out, const unsigned char *table, int bands) {
    VipsImage *lut = vips_image_new_from_memory_copy(table, (size_t)256 * bands, 256, 1, bands, VIPS_FORMAT_UCHAR);
    if (lut == NULL) return -1;
    int rc = vips_maplut(in, out, lut, NULL);
    g_object_unref(lut);
    return rc;
}

int cvips_premultiply_alpha(VipsImage *in, VipsImage **out) {
    return vips_premultiply(in, out, NULL);
}

int cvips_unpremultiply_uchar(VipsImage *in, VipsImage **out) {
    VipsImage *u = NULL;
    if (vips_unpremultiply(in, &u, NULL) != 0) return -1;
    int rc = cvips_rint_uchar(u, out);
    g_object_unref(u);
    return rc;
}

int cvips_shrink_box(VipsImage *in, VipsImage **out, int xfac, int yfac) {
    return vips_shrink(in, out, (double)xfac, (double)yfac, NULL);
}

int cvips_zoom(VipsImage *in, VipsImage **out, int xfac, int yfac) {
    return vips_zoom(in, out, xfac, yfac, NULL);
}

int cvips_sharpen_luminance(VipsImage *in, VipsImage **out, double sigma, double x1, double y2, double y3,
                            double m1, double m2) {
    return vips_sharpen(in, out, "sigma", sigma, "x1", x1, "y2", y2, "y3", y3, "m1", m1, "m2", m2, NULL);
}

int cvips_unsharp_combine(VipsImage *in, VipsImage *blurred, VipsImage **out, double amount) {
    LOCALS(4);
    VipsImage *result = NULL;
    if (vips_linear1(in, &t[0], 1.0 + amount, 0.0, NULL) == 0 &&
        vips_linear1(blurred, &t[1], -amount, 0.0, NULL) == 0 &&
        vips_add(t[0], t[1], &t[2], NULL) == 0 &&
        cvips_rint_uchar(t[2], &t[3]) == 0) {
        result = t[3];
    }
    return finish(ctx, result, out);
}

int cvips_noise_reduce(VipsImage *in, VipsImage *blurred, VipsImage **out, const float *k_table) {
    LOCALS(8);
    VipsImage *result = NULL;
    t[0] = vips_image_new_from_memory_copy(k_table, 256 * sizeof(float), 256, 1, 1, VIPS_FORMAT_FLOAT);
    if (t[0] != NULL &&
        vips_subtract(blurred, in, &t[1], NULL) == 0 &&   // blurred - in
        vips_abs(t[1], &t[2], NULL) == 0 &&
        vips_cast_uchar(t[2], &t[3], NULL) == 0 &&         // |d|, clipped to 255
        vips_maplut(t[3], &t[4], t[0], NULL) == 0 &&       // k per pixel and band
        vips_multiply(t[4], t[1], &t[5], NULL) == 0 &&
        vips_add(in, t[5], &t[6], NULL) == 0 &&
        cvips_rint_uchar(t[6], &t[7]) == 0) {
        result = t[7];
    }
    return finish(ctx, result, out);
}

int cvips_lch_adjust(VipsImage *in, VipsImage **out, double hue_degrees, double chroma_scale, double vibrance) {
    LOCALS(14);
    if (vips_colourspace(in, &t[0], VIPS_INTERPRETATION_LCH, NULL) != 0 ||
        vips_extract_band(t[0], &t[1], 0, NULL) != 0 ||
        vips_extract_band(t[0], &t[2], 1, NULL) != 0 ||
        vips_extract_band(t[0], &t[3], 2, NULL) != 0) {
        return finish(ctx, NULL, out);
    }
    VipsImage *chroma = t[2];
    if (vibrance != 0) {
        // factor = 1 + vibrance * exp(-C / 40): greys and muted colours get the whole change, saturated
        // ones (C of 100 and more) almost none, so skin tones and already vivid colours are spared.
        if (vips_linear1(chroma, &t[4], -1.0 / 40.0, 0.0, NULL) != 0 ||
            vips_exp(t[4], &t[5], NULL) != 0 ||
            vips_linear1(t[5], &t[6], vibrance, 1.0, NULL) != 0 ||
            vips_multiply(chroma, t[6], &t[7], NULL) != 0) {
            return finish(ctx, NULL, out);
        }
        chroma = t[7];
    }
    VipsImage *bands[3];
    if (vips_linear1(chroma, &t[8], chroma_scale, 0.0, NULL) != 0 ||
        vips_linear1(t[3], &t[9], 1.0, hue_degrees, NULL) != 0) {
        return finish(ctx, NULL, out);
    }
    bands[0] = t[1];
    bands[1] = t[8];
    bands[2] = t[9];
    VipsImage *result = NULL;
    if (vips_bandjoin(bands, &t[10], 3, NULL) == 0 &&
        vips_copy(t[10], &t[11], "interpretation", VIPS_INTERPRETATION_LCH, NULL) == 0 &&
        vips_colourspace(t[11], &t[12], VIPS_INTERPRETATION_sRGB, NULL) == 0 &&
        cvips_rint_uchar(t[12], &t[13]) == 0) {
        result = t[13];
    }
    return finish(ctx, result, out);
}

int cvips_recomb_uchar(VipsImage *in, VipsImage **out, const double *matrix) {
    LOCALS(3);
    VipsImage *result = NULL;
    t[0] = vips_image_new_matrix_from_array(3, 3, matrix, 9);
    if (t[0] != NULL &&
        vips_recomb(in, &t[1], t[0], NULL) == 0 &&
        cvips_rint_uchar(t[1], &t[2]) == 0) {
        result = t[2];
    }
    return finish(ctx, result, out);
}

int cvips_tone_map(VipsImage *in, VipsImage **out, const unsigned char *table, double mix) {
    LOCALS(9);
    VipsImage *result = NULL;
    t[0] = vips_image_new_from_memory_copy(table, 256 * 3, 256, 1, 3, VIPS_FORMAT_UCHAR);
    if (t[0] == NULL ||
        vips_colourspace(in, &t[1], VIPS_INTERPRETATION_B_W, NULL) != 0 ||
        cvips_rint_uchar(t[1], &t[2]) != 0 ||
        vips_maplut(t[2], &t[3], t[0], NULL) != 0 ||   // 1 band through a 3-band table: 3 bands
        vips_copy(t[3], &t[4], "interpretation", VIPS_INTERPRETATION_sRGB, NULL) != 0) {
        return finish(ctx, NULL, out);
    }
    if (mix >= 1.0) return finish(ctx, t[4], out);
    if (vips_linear1(in, &t[5], 1.0 - mix, 0.0, NULL) == 0 &&
        vips_linear1(t[4], &t[6], mix, 0.0, NULL) == 0 &&
        vips_add(t[5], t[6], &t[7], NULL) == 0 &&
        cvips_rint_uchar(t[7], &t[8]) == 0) {
        result = t[8];
    }
    return finish(ctx, result, out);
}

typedef struct {
    double spot;
    int index;
} cvips_spot;

static int cvips_spot_compare(const void *a, const void *b) {
    const cvips_spot *x = a, *y = b;
    if (x->spot < y->spot) return -1;
    if (x->spot > y->spot) return 1;
    return x->index - y->index;  // stable: equal spots keep scan order
}

int cvips_halftone(VipsImage *in, VipsImage **out, int period) {
    if (period < 2) period = 2;
    const int n = period * period;
    // Spot function cos(x) * cos(y): ink dots grow from its maxima at (0, 0) and (P/2, P/2), a lattice at
    // 45 degrees. Thresholds are the ranks of the spot values, so a flat grey L inks 1 - L/255 of each cell.
    cvips_spot *spots = g_new(cvips_spot, n);
    for (int y = 0; y < period; y++) {
        for (int x = 0; x < period; x++) {
            double fx = cos(2.0 * M_PI * (x + 0.5) / period);
            double fy = cos(2.0 * M_PI * (y + 0.5) / period);
            spots[y * period + x] = (cvips_spot){fx * fy, y * period + x};
        }
    }
    qsort(spots, n, sizeof(cvips_spot), cvips_spot_compare);
    float *screen = g_new(float, n);
    for (int r = 0; r < n; r++) screen[spots[r].index] = (float)((r + 0.5) * 255.0 / n);
    g_free(spots);

    LOCALS(10);
    VipsImage *result = NULL;
    t[0] = vips_image_new_from_memory_copy(screen, (size_t)n * sizeof(float), period, period, 1, VIPS_FORMAT_FLOAT);
    g_free(screen);
    const int width = vips_image_get_width(in), height = vips_image_get_height(in);
    // Antialiasing: thresholds change by about 255 / (P / 3) per pixel across a dot's edge, so scaling the
    // difference by P / 3 spreads the edge over roughly one pixel.
    const double gain = period / 3.0 > 1.0 ? period / 3.0 : 1.0;
    if (t[0] != NULL &&
        vips_colourspace(in, &t[1], VIPS_INTERPRETATION_B_W, NULL) == 0 &&
        vips_replicate(t[0], &t[2], (width + period - 1) / period, (height + period - 1) / period, NULL) == 0 &&
        vips_extract_area(t[2], &t[3], 0, 0, width, height, NULL) == 0 &&
        vips_subtract(t[1], t[3], &t[4], NULL) == 0 &&
        vips_linear1(t[4], &t[5], gain, 127.5, NULL) == 0 &&
        cvips_rint_uchar(t[5], &t[6]) == 0) {
        VipsImage *bands[3] = {t[6], t[6], t[6]};
        if (vips_bandjoin(bands, &t[7], 3, NULL) == 0 &&
            vips_copy(t[7], &t[8], "interpretation", VIPS_INTERPRETATION_sRGB, NULL) == 0) {
            result = t[8];
        }
    }
    return finish(ctx, result, out);
}
