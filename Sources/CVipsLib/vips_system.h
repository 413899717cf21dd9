// libvips' public header, exposed to Swift through pkg-config ("vips").
#include <vips/vips.h>
