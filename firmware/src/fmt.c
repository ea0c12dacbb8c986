/* Text formatting without libc; see fmt.h. */
#include "fmt.h"

void tp_fmt_init(tp_fmt_t *f, char *buf, size_t cap) {
    f->buf = buf;
    f->cap = cap;
    f->len = 0;
    f->overflow = 0;
    if (cap) {
        buf[0] = '\0';
    }
}

void tp_fmt_char(tp_fmt_t *f, char c) {
    if (f->len + 1 < f->cap) {
        f->buf[f->len++] = c;
        f->buf[f->len] = '\0';
    } else {
        f->overflow = 1;
    }
}

void tp_fmt_mem(tp_fmt_t *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        tp_fmt_char(f, s[i]);
    }
}

void tp_fmt_str(tp_fmt_t *f, const char *s) {
    while (*s) {
        tp_fmt_char(f, *s++);
    }
}

static void fmt_u64(tp_fmt_t *f, uint64_t v, int min_digits) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v && n < 20);
    while (n < min_digits && n < 20) {
        digits[n++] = '0';
    }
    while (n) {
        tp_fmt_char(f, digits[--n]);
    }
}

void tp_fmt_u32(tp_fmt_t *f, uint32_t v) {
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    while (n) {
        tp_fmt_char(f, digits[--n]);
    }
}

void tp_fmt_i32(tp_fmt_t *f, int32_t v) {
    if (v < 0) {
        tp_fmt_char(f, '-');
        tp_fmt_u32(f, 0u - (uint32_t)v);
    } else {
        tp_fmt_u32(f, (uint32_t)v);
    }
}

void tp_fmt_hex8(tp_fmt_t *f, uint8_t v) {
    static const char hex[] = "0123456789abcdef";
    tp_fmt_char(f, hex[v >> 4]);
    tp_fmt_char(f, hex[v & 15u]);
}

void tp_fmt_hex32(tp_fmt_t *f, uint32_t v) {
    static const char hex[] = "0123456789ABCDEF";
    for (int shift = 28; shift >= 0; shift -= 4) {
        tp_fmt_char(f, hex[(v >> shift) & 15u]);
    }
}

/* value = mantissa * 2^exp exactly; N = value * 1000 rounded half to even, using integers only. */
void tp_fmt_f3(tp_fmt_t *f, float v) {
    union { float f; uint32_t u; } bits = { .f = v };
    uint32_t biased = (bits.u >> 23) & 0xFFu;
    uint32_t mantissa = bits.u & 0x7FFFFFu;
    int negative = (int)(bits.u >> 31);
    if (biased == 0xFFu) {
        if (mantissa) {
            tp_fmt_str(f, "nan");
            return;
        }
        tp_fmt_str(f, negative ? "-inf" : "inf");
        return;
    }
    int exp;
    if (biased == 0) {
        exp = -149;                       /* subnormal */
    } else {
        mantissa |= 1u << 23;
        exp = (int)biased - 150;
    }
    uint64_t scaled = (uint64_t)mantissa * 1000u;   /* < 2^34 */
    uint64_t n;
    if (exp >= 0) {
        if (exp > 29) {                   /* would not fit in 64 bits */
            tp_fmt_str(f, negative ? "-inf" : "inf");
            return;
        }
        n = scaled << exp;
    } else if (-exp >= 40) {
        n = 0;                            /* below 2^34 / 2^40: rounds to 0.000 */
    } else {
        int s = -exp;
        uint64_t q = scaled >> s;
        uint64_t r = scaled & ((1ull << s) - 1u);
        uint64_t half = 1ull << (s - 1);
        if (r > half || (r == half && (q & 1u))) {
            q++;
        }
        n = q;
    }
    if (negative) {
        tp_fmt_char(f, '-');
    }
    fmt_u64(f, n / 1000u, 1);
    tp_fmt_char(f, '.');
    fmt_u64(f, n % 1000u, 3);
}

size_t tp_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

int tp_streq(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}
