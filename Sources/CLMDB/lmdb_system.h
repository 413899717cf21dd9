// LMDB's API is plain C with no variadic functions, so Swift calls it directly; no shim target is needed.
#include <lmdb.h>
