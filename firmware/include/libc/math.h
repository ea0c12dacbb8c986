/* The part of <math.h> the firmware provides (firmware/src/libm.c); no C library is linked. On the
 * include path (-isystem) of every firmware build, like string.h beside it. */
#ifndef TP_LIBC_MATH_H
#define TP_LIBC_MATH_H

float roundf(float x);   /* nearest integer, halfway cases away from zero (C11 7.12.9.6) */
float floorf(float x);
float ceilf(float x);
float fabsf(float x);

#endif
