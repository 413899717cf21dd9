#ifndef C_SEALED_FILE_H
#define C_SEALED_FILE_H

#include <stddef.h>

/// A memory file (memfd) holding `length` bytes copied from `bytes`, sealed so that nobody can change, grow or
/// shrink it again: pages handed to the kernel by sendfile(2) keep their contents however long they stay in
/// flight. Returns its descriptor (close-on-exec), or -1 with errno set.
int imgedge_sealed_memfd(const void *bytes, size_t length);

#endif
