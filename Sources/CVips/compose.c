#include "CVips.h"
#include <math.h>
#include <string.h>

/* Intermediate images of one helper hang off a throwaway parent object: unreffing it releases them all,
 * while the result (a vips_copy) keeps what it still needs alive through its own references. */
#define CVIPS_LOCALS(n) \
    VipsObject *scope = VIPS_OBJECT(vips_image_new()); \
    VipsImage **t = (VipsImage **) vips_object_local_array(scope, (n))
#define CVIPS_DONE(rc) do { int cvips_rc = (rc); g_object_unref(scope); return cvips_rc; } while (0)

static void cvips_free_bytes(VipsImage *image, gpointer bytes) {
    (void)image;
    g_free(bytes);
}

int cvips_thumbnail_buffer_copy(const void *buf, size_t len, int width, int height, VipsImage **out) {
    void *copy = g_memdup2(buf, len);
    if (vips_thumbnail_buffer(copy, len, out, width,
            "height", height,
            "size", VIPS_SIZE_FORCE,
            "option_string", "fail_on=error",
            NULL)) {
        g_free(copy);
        return -1;
    }
    g_signal_connect(*out, "postclose", G_CALLBACK(cvips_free_bytes), copy);
    return 0;
}

int cvips_to_srgba(VipsImage *in, VipsImage **out) {
    CVIPS_LOCALS(4);
    VipsImage *c = in;
    if (vips_colourspace(c, &t[0], VIPS_INTERPRETATION_sRGB, NULL)) CVIPS_DONE(-1);
    c = t[0];
    if (vips_cast_uchar(c, &t[1], NULL)) CVIPS_DONE(-1);
    c = t[1];
    if (c->Bands > 4) {
        if (vips_extract_band(c, &t[2], 0, "n", 4, NULL)) CVIPS_DONE(-1);
        c = t[2];
    } else if (c->Bands == 3) {
        if (vips_bandjoin_const1(c, &t[2], 255.0, NULL)) CVIPS_DONE(-1);
        c = t[2];
    }
    if (c->Bands != 4) {
        vips_error("cvips_to_srgba", "unexpected band count %d", c->Bands);
        CVIPS_DONE(-1);
    }
    CVIPS_DONE(vips_copy(c, out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL));
}

int cvips_scale_alpha(VipsImage *in, VipsImage **out, double opacity) {
    CVIPS_LOCALS(2);
    double a[4] = {1.0, 1.0, 1.0, opacity};
    double b[4] = {0.0, 0.0, 0.0, 0.0};
    if (vips_linear(in, &t[0], a, b, 4, NULL)) CVIPS_DONE(-1);
    if (vips_cast_uchar(t[0], &t[1], NULL)) CVIPS_DONE(-1);
    CVIPS_DONE(vips_copy(t[1], out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL));
}

int cvips_rotate_transparent(VipsImage *in, VipsImage **out, double angle) {
    CVIPS_LOCALS(4);
    /* Right angles are exact pixel moves (vips_rot turns clockwise). */
    if (angle == 90.0) CVIPS_DONE(vips_rot(in, out, VIPS_ANGLE_D270, NULL));
    if (angle == 180.0) CVIPS_DONE(vips_rot(in, out, VIPS_ANGLE_D180, NULL));
    if (angle == 270.0) CVIPS_DONE(vips_rot(in, out, VIPS_ANGLE_D90, NULL));
    double zero[4] = {0.0, 0.0, 0.0, 0.0};
    VipsArrayDouble *background = vips_array_double_new(zero, 4);
    int r = vips_premultiply(in, &t[0], NULL)
        || vips_rotate(t[0], &t[1], angle, "background", background, NULL)
        || vips_unpremultiply(t[1], &t[2], NULL)
        || vips_cast_uchar(t[2], &t[3], NULL);
    vips_area_unref(VIPS_AREA(background));
    if (r) CVIPS_DONE(-1);
    CVIPS_DONE(vips_copy(t[3], out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL));
}

int cvips_tile_grid(VipsImage *tile, VipsImage **out, int gap_x, int gap_y, int x, int y, int width, int height) {
    CVIPS_LOCALS(2);
    int cw = tile->Xsize + gap_x, ch = tile->Ysize + gap_y;
    /* Where, inside its cell, the grid's copies begin in output coordinates. */
    int ox = ((x % cw) + cw) % cw, oy = ((y % ch) + ch) % ch;
    int across = width / cw + 2, down = height / ch + 2;
    double zero[4] = {0.0, 0.0, 0.0, 0.0};
    VipsArrayDouble *background = vips_array_double_new(zero, 4);
    int r = vips_embed(tile, &t[0], 0, 0, cw, ch,
        "extend", VIPS_EXTEND_BACKGROUND, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    if (r || vips_replicate(t[0], &t[1], across, down, NULL)) CVIPS_DONE(-1);
    CVIPS_DONE(vips_extract_area(t[1], out, (cw - ox) % cw, (ch - oy) % ch, width, height, NULL));
}

int cvips_overlay(VipsImage *base, VipsImage *layer, VipsImage **out, int x, int y) {
    CVIPS_LOCALS(4);
    int left = MAX(x, 0), top = MAX(y, 0);
    int right = MIN((gint64)x + layer->Xsize, base->Xsize), bottom = MIN((gint64)y + layer->Ysize, base->Ysize);
    if (right <= left || bottom <= top) CVIPS_DONE(vips_copy(base, out, NULL));
    VipsImage *c;
    if (vips_extract_area(layer, &t[0], left - x, top - y, right - left, bottom - top, NULL)
        || vips_composite2(base, t[0], &t[1], VIPS_BLEND_MODE_OVER, "x", left, "y", top, NULL))
        CVIPS_DONE(-1);
    c = t[1];
    if (!vips_image_hasalpha(base) && c->Bands > base->Bands) {
        if (vips_extract_band(c, &t[2], 0, "n", base->Bands, NULL)) CVIPS_DONE(-1);
        c = t[2];
    }
    if (vips_cast(c, &t[3], base->BandFmt, NULL)) CVIPS_DONE(-1);
    CVIPS_DONE(vips_copy(t[3], out, "interpretation", base->Type, NULL));
}

int cvips_text_mask(VipsImage **out, const char *text, const char *font, int letter_spacing, int line_spacing) {
    char *escaped = g_markup_escape_text(text, -1);
    char *markup = letter_spacing != 0
        ? g_strdup_printf("<span letter_spacing=\"%d\">%s</span>", letter_spacing, escaped)
        : g_strdup(escaped);
    int r = line_spacing > 0
        ? vips_text(out, markup, "font", font, "dpi", 72, "wrap", VIPS_TEXT_WRAP_NONE, "spacing", line_spacing, NULL)
        : vips_text(out, markup, "font", font, "dpi", 72, "wrap", VIPS_TEXT_WRAP_NONE, NULL);
    g_free(markup);
    g_free(escaped);
    return r;
}

int cvips_text_layer(VipsImage *mask, VipsImage **out, const double rgba[4], int line, const double line_rgba[4],
                     double shadow, int *margin) {
    CVIPS_LOCALS(20);
    /* Room for the halo, and transparent pixels around glyphs that touch the mask's edge (vips_rank extends
     * edges, which would hide the outline there). */
    int m = MAX(shadow > 0 ? (int)ceil(3.0 * shadow) + 1 : 0, line > 0 ? line + 1 : 0);
    *margin = m;
    VipsImage *coverage = mask;
    if (m > 0) {
        if (vips_embed(mask, &t[0], m, m, mask->Xsize + 2 * m, mask->Ysize + 2 * m, NULL)) CVIPS_DONE(-1);
        coverage = t[0];
    }
    VipsImage *rgb, *alpha;
    if (line > 0) {
        /* inner = 1 where the glyph is at least `line` px deep, falling to 0 at its edge: outline colour
         * there, fill colour inside, mixed in between. */
        int w = 2 * line + 1;
        if (vips_rank(coverage, &t[1], w, 1, 0, NULL) || vips_rank(t[1], &t[2], 1, w, 0, NULL)) CVIPS_DONE(-1);
        double a3[3], b3[3];
        for (int i = 0; i < 3; i++) {
            a3[i] = (rgba[i] - line_rgba[i]) / 255.0;
            b3[i] = line_rgba[i];
        }
        double aa = (rgba[3] - line_rgba[3]) / 255.0 / 255.0, ba = line_rgba[3] / 255.0;
        if (vips_linear(t[2], &t[3], a3, b3, 3, NULL)
            || vips_linear1(t[2], &t[4], aa, ba, NULL)
            || vips_multiply(coverage, t[4], &t[5], NULL))
            CVIPS_DONE(-1);
        rgb = t[3];
        alpha = t[5];
    } else {
        double zero3[3] = {0.0, 0.0, 0.0};
        double colour[3] = {rgba[0], rgba[1], rgba[2]};
        if (vips_linear(coverage, &t[3], zero3, colour, 3, NULL)
            || vips_linear1(coverage, &t[5], rgba[3] / 255.0, 0.0, NULL))
            CVIPS_DONE(-1);
        rgb = t[3];
        alpha = t[5];
    }
    if (vips_bandjoin2(rgb, alpha, &t[6], NULL)
        || vips_cast_uchar(t[6], &t[7], NULL)
        || vips_copy(t[7], &t[8], "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
        CVIPS_DONE(-1);
    VipsImage *layer = t[8];
    if (shadow > 0) {
        /* The halo: the mask blurred, black, as opaque as the text colour. */
        double zero3[3] = {0.0, 0.0, 0.0};
        if (vips_gaussblur(coverage, &t[9], shadow, NULL)
            || vips_linear(t[9], &t[10], zero3, zero3, 3, NULL)
            || vips_linear1(t[9], &t[11], rgba[3] / 255.0, 0.0, NULL)
            || vips_bandjoin2(t[10], t[11], &t[12], NULL)
            || vips_cast_uchar(t[12], &t[13], NULL)
            || vips_copy(t[13], &t[14], "interpretation", VIPS_INTERPRETATION_sRGB, NULL)
            || vips_composite2(t[14], layer, &t[15], VIPS_BLEND_MODE_OVER, NULL)
            || vips_cast_uchar(t[15], &t[16], NULL))
            CVIPS_DONE(-1);
        layer = t[16];
    }
    CVIPS_DONE(vips_copy(layer, out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL));
}
