/* memcpy, memmove, memset, memcmp: the firmware links no C library, but compilers emit calls to these
 * (struct copies, zero-initialised arrays) and the model code uses them. Word-at-a-time when aligned. */
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
/* keep GCC from turning these loops back into calls to themselves */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) {
            *(uint32_t *)(void *)d = *(const uint32_t *)(const void *)s;
        }
    }
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0) {
        return dst;
    }
    if (d < s || d >= s + n) {
        while (n--) {
            *d++ = *s++;
        }
    } else {
        d += n;
        s += n;
        while (n--) {
            *--d = *--s;
        }
    }
    return dst;
}

void *memset(void *dst, int value, size_t n) {
    uint8_t *d = dst;
    uint8_t b = (uint8_t)value;
    while (n && ((uintptr_t)d & 3u)) {
        *d++ = b;
        n--;
    }
    uint32_t w = 0x01010101u * b;
    for (; n >= 4; n -= 4, d += 4) {
        *(uint32_t *)(void *)d = w;
    }
    while (n--) {
        *d++ = b;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}
