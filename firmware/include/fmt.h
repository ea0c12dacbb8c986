/* Small text formatting into a caller-owned buffer, no libc: strings, unsigned/signed decimal,
 * hexadecimal, and floats with three decimals rounded exactly (as C printf("%.3f") and Python's
 * "%.3f" do: the float's exact binary value, ties to even). Output that does not fit is cut and
 * `overflow` set; the buffer is always NUL-terminated. Host-compilable. */
#ifndef TP_FMT_H
#define TP_FMT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;       /* destination, `cap` bytes including the terminating NUL */
    size_t cap;
    size_t len;      /* characters written so far (excluding NUL) */
    int overflow;    /* 1 when something did not fit */
} tp_fmt_t;

void tp_fmt_init(tp_fmt_t *f, char *buf, size_t cap);
void tp_fmt_char(tp_fmt_t *f, char c);
void tp_fmt_mem(tp_fmt_t *f, const char *s, size_t n);
void tp_fmt_str(tp_fmt_t *f, const char *s);
void tp_fmt_u32(tp_fmt_t *f, uint32_t v);
void tp_fmt_i32(tp_fmt_t *f, int32_t v);
void tp_fmt_hex8(tp_fmt_t *f, uint8_t v);      /* two lower-case digits */
void tp_fmt_hex32(tp_fmt_t *f, uint32_t v);    /* eight upper-case digits */
void tp_fmt_f3(tp_fmt_t *f, float v);          /* "-12.345"; "nan", "inf", "-inf"; |v| >= 2^54 prints "inf" */
static inline size_t tp_fmt_len(const tp_fmt_t *f) { return f->len; }

size_t tp_strlen(const char *s);
int tp_streq(const char *a, const char *b);

#endif
