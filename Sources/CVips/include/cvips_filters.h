// libvips wrappers for the filters steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_FILTERS_H
#define CVIPS_FILTERS_H

#include <vips/vips.h>

#endif
