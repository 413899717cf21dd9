// libvips wrappers for the geometry steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_GEOMETRY_H
#define CVIPS_GEOMETRY_H

#include <vips/vips.h>

#endif
