// libvips wrappers for the compose steps (see CVips.h for why wrappers exist).
#ifndef CVIPS_COMPOSE_H
#define CVIPS_COMPOSE_H

#include <vips/vips.h>

#endif
