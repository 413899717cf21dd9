// zlib, for crc32 checksums of cache entries; its API is not variadic, so Swift calls it directly.
#include <zlib.h>
