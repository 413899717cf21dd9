#include "CVips.h"

int cvips_jpegsave_opts(VipsImage *in, void **buf, size_t *len, int q, int interlace, int full_chroma) {
    return vips_jpegsave_buffer(in, buf, len,
        "Q", q,
        "interlace", interlace ? TRUE : FALSE,
        "optimize_coding", TRUE,
        "subsample_mode", full_chroma ? VIPS_FOREIGN_SUBSAMPLE_OFF : VIPS_FOREIGN_SUBSAMPLE_ON,
        "strip", TRUE,
        NULL);
}

int cvips_pngsave_opts(VipsImage *in, void **buf, size_t *len, int compression, int palette, int bitdepth, int keep_profile) {
    gboolean strip = keep_profile ? FALSE : TRUE;
    if (palette) {
        return vips_pngsave_buffer(in, buf, len, "compression", compression, "palette", TRUE,
            "bitdepth", bitdepth, "strip", strip, NULL);
    }
    return vips_pngsave_buffer(in, buf, len, "compression", compression, "strip", strip, NULL);
}

int cvips_webpsave_opts(VipsImage *in, void **buf, size_t *len, int q, int lossless) {
    return vips_webpsave_buffer(in, buf, len, "Q", q, "lossless", lossless ? TRUE : FALSE, "strip", TRUE, NULL);
}

int cvips_avifsave_opts(VipsImage *in, void **buf, size_t *len, int q, int effort, int lossless) {
    return vips_heifsave_buffer(in, buf, len,
        "Q", q,
        "lossless", lossless ? TRUE : FALSE,
        "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
        "effort", effort,
        "strip", TRUE,
        NULL);
}

int cvips_gifsave_opts(VipsImage *in, void **buf, size_t *len, int bitdepth) {
    return vips_gifsave_buffer(in, buf, len, "bitdepth", bitdepth, "strip", TRUE, NULL);
}

int cvips_jp2ksave_buffer(VipsImage *in, void **buf, size_t *len, int q, int lossless) {
    return vips_jp2ksave_buffer(in, buf, len, "Q", q, "lossless", lossless ? TRUE : FALSE, "strip", TRUE, NULL);
}

int cvips_copy_resolution(VipsImage *in, VipsImage **out, double xres, double yres) {
    return vips_copy(in, out, "xres", xres, "yres", yres, NULL);
}

int cvips_icc_from_srgb(VipsImage *in, VipsImage **out, const char *profile_path) {
    return vips_icc_transform(in, out, profile_path,
        "input_profile", "srgb",
        "embedded", FALSE,
        "intent", VIPS_INTENT_RELATIVE,
        NULL);
}

void cvips_set_icc(VipsImage *image, const void *profile, size_t len) {
    vips_image_set_blob_copy(image, VIPS_META_ICC_NAME, profile, len);
}

const void *cvips_get_icc(VipsImage *image, size_t *len) {
    return cvips_get_blob(image, VIPS_META_ICC_NAME, len);
}

int cvips_builtin_srgb_profile(VipsBlob **blob, const void **data, size_t *len) {
    if (vips_profile_load("srgb", blob, NULL) != 0 || *blob == NULL) return -1;
    *data = vips_blob_get(*blob, len);
    return 0;
}

void cvips_area_unref(VipsBlob *blob) {
    if (blob) vips_area_unref(VIPS_AREA(blob));
}

int cvips_hist_find(VipsImage *in, VipsImage **out) {
    return vips_hist_find(in, out, NULL);
}

int cvips_linear_uchar(VipsImage *in, VipsImage **out, const double *a, const double *b, int n) {
    return vips_linear(in, out, a, b, n, "uchar", TRUE, NULL);
}

int cvips_copy_memory(VipsImage *in, VipsImage **out) {
    *out = vips_image_copy_memory(in);
    return *out ? 0 : -1;
}

int cvips_thumbnail_image(VipsImage *in, VipsImage **out, int size) {
    return vips_thumbnail_image(in, out, size, "height", size, NULL);
}

void *cvips_write_to_memory(VipsImage *in, size_t *len) {
    return vips_image_write_to_memory(in, len);
}

int cvips_get_int(VipsImage *image, const char *name, int fallback) {
    int v = fallback;
    if (vips_image_get_typeof(image, name) != 0 && vips_image_get_int(image, name, &v) == 0) return v;
    return fallback;
}

const char *cvips_get_string(VipsImage *image, const char *name) {
    const char *s = NULL;
    if (vips_image_get_typeof(image, name) == G_TYPE_STRING && vips_image_get_string(image, name, &s) == 0) return s;
    return NULL;
}

const void *cvips_get_blob(VipsImage *image, const char *name, size_t *len) {
    const void *data = NULL;
    *len = 0;
    if (vips_image_get_typeof(image, name) != 0 && vips_image_get_blob(image, name, &data, len) == 0) return data;
    *len = 0;
    return NULL;
}

double cvips_xres(VipsImage *image) { return vips_image_get_xres(image); }
double cvips_yres(VipsImage *image) { return vips_image_get_yres(image); }
