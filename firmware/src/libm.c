/* roundf, floorf, ceilf, fabsf for code that includes <math.h> (see include/libc/math.h). Exact for
 * every float: values of magnitude >= 2^23 are already integers, NaN and infinities pass through. */
#include <math.h>
#include <stdint.h>

#define TWO_POW_23 8388608.0f

float fabsf(float x) {
    union { float f; uint32_t u; } v = { .f = x };
    v.u &= 0x7FFFFFFFu;
    return v.f;
}

static int is_integral_or_special(float x) {
    return !(fabsf(x) < TWO_POW_23);    /* large, infinite or NaN */
}

/* A zero result keeps the sign of the argument (C11 F.10.6: floor(-0.5) is -0, ceil(-0.5) is -0). */
static float signed_zero(float result, float x) {
    if (result != 0.0f) {
        return result;
    }
    union { float f; uint32_t u; } v = { .f = x };
    return (v.u >> 31) ? -0.0f : 0.0f;
}

float floorf(float x) {
    if (is_integral_or_special(x)) {
        return x;
    }
    float t = (float)(int32_t)x;        /* toward zero, exact below 2^23 */
    return signed_zero((t > x) ? t - 1.0f : t, x);
}

float ceilf(float x) {
    if (is_integral_or_special(x)) {
        return x;
    }
    float t = (float)(int32_t)x;
    return signed_zero((t < x) ? t + 1.0f : t, x);
}

float roundf(float x) {
    if (is_integral_or_special(x)) {
        return x;
    }
    float t = (float)(int32_t)x;        /* toward zero */
    float frac = x - t;                 /* exact: same binade or smaller */
    if (frac >= 0.5f) {
        t += 1.0f;
    } else if (frac <= -0.5f) {
        t -= 1.0f;
    }
    return signed_zero(t, x);
}
