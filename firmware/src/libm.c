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

float floorf(float x) {
    if (is_integral_or_special(x)) {
        return x;
    }
    float t = (float)(int32_t)x;        /* toward zero, exact below 2^23 */
    return (t > x) ? t - 1.0f : t;
}

float ceilf(float x) {
    if (is_integral_or_special(x)) {
        return x;
    }
    float t = (float)(int32_t)x;
    return (t < x) ? t + 1.0f : t;
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
    return (t == 0.0f && x < 0.0f) ? -0.0f : t;
}
