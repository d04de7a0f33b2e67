#ifndef LANEKIOSK_CPNG_SHIM_H
#define LANEKIOSK_CPNG_SHIM_H
#include <png.h>

// libpng's simplified API (png_image): no setjmp/longjmp, errors come back as
// a return value and a message in the png_image. Macros Swift does not import,
// as functions. Only here: no other module includes png.h.

/// PNG_IMAGE_PNG_SIZE_MAX(*image): an upper bound on the encoded size, so one
/// write into a buffer this big always fits.
static inline png_alloc_size_t lanekiosk_png_size_max(const png_image *image) {
    return PNG_IMAGE_PNG_SIZE_MAX(*image);
}

/// PNG_IMAGE_FAILED(*image): an error, not just a warning.
static inline int lanekiosk_png_failed(const png_image *image) {
    return PNG_IMAGE_FAILED(*image);
}

static inline png_uint_32 lanekiosk_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 lanekiosk_png_format_rgba(void) { return PNG_FORMAT_RGBA; }
static inline png_uint_32 lanekiosk_png_image_version(void) { return PNG_IMAGE_VERSION; }

#endif
