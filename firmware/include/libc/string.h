/* The part of <string.h> the firmware provides (firmware/src/mem.c); no C library is linked. This
 * directory is on the include path (-isystem) of every firmware build so that code including
 * <string.h> builds the same with arm-none-eabi-gcc and with zig (whose freestanding target has no
 * libc headers). */
#ifndef TP_LIBC_STRING_H
#define TP_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int value, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
