/* The EEMBC / MLPerf Tiny device-under-test serial protocol, as pure logic (host-compilable): bytes in
 * through tp_proto_feed(), text out through the `write` hook; hardware and model behind hooks.
 *
 * Commands end with '%'; tokens are separated by spaces; '\r' and '\n' are ignored. After every
 * command the device prints "m-ready". Lines end with "\r\n".
 *   name                    m-name-dut-[<vendor>]
 *   profile                 m-profile-[<firmware version>]  m-model-[<task>]  m-model-md5-[<md5>]
 *   help                    usage text
 *   timestamp               one timestamp (hook)
 *   db load N               m-[Expecting N bytes]            (1 <= N <= buffer_max)
 *   db HEX [HEX ...]        append bytes; m-load-done when the N-th byte arrives
 *   db print [N [OFFSET]]   m-buffer-xx-xx-... lines, 8 bytes per line
 *   infer [N [W]]           m-warmup-start-W ... m-warmup-done, m-infer-start-N, timestamp, N inferences,
 *                           timestamp, m-infer-done, m-results-[...]   (defaults N=1, W=10)
 *   results                 m-results-[...]
 * Errors are single lines "e-[...]"; the offending command is ignored and nothing is lost.
 *
 * Use: 1. tp_proto_init(), 2. tp_proto_boot() prints the start-up banner, 3. tp_proto_feed() every
 * received byte (commands run inside the call that delivers their '%'). */
#ifndef TP_PROTOCOL_H
#define TP_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

#define TP_CMD_MAX 1024u   /* characters of one command, excluding '%' */

typedef struct {
    void *ctx;
    /* send n bytes of text */
    void (*write)(void *ctx, const char *s, size_t n);
    /* emit one timestamp (performance: print m-lap-us-N; energy: pulse the timestamp pin) */
    void (*timestamp)(void *ctx);
    /* convert the loaded buffer into the model input; NULL on success, else an error message */
    const char *(*load_input)(void *ctx, const uint8_t *buffer, size_t n);
    /* run one inference */
    void (*infer)(void *ctx);
    /* append the result values, comma separated, to `line` (no brackets) */
    void (*results)(void *ctx, tp_fmt_t *line);
} tp_proto_hooks_t;

typedef struct {
    const char *vendor;        /* m-name-dut-[vendor] */
    const char *version;       /* m-profile-[version] */
    const char *model;         /* m-model-[model]: kws01 | vww01 | ic01 | ad01 */
    const char *model_hash;    /* m-model-md5-[hash] when non-empty (md5 of the .tflite) */
    int energy_mode;           /* 1: m-timestamp-mode-energy at boot */
    size_t input_bytes;        /* bytes `infer` needs loaded */
    uint8_t *buffer;           /* the db buffer, buffer_max bytes, owned by the caller */
    size_t buffer_max;
} tp_proto_config_t;

typedef struct {
    tp_proto_hooks_t hooks;
    tp_proto_config_t config;
    char cmd[TP_CMD_MAX + 1];
    size_t cmd_len;            /* characters received for the current command (may exceed TP_CMD_MAX) */
    size_t db_size;            /* bytes announced by db load (0: none) */
    size_t db_pos;             /* bytes loaded so far */
    int have_results;
    uint32_t rx_lost;          /* bytes the receiver dropped, reported before the next command */
} tp_proto_t;

void tp_proto_init(tp_proto_t *p, const tp_proto_hooks_t *hooks, const tp_proto_config_t *config);
void tp_proto_boot(tp_proto_t *p);
/* Feed one received byte; returns 1 when it completed (and ran) a command. */
int tp_proto_feed(tp_proto_t *p, char c);
/* Record bytes lost by the receiver (ring buffer full); reported as an e-[...] line. */
void tp_proto_rx_lost(tp_proto_t *p, uint32_t n);

#endif
