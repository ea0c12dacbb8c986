/* Host-side harness for firmware/src/protocol.c and fmt.c (tests/test_firmware_protocol.py loads it
 * with ctypes). Hooks record what the protocol asks of the hardware: text goes to an output buffer,
 * timestamps print a counter, inferences are counted, results are values the test sets. */
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "protocol.h"

#define OUT_MAX (1u << 20)
#define BUF_MAX 65536u

static char out[OUT_MAX];
static size_t out_len;
static uint8_t buffer[BUF_MAX];
static tp_proto_t proto;
static uint32_t timestamps, inferences, loads;
static float result_values[64];
static size_t result_count;
static uint8_t reject_marker = 0xEE;   /* load_input rejects inputs starting with this byte */
static uint8_t loaded_first;

static void hook_write(void *ctx, const char *s, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n && out_len + 1 < OUT_MAX; i++) {
        out[out_len++] = s[i];
    }
    out[out_len] = '\0';
}

static void hook_timestamp(void *ctx) {
    char buf[32];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "m-lap-us-");
    tp_fmt_u32(&f, 1000u * ++timestamps);
    tp_fmt_str(&f, "\r\n");
    hook_write(ctx, buf, f.len);
}

static const char *hook_load(void *ctx, const uint8_t *b, size_t n) {
    (void)ctx;
    if (n && b[0] == reject_marker) {
        return "test rejection";
    }
    loads++;
    loaded_first = n ? b[0] : 0;
    return 0;
}

static void hook_infer(void *ctx) {
    (void)ctx;
    inferences++;
}

static void hook_results(void *ctx, tp_fmt_t *line) {
    (void)ctx;
    for (size_t i = 0; i < result_count; i++) {
        if (i) {
            tp_fmt_char(line, ',');
        }
        tp_fmt_f3(line, result_values[i]);
    }
}

void host_init(size_t input_bytes, size_t buffer_max, int energy) {
    const tp_proto_hooks_t hooks = {0, hook_write, hook_timestamp, hook_load, hook_infer, hook_results};
    const tp_proto_config_t config = {"tinyperf", "test-version", "kws01", "0123456789abcdef0123456789abcdef",
                                      energy, input_bytes, buffer, buffer_max < BUF_MAX ? buffer_max : BUF_MAX};
    tp_proto_init(&proto, &hooks, &config);
    out_len = 0;
    out[0] = '\0';
    timestamps = inferences = loads = 0;
    result_count = 0;
}

void host_boot(void) { tp_proto_boot(&proto); }

int host_feed(const char *s, size_t n) {
    int commands = 0;
    for (size_t i = 0; i < n; i++) {
        commands += tp_proto_feed(&proto, s[i]);
    }
    return commands;
}

const char *host_output(void) { return out; }
void host_clear(void) { out_len = 0; out[0] = '\0'; }
uint32_t host_inferences(void) { return inferences; }
uint32_t host_loads(void) { return loads; }
uint8_t host_loaded_first(void) { return loaded_first; }
const uint8_t *host_buffer(void) { return buffer; }
void host_rx_lost(uint32_t n) { tp_proto_rx_lost(&proto, n); }

void host_set_results(const float *values, size_t n) {
    result_count = n < 64 ? n : 64;
    for (size_t i = 0; i < result_count; i++) {
        result_values[i] = values[i];
    }
}

size_t host_fmt_f3(float v, char *dst, size_t cap) {
    tp_fmt_t f;
    tp_fmt_init(&f, dst, cap);
    tp_fmt_f3(&f, v);
    return f.len;
}
