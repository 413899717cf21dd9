#include "CVips.h"
#include <malloc.h>
#include <string.h>

/* vips reports damaged input twice: as the failing call's error (which we classify and log) and as GLib
 * warnings on stderr ("error in tile 0 x 0"). The second copy is noise for a server: drop it. */
static void cvips_drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

int cvips_init(const char *argv0, int concurrency) {
    /* glibc gives each thread that allocates its own arena; with libvips' large per-request buffers spread over
     * the transform threads, that grew peak memory by 40-70 % (measured: 200 -> 115 MB for 4 concurrent misses on
     * a 20 MP photo) for no speed gain. Two arenas serve the bounded transform pool. */
    mallopt(M_ARENA_MAX, 2);
    /* glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), after which decodes'
     * multi-megabyte buffers come from the arenas, where fragments of them stay resident between requests: 48
     * misses at concurrency 4 on a 12 MP progressive JPEG peaked at 237-439 MB. A fixed threshold keeps every
     * buffer of 1 MiB or more in its own mapping, returned to the system when freed: 177-202 MB, no change on
     * baseline photos, but 10-15 % fewer misses a second on that progressive one (fresh pages are faulted in for
     * each decode). malloc_trim after each transform held memory as low but cost baseline photos 20-30 %.
     * (tools/bench/rss-ab) */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (VIPS_INIT(argv0) != 0) return -1;
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO, cvips_drop_log, NULL);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(concurrency > 0 ? concurrency : 1);
    return 0;
}

char *cvips_error_take(void) {
    char *copy = vips_error_buffer_copy();
    return copy;
}

const char *cvips_find_load_buffer(const void *buf, size_t len) {
    const char *name = vips_foreign_find_load_buffer(buf, len);
    if (name == NULL) vips_error_clear();
    return name;
}

int cvips_image_new_from_buffer(const void *buf, size_t len, int fail, VipsImage **out) {
    *out = vips_image_new_from_buffer(buf, len, "",
        "access", VIPS_ACCESS_SEQUENTIAL,
        "fail_on", fail ? VIPS_FAIL_ON_ERROR : VIPS_FAIL_ON_NONE,
        NULL);
    return *out ? 0 : -1;
}

int cvips_thumbnail_buffer(const void *buf, size_t len, int width, int height, int fail, int srgb, VipsImage **out) {
    if (srgb)
        return vips_thumbnail_buffer((void *)buf, len, out, width,
            "height", height,
            "size", VIPS_SIZE_FORCE,
            "export_profile", "srgb",
            "option_string", fail ? "fail_on=error" : "",
            NULL);
    return vips_thumbnail_buffer((void *)buf, len, out, width,
        "height", height,
        "size", VIPS_SIZE_FORCE,
        "option_string", fail ? "fail_on=error" : "",
        NULL);
}

int cvips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

int cvips_embed_background(VipsImage *in, VipsImage **out, int x, int y, int width, int height, const double *bg, int n) {
    VipsArrayDouble *background = vips_array_double_new(bg, n);
    int r = vips_embed(in, out, x, y, width, height,
        "extend", VIPS_EXTEND_BACKGROUND,
        "background", background,
        NULL);
    vips_area_unref(VIPS_AREA(background));
    return r;
}

int cvips_flatten(VipsImage *in, VipsImage **out, const double *bg, int n) {
    VipsArrayDouble *background = vips_array_double_new(bg, n);
    int r = vips_flatten(in, out, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return r;
}

int cvips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}

int cvips_cast_uchar(VipsImage *in, VipsImage **out) {
    return vips_cast_uchar(in, out, NULL);
}

int cvips_copy(VipsImage *in, VipsImage **out) {
    return vips_copy(in, out, NULL);
}

int cvips_bandjoin_const1(VipsImage *in, VipsImage **out, double c) {
    return vips_bandjoin_const1(in, out, c, NULL);
}

int cvips_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, int q, int interlace) {
    return vips_jpegsave_buffer(in, buf, len,
        "Q", q,
        "interlace", interlace ? TRUE : FALSE,
        "optimize_coding", TRUE,
        "strip", TRUE,
        NULL);
}

int cvips_pngsave_buffer(VipsImage *in, void **buf, size_t *len, int compression) {
    return vips_pngsave_buffer(in, buf, len, "compression", compression, "strip", TRUE, NULL);
}

int cvips_webpsave_buffer(VipsImage *in, void **buf, size_t *len, int q) {
    return vips_webpsave_buffer(in, buf, len, "Q", q, "strip", TRUE, NULL);
}

int cvips_avifsave_buffer(VipsImage *in, void **buf, size_t *len, int q, int effort) {
    return vips_heifsave_buffer(in, buf, len,
        "Q", q,
        "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
        "effort", effort,
        "strip", TRUE,
        NULL);
}

int cvips_gifsave_buffer(VipsImage *in, void **buf, size_t *len) {
    return vips_gifsave_buffer(in, buf, len, "strip", TRUE, NULL);
}

void cvips_remove_metadata(VipsImage *image) {
    gchar **fields = vips_image_get_fields(image);
    if (fields == NULL) return;
    for (int i = 0; fields[i] != NULL; i++) {
        const char *f = fields[i];
        if (strncmp(f, "exif-", 5) == 0 || strcmp(f, "xmp-data") == 0 || strcmp(f, "iptc-data") == 0 ||
            strcmp(f, VIPS_META_ICC_NAME) == 0 || strcmp(f, VIPS_META_ORIENTATION) == 0 ||
            strncmp(f, "png-comment-", 12) == 0 || strcmp(f, "gif-comment") == 0 ||
            strcmp(f, "jpeg-comment") == 0 || strcmp(f, VIPS_META_IMAGEDESCRIPTION) == 0 ||
            strncmp(f, "heif-", 5) == 0) {
            vips_image_remove(image, f);
        }
    }
    g_strfreev(fields);
}

int cvips_orientation(VipsImage *image) {
    int o = 1;
    if (vips_image_get_typeof(image, VIPS_META_ORIENTATION) != 0 &&
        vips_image_get_int(image, VIPS_META_ORIENTATION, &o) == 0 && o >= 1 && o <= 8) {
        return o;
    }
    return 1;
}

void cvips_unref(void *object) {
    if (object) g_object_unref(object);
}

int cvips_thumbnail_buffer_norotate(const void *buf, size_t len, int width, int height, int fail, int srgb, VipsImage **out) {
    if (srgb)
        return vips_thumbnail_buffer((void *)buf, len, out, width,
            "height", height,
            "size", VIPS_SIZE_FORCE,
            "no_rotate", TRUE,
            "export_profile", "srgb",
            "option_string", fail ? "fail_on=error" : "",
            NULL);
    return vips_thumbnail_buffer((void *)buf, len, out, width,
        "height", height,
        "size", VIPS_SIZE_FORCE,
        "no_rotate", TRUE,
        "option_string", fail ? "fail_on=error" : "",
        NULL);
}

int cvips_autorot_as(VipsImage *in, VipsImage **out, int orientation) {
    VipsImage *tagged;
    if (vips_copy(in, &tagged, NULL) != 0) return -1;
    vips_image_set_int(tagged, VIPS_META_ORIENTATION, orientation);
    int r = vips_autorot(tagged, out, NULL);
    g_object_unref(tagged);
    return r;
}

int cvips_find_trim(VipsImage *in, double threshold, const double *bg, int n, int *left, int *top, int *width, int *height) {
    VipsArrayDouble *background = vips_array_double_new(bg, n);
    int r = vips_find_trim(in, left, top, width, height, "threshold", threshold, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return r;
}

int cvips_getpoint(VipsImage *in, int x, int y, double *values, int *n) {
    double *vector = NULL;
    int count = 0;
    if (vips_getpoint(in, &vector, &count, x, y, NULL) != 0) return -1;
    *n = count < 4 ? count : 4;
    for (int i = 0; i < *n; i++) values[i] = vector[i];
    g_free(vector);
    return 0;
}

int cvips_extract_band(VipsImage *in, VipsImage **out, int band) {
    return vips_extract_band(in, out, band, NULL);
}

int cvips_smartcrop(VipsImage *in, VipsImage **out, int width, int height, int attention) {
    return vips_smartcrop(in, out, width, height,
        "interesting", attention ? VIPS_INTERESTING_ATTENTION : VIPS_INTERESTING_ENTROPY, NULL);
}

int cvips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale) {
    return vips_resize(in, out, hscale, "vscale", vscale, NULL);
}

int cvips_gaussblur(VipsImage *in, VipsImage **out, double sigma) {
    return vips_gaussblur(in, out, sigma, NULL);
}

int cvips_embed_extend(VipsImage *in, VipsImage **out, int x, int y, int width, int height) {
    return vips_embed(in, out, x, y, width, height, "extend", VIPS_EXTEND_COPY, NULL);
}

int cvips_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y) {
    return vips_insert(main, sub, out, x, y, NULL);
}

int cvips_draw_cross(VipsImage *in, VipsImage **out, int x, int y, const double *ink, int n) {
    VipsImage *copy = vips_image_copy_memory(in);
    if (copy == NULL) return -1;
    int w = vips_image_get_width(copy), h = vips_image_get_height(copy);
    if (vips_draw_line(copy, (double *)ink, n, 0, y, w - 1, y, NULL) != 0 ||
        vips_draw_line(copy, (double *)ink, n, x, 0, x, h - 1, NULL) != 0) {
        g_object_unref(copy);
        return -1;
    }
    *out = copy;
    return 0;
}

int cvips_decode_jpeg(const void *buf, size_t len, int shrink, int *width, int *height) {
    VipsImage *image;
    if (vips_jpegload_buffer((void *)buf, len, &image, "shrink", shrink, "access", VIPS_ACCESS_SEQUENTIAL,
            "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0)
        return -1;
    VipsImage *memory = vips_image_copy_memory(image);
    g_object_unref(image);
    if (memory == NULL)
        return -1;
    *width = memory->Xsize;
    *height = memory->Ysize;
    g_object_unref(memory);
    return 0;
}

int cvips_jpegload_memory(const void *buf, size_t len, int shrink, VipsImage **out) {
    VipsImage *image;
    if (vips_jpegload_buffer((void *)buf, len, &image, "shrink", shrink, "access", VIPS_ACCESS_SEQUENTIAL,
            "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0)
        return -1;
    *out = vips_image_copy_memory(image);
    g_object_unref(image);
    return *out == NULL ? -1 : 0;
}

int cvips_shrink_memory(VipsImage *in, int factor, VipsImage **out) {
    /* As libjpeg's DCT scaling does, a partial block at the right or bottom edge counts as a whole one, its edge
     * pixels repeated: the result is ceil(size / factor), the size a decode at that scale has. */
    int w = (in->Xsize + factor - 1) / factor * factor, h = (in->Ysize + factor - 1) / factor * factor;
    VipsImage *padded = in;
    if (w != in->Xsize || h != in->Ysize) {
        if (vips_embed(in, &padded, 0, 0, w, h, "extend", VIPS_EXTEND_COPY, NULL) != 0)
            return -1;
    } else {
        g_object_ref(in);
    }
    VipsImage *shrunk;
    int r = vips_shrink(padded, &shrunk, (double)factor, (double)factor, NULL);
    g_object_unref(padded);
    if (r != 0)
        return -1;
    *out = vips_image_copy_memory(shrunk);
    g_object_unref(shrunk);
    return *out == NULL ? -1 : 0;
}

int cvips_thumbnail_of(VipsImage *in, int width, int height, int srgb, int no_rotate, VipsImage **out) {
    if (srgb)
        return vips_thumbnail_image(in, out, width, "height", height, "size", VIPS_SIZE_FORCE,
            "no_rotate", no_rotate ? TRUE : FALSE, "export_profile", "srgb", NULL);
    return vips_thumbnail_image(in, out, width, "height", height, "size", VIPS_SIZE_FORCE,
        "no_rotate", no_rotate ? TRUE : FALSE, NULL);
}

int cvips_jpeg_shrink_thumbnail(const void *buf, size_t len, int shrink, int width, int height, int srgb,
                                int no_rotate, VipsImage **out) {
    VipsImage *shrunk;
    if (vips_jpegload_buffer((void *)buf, len, &shrunk,
            "shrink", shrink,
            "access", VIPS_ACCESS_SEQUENTIAL,
            "fail_on", VIPS_FAIL_ON_ERROR,
            NULL) != 0)
        return -1;
    int r;
    if (srgb)
        r = vips_thumbnail_image(shrunk, out, width, "height", height, "size", VIPS_SIZE_FORCE,
            "no_rotate", no_rotate ? TRUE : FALSE, "export_profile", "srgb", NULL);
    else
        r = vips_thumbnail_image(shrunk, out, width, "height", height, "size", VIPS_SIZE_FORCE,
            "no_rotate", no_rotate ? TRUE : FALSE, NULL);
    g_object_unref(shrunk);
    return r;
}
