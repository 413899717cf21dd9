// libvips wrappers for the formats steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_FORMATS_H
#define CVIPS_FORMATS_H

#include <vips/vips.h>

#endif
