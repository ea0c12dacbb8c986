/* EEMBC / MLPerf Tiny DUT protocol: command line assembly, parsing and replies (see protocol.h).
 * Pure logic: no hardware access, host-compilable (tests/test_firmware_protocol.py). */
#include "protocol.h"

#define MAX_TOKENS 48u
#define ECHO_MAX 48u             /* characters of a bad token echoed in an error line */
#define DB_PRINT_PER_LINE 8u     /* bytes per m-buffer- line, as the EEMBC reference firmware */

typedef struct {
    char *tok[MAX_TOKENS];
    unsigned n;
    int too_many;
} tokens_t;

/* ------------------------------------------------------------------------------------ output */

static void out(tp_proto_t *p, const char *s, size_t n) {
    p->hooks.write(p->hooks.ctx, s, n);
}

static void out_str(tp_proto_t *p, const char *s) {
    out(p, s, tp_strlen(s));
}

static void out_line(tp_proto_t *p, tp_fmt_t *f) {
    out(p, f->buf, f->len);
}

/* Printable echo of user text: at most ECHO_MAX characters, anything outside ASCII 0x20..0x7E as '?',
 * ']' as ')' so the e-[...] line stays parseable. */
static void fmt_echo(tp_fmt_t *f, const char *s) {
    size_t i = 0;
    for (; s[i] && i < ECHO_MAX; i++) {
        char c = s[i];
        tp_fmt_char(f, (c < 0x20 || c > 0x7E) ? '?' : (c == ']' ? ')' : c));
    }
    if (s[i]) {
        tp_fmt_str(f, "...");
    }
}

/* e-[<msg><echo>]\r\n */
static void error_echo(tp_proto_t *p, const char *msg, const char *echo) {
    char buf[160];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "e-[");
    tp_fmt_str(&f, msg);
    if (echo) {
        fmt_echo(&f, echo);
    }
    tp_fmt_str(&f, "]\r\n");
    out_line(p, &f);
}

static void error(tp_proto_t *p, const char *msg) {
    error_echo(p, msg, 0);
}

/* ----------------------------------------------------------------------------------- parsing */

static void tokenize(char *s, tokens_t *t) {
    t->n = 0;
    t->too_many = 0;
    while (*s) {
        while (*s == ' ') {
            *s++ = '\0';
        }
        if (!*s) {
            break;
        }
        if (t->n == MAX_TOKENS) {
            t->too_many = 1;
            return;
        }
        t->tok[t->n++] = s;
        while (*s && *s != ' ') {
            s++;
        }
    }
}

/* Strict unsigned decimal: digits only, value <= max. Returns 1 on success. */
static int parse_uint(const char *s, uint32_t max, uint32_t *value) {
    uint32_t v = 0;
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
        uint32_t d = (uint32_t)(*s - '0');
        if (v > (max - d) / 10u) {
            return 0;
        }
        v = v * 10u + d;
    }
    *value = v;
    return 1;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* ---------------------------------------------------------------------------------- commands */

static void cmd_name(tp_proto_t *p) {
    char buf[96];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "m-name-dut-[");
    tp_fmt_str(&f, p->config.vendor);
    tp_fmt_str(&f, "]\r\n");
    out_line(p, &f);
}

static void cmd_profile(tp_proto_t *p) {
    char buf[256];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "m-profile-[");
    tp_fmt_str(&f, p->config.version);
    tp_fmt_str(&f, "]\r\nm-model-[");
    tp_fmt_str(&f, p->config.model);
    tp_fmt_str(&f, "]\r\n");
    if (p->config.model_hash && p->config.model_hash[0]) {
        tp_fmt_str(&f, "m-model-md5-[");
        tp_fmt_str(&f, p->config.model_hash);
        tp_fmt_str(&f, "]\r\n");
    }
    out_line(p, &f);
}

static void cmd_help(tp_proto_t *p) {
    out_str(p, p->config.version);
    out_str(p, "\r\n"
               "help          : print this information\r\n"
               "name          : print the name of the device\r\n"
               "profile       : print the firmware version and the model\r\n"
               "timestamp     : generate a timestamp\r\n"
               "db load N     : allocate an N-byte input buffer\r\n"
               "db HEX [HEX..]: append bytes given as hex digit pairs\r\n"
               "db print [N [OFFSET]]: print N buffer bytes from OFFSET as hex\r\n"
               "infer N [W]   : run W warm-up and N timed inferences on the buffer\r\n"
               "results       : print the last inference's results\r\n");
}

static void cmd_db_load(tp_proto_t *p, const tokens_t *t) {
    uint32_t n;
    if (t->n != 3) {
        error(p, "Usage: db load N");
        return;
    }
    if (!parse_uint(t->tok[2], 0xFFFFFFFFu, &n) || n == 0) {
        error_echo(p, "Invalid buffer size: ", t->tok[2]);
        return;
    }
    if (n > p->config.buffer_max) {
        char buf[96];
        tp_fmt_t f;
        tp_fmt_init(&f, buf, sizeof buf);
        tp_fmt_str(&f, "e-[Buffer size ");
        tp_fmt_u32(&f, n);
        tp_fmt_str(&f, " exceeds the maximum of ");
        tp_fmt_u32(&f, (uint32_t)p->config.buffer_max);
        tp_fmt_str(&f, " bytes]\r\n");
        out_line(p, &f);
        return;
    }
    for (size_t i = 0; i < p->config.buffer_max; i++) {
        p->config.buffer[i] = 0;
    }
    p->db_size = n;
    p->db_pos = 0;
    char buf[64];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "m-[Expecting ");
    tp_fmt_u32(&f, n);
    tp_fmt_str(&f, " bytes]\r\n");
    out_line(p, &f);
}

static void cmd_db_print(tp_proto_t *p, const tokens_t *t) {
    uint32_t count = (uint32_t)p->db_size, offset = 0;
    if (t->n > 4) {
        error(p, "Usage: db print [N [OFFSET]]");
        return;
    }
    if (t->n >= 3 && !parse_uint(t->tok[2], 0xFFFFFFFFu, &count)) {
        error_echo(p, "Invalid byte count: ", t->tok[2]);
        return;
    }
    if (t->n == 4 && !parse_uint(t->tok[3], 0xFFFFFFFFu, &offset)) {
        error_echo(p, "Invalid offset: ", t->tok[3]);
        return;
    }
    if (offset > p->db_size || count > p->db_size - offset) {
        error(p, "db print: range outside the loaded buffer");
        return;
    }
    char buf[16 + 3 * DB_PRINT_PER_LINE];
    tp_fmt_t f;
    for (uint32_t i = 0; i < count; i += DB_PRINT_PER_LINE) {
        tp_fmt_init(&f, buf, sizeof buf);
        tp_fmt_str(&f, "m-buffer-");
        for (uint32_t j = i; j < count && j < i + DB_PRINT_PER_LINE; j++) {
            if (j != i) {
                tp_fmt_char(&f, '-');
            }
            tp_fmt_hex8(&f, p->config.buffer[offset + j]);
        }
        tp_fmt_str(&f, "\r\n");
        out_line(p, &f);
    }
}

/* db HEX [HEX ...]: every token is checked before any byte is stored, so a bad command loads nothing. */
static void cmd_db_hex(tp_proto_t *p, const tokens_t *t) {
    size_t total = 0;
    for (unsigned i = 1; i < t->n; i++) {
        const char *s = t->tok[i];
        size_t n = 0;
        for (; s[n]; n++) {
            if (hex_value(s[n]) < 0) {
                char bad[2] = {s[n], '\0'};
                error_echo(p, "Invalid hex digit: ", bad);
                return;
            }
        }
        if (n & 1u) {
            error_echo(p, "Odd number of hex digits: ", s);
            return;
        }
        total += n / 2u;
    }
    if (p->db_size == 0) {
        error(p, "No buffer: send db load N first");
        return;
    }
    size_t room = p->db_size - p->db_pos;
    if (room == 0) {
        error(p, "Buffer overrun: the buffer is already full; data ignored");
        return;
    }
    size_t stored = 0;
    for (unsigned i = 1; i < t->n && stored < room; i++) {
        for (const char *s = t->tok[i]; s[0] && stored < room; s += 2) {
            p->config.buffer[p->db_pos++] = (uint8_t)((hex_value(s[0]) << 4) | hex_value(s[1]));
            stored++;
        }
    }
    if (p->db_pos == p->db_size) {
        out_str(p, "m-load-done\r\n");
    }
    if (total > stored) {
        char buf[96];
        tp_fmt_t f;
        tp_fmt_init(&f, buf, sizeof buf);
        tp_fmt_str(&f, "e-[Buffer overrun: ");
        tp_fmt_u32(&f, (uint32_t)(total - stored));
        tp_fmt_str(&f, " bytes beyond the ");
        tp_fmt_u32(&f, (uint32_t)p->db_size);
        tp_fmt_str(&f, "-byte buffer ignored]\r\n");
        out_line(p, &f);
    }
}

static void cmd_db(tp_proto_t *p, const tokens_t *t) {
    if (t->n < 2) {
        error(p, "Usage: db load N | db HEX [HEX ...] | db print [N [OFFSET]]");
    } else if (tp_streq(t->tok[1], "load")) {
        cmd_db_load(p, t);
    } else if (tp_streq(t->tok[1], "print")) {
        cmd_db_print(p, t);
    } else {
        cmd_db_hex(p, t);
    }
}

static void print_results(tp_proto_t *p) {
    char buf[1024];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "m-results-[");
    p->hooks.results(p->hooks.ctx, &f);
    tp_fmt_str(&f, "]\r\n");
    if (f.overflow) {
        error(p, "Results do not fit in one line");
        return;
    }
    out_line(p, &f);
}

static void print_count(tp_proto_t *p, const char *prefix, uint32_t n) {
    char buf[48];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, prefix);
    tp_fmt_u32(&f, n);
    tp_fmt_str(&f, "\r\n");
    out_line(p, &f);
}

static void cmd_infer(tp_proto_t *p, const tokens_t *t) {
    uint32_t n = 1, w = 10;
    if (t->n > 3) {
        error(p, "Usage: infer N [W]");
        return;
    }
    if (t->n >= 2) {
        if (!parse_uint(t->tok[1], 0x7FFFFFFFu, &n)) {
            error_echo(p, "Invalid inference count: ", t->tok[1]);
            return;
        }
        if (n == 0) {
            error(p, "Inference iterations must be >0");
            return;
        }
    }
    if (t->n == 3 && !parse_uint(t->tok[2], 0x7FFFFFFFu, &w)) {
        error_echo(p, "Invalid warmup count: ", t->tok[2]);
        return;
    }
    if (p->db_size != p->config.input_bytes || p->db_pos != p->db_size) {
        char buf[128];
        tp_fmt_t f;
        tp_fmt_init(&f, buf, sizeof buf);
        tp_fmt_str(&f, "e-[Input not loaded: need ");
        tp_fmt_u32(&f, (uint32_t)p->config.input_bytes);
        tp_fmt_str(&f, " bytes (db load ");
        tp_fmt_u32(&f, (uint32_t)p->config.input_bytes);
        tp_fmt_str(&f, "), have ");
        tp_fmt_u32(&f, (uint32_t)p->db_pos);
        tp_fmt_str(&f, " of ");
        tp_fmt_u32(&f, (uint32_t)p->db_size);
        tp_fmt_str(&f, "]\r\n");
        out_line(p, &f);
        return;
    }
    const char *err = p->hooks.load_input(p->hooks.ctx, p->config.buffer, p->db_size);
    if (err) {
        error_echo(p, "Input rejected: ", err);
        return;
    }
    print_count(p, "m-warmup-start-", w);
    for (uint32_t i = 0; i < w; i++) {
        p->hooks.infer(p->hooks.ctx);
    }
    out_str(p, "m-warmup-done\r\n");
    print_count(p, "m-infer-start-", n);
    p->hooks.timestamp(p->hooks.ctx);
    for (uint32_t i = 0; i < n; i++) {
        p->hooks.infer(p->hooks.ctx);
    }
    p->hooks.timestamp(p->hooks.ctx);
    out_str(p, "m-infer-done\r\n");
    p->have_results = 1;
    print_results(p);
}

static void cmd_results(tp_proto_t *p, const tokens_t *t) {
    if (t->n != 1) {
        error(p, "Usage: results");
    } else if (!p->have_results) {
        error(p, "No results: run infer first");
    } else {
        print_results(p);
    }
}

static void no_args(tp_proto_t *p, const tokens_t *t, void (*fn)(tp_proto_t *)) {
    if (t->n != 1) {
        error_echo(p, "Unexpected argument: ", t->tok[1]);
    } else {
        fn(p);
    }
}

static void cmd_timestamp(tp_proto_t *p) {
    p->hooks.timestamp(p->hooks.ctx);
}

static void execute(tp_proto_t *p) {
    tokens_t t;
    if (p->rx_lost) {
        char buf[64];
        tp_fmt_t f;
        tp_fmt_init(&f, buf, sizeof buf);
        tp_fmt_str(&f, "e-[Receive overflow: ");
        tp_fmt_u32(&f, p->rx_lost);
        tp_fmt_str(&f, " bytes lost]\r\n");
        out_line(p, &f);
        p->rx_lost = 0;
    }
    if (p->cmd_len > TP_CMD_MAX) {
        char buf[96];
        tp_fmt_t f;
        tp_fmt_init(&f, buf, sizeof buf);
        tp_fmt_str(&f, "e-[Command too long: more than ");
        tp_fmt_u32(&f, TP_CMD_MAX);
        tp_fmt_str(&f, " characters; ignored]\r\n");
        out_line(p, &f);
    } else {
        p->cmd[p->cmd_len] = '\0';
        tokenize(p->cmd, &t);
        if (t.too_many) {
            error(p, "Too many arguments");
        } else if (t.n == 0) {
            /* empty command: only m-ready */
        } else if (tp_streq(t.tok[0], "name")) {
            no_args(p, &t, cmd_name);
        } else if (tp_streq(t.tok[0], "profile")) {
            no_args(p, &t, cmd_profile);
        } else if (tp_streq(t.tok[0], "help")) {
            no_args(p, &t, cmd_help);
        } else if (tp_streq(t.tok[0], "timestamp")) {
            no_args(p, &t, cmd_timestamp);
        } else if (tp_streq(t.tok[0], "db")) {
            cmd_db(p, &t);
        } else if (tp_streq(t.tok[0], "infer")) {
            cmd_infer(p, &t);
        } else if (tp_streq(t.tok[0], "results")) {
            cmd_results(p, &t);
        } else {
            error_echo(p, "Unknown command: ", t.tok[0]);
        }
    }
    p->cmd_len = 0;
    out_str(p, "m-ready\r\n");
}

/* ------------------------------------------------------------------------------------ public */

void tp_proto_init(tp_proto_t *p, const tp_proto_hooks_t *hooks, const tp_proto_config_t *config) {
    p->hooks = *hooks;
    p->config = *config;
    p->cmd_len = 0;
    p->db_size = 0;
    p->db_pos = 0;
    p->have_results = 0;
    p->rx_lost = 0;
}

void tp_proto_boot(tp_proto_t *p) {
    out_str(p, p->config.energy_mode ? "m-timestamp-mode-energy\r\n" : "m-timestamp-mode-performance\r\n");
    p->hooks.timestamp(p->hooks.ctx);   /* energy mode: leaves the timestamp line high */
    out_str(p, "m-init-done\r\nm-ready\r\n");
}

int tp_proto_feed(tp_proto_t *p, char c) {
    if (c == '%') {
        execute(p);
        return 1;
    }
    if (c == '\r' || c == '\n') {
        return 0;
    }
    if (p->cmd_len < TP_CMD_MAX) {
        p->cmd[p->cmd_len] = c;
    }
    if (p->cmd_len <= TP_CMD_MAX) {
        p->cmd_len++;     /* counts one past the maximum, then stops: "too long" */
    }
    return 0;
}

void tp_proto_rx_lost(tp_proto_t *p, uint32_t n) {
    p->rx_lost += n;
}
