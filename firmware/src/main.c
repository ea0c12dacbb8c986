/* The device under test: clocks, console, timestamps, then the protocol loop. Received bytes arrive by
 * interrupt into the UART ring buffer; the loop feeds them to the protocol and sleeps (WFI) when none
 * are waiting. Commands, inferences included, run here in thread mode. */
#include <stdint.h>

#include "build_config.h"
#include "clock.h"
#include "model.h"
#include "protocol.h"
#include "tasks.h"
#include "timestamp.h"
#include "uart.h"

#if defined(MODEL_PLACEHOLDER) && MODEL_PLACEHOLDER
#define TP_PROFILE TP_FW_VERSION " " TP_TASK_NAME " PLACEHOLDER model: results are not valid"
#else
#define TP_PROFILE TP_FW_VERSION " " TP_TASK_NAME
#endif

/* The db buffer holds one host input (27648 bytes for vww01). */
static uint8_t db_buffer[TP_DB_BUFFER_BYTES];
static tp_proto_t proto;

static void write_text(const char *s, uint32_t n) {
    uart_write(s, n);
}

static void hook_write(void *ctx, const char *s, size_t n) {
    (void)ctx;
    uart_write(s, n);
}

static void hook_timestamp(void *ctx) {
    (void)ctx;
    timestamp_emit(write_text);
}

static const char *hook_load(void *ctx, const uint8_t *buffer, size_t n) {
    (void)ctx;
    return tp_task_load(buffer, n);
}

static void hook_infer(void *ctx) {
    (void)ctx;
    tp_task_infer();
}

static void hook_results(void *ctx, tp_fmt_t *line) {
    (void)ctx;
    tp_task_results(line);
}

int main(void) {
    clock_init();
    uart_init(TP_HCLK_HZ, TP_BAUD);
    timestamp_init(TP_HCLK_HZ);

    const tp_proto_hooks_t hooks = {
        .ctx = 0, .write = hook_write, .timestamp = hook_timestamp, .load_input = hook_load,
        .infer = hook_infer, .results = hook_results,
    };
    const tp_proto_config_t config = {
        .vendor = TP_VENDOR, .version = TP_PROFILE, .model = TP_TASK_NAME, .model_hash = MODEL_HASH,
        .energy_mode = TP_ENERGY_MODE, .input_bytes = tp_task_input_bytes,
        .buffer = db_buffer, .buffer_max = sizeof db_buffer,
    };
    tp_proto_init(&proto, &hooks, &config);
    tp_proto_boot(&proto);

    for (;;) {
        char c;
        uint32_t lost = uart_take_lost();
        if (lost) {
            tp_proto_rx_lost(&proto, lost);
        }
        if (uart_getc(&c)) {
            tp_proto_feed(&proto, c);
            continue;
        }
        /* Sleep until the next interrupt. PRIMASK keeps a byte arriving between the check and the WFI
         * from being missed: the pending interrupt still ends the WFI, and runs after cpsie. */
        __asm volatile("cpsid i" ::: "memory");
        if (!uart_getc(&c)) {
            __asm volatile("wfi" ::: "memory");
            __asm volatile("cpsie i" ::: "memory");
            continue;
        }
        __asm volatile("cpsie i" ::: "memory");
        tp_proto_feed(&proto, c);
    }
}
