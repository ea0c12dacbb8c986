/* Types and state of the native cycle counter (included by tp_counter.c only). */
#ifndef TP_TYPES_H
#define TP_TYPES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

typedef uc_err (*fn_emu_stop)(uc_engine *);
typedef uc_err (*fn_reg_read)(uc_engine *, int, void *);
typedef uc_err (*fn_mem_read)(uc_engine *, uint64_t, void *, uint64_t);
/* Python miss callback: decode the block and call tp_define_block; returns 0 on success. */
typedef int (*fn_miss)(uint64_t address, uint32_t size);

enum {
    F_BRANCH = 1,      /* last instruction may change the flow (taken branch costs taken_penalty) */
    F_IRQWIN = 2,      /* contains CPSIE/CPSID or MSR PRIMASK/BASEPRI/BASEPRI_MAX/FAULTMASK/CONTROL */
    F_WFI = 4,         /* contains WFI or WFE */
    F_FLASH = 8,       /* fetched from flash (through the ART); else zero-wait memory */
    F_SRAM_BUS = 16,   /* fetched over the System bus (SRAM): data accesses compete with fetches */
    F_UNALIGNED_WIDE = 32, /* first instruction is 32-bit at a halfword-aligned address */
    F_ALWAYS_TAKEN = 64,   /* unconditional exit branch / PC write: refill even to the next address */
};

enum { STOP_NONE = 0, STOP_DEADLINE = 1, STOP_IRQ_WINDOW = 2, STOP_WFI = 3, STOP_ERROR = 4, STOP_REQUEST = 5, STOP_RETRANSLATE = 6 };

#define MAX_LINES 256   /* ART cache entries supported (instruction or data) */
#define MAP_SIZE 4096   /* tag -> slot hint table (power of two) */

/* Flash data-read addresses (see addresses.py): values read at block entry ("roots": a register, or the
 * 32-bit word at an expression over earlier roots), linear expressions over roots, and the loads. */
#define MAX_ROOTS 16
#define MAX_TERMS 3
typedef struct { int32_t kind, reg, expr; } tp_root;
typedef struct { int32_t n; int32_t root[MAX_TERMS]; int64_t coef[MAX_TERMS]; int64_t cst; } tp_expr;
typedef struct { int32_t expr; uint32_t nbytes; } tp_acc;

typedef struct tp_block {
    uint32_t addr, size, n_insn;
    uint32_t cost;          /* static cycles at zero wait states, branch not taken */
    uint32_t taken_penalty; /* extra cycles when the block leaves by a taken branch */
    uint32_t flags;
    uint32_t mem_accesses;  /* data loads/stores (System-bus contention when run from SRAM) */
    uint32_t nlines;        /* fetch lines spanned */
    uint32_t *line_cycles;  /* static cycles spent in each fetch line */
    uint16_t *insn_off;     /* byte offset of each instruction, n_insn entries */
    uint32_t *prefix;       /* static cycles before each instruction, n_insn + 1 entries */
    uint64_t execs;         /* completed executions */
    uint64_t energy;        /* static energy of one execution (fJ, zero wait states) */
    uint64_t dyn;           /* dynamic cycles charged to it (stalls, refills, divides), all executions */
    struct tp_block *succ;  /* the block that followed it last time (skips the hash lookup) */
    tp_root *roots;         /* loads that may read flash (ART data cache model) */
    tp_expr *exprs;
    tp_acc *accs;
    uint32_t nroots, nexprs, nacc;
    uint32_t id;
} tp_block;

typedef struct {
    uint32_t tag[MAX_LINES];
    uint64_t used[MAX_LINES];
    uint16_t map[MAP_SIZE]; /* tag & (MAP_SIZE-1) -> slot + 1 (a hint, verified against tag[]) */
    uint32_t n;             /* entries in use for this cache (0 = disabled) */
    uint64_t clock;
} tp_cache;

typedef struct {
    uint32_t addr;
    int rn, rm;             /* unicorn register ids */
    int is_signed;
} tp_div;

/* A load whose address the block-entry tracker cannot derive: a UC_HOOK_CODE on its address reads the
 * registers just before it executes. address = base + index << shift + (post ? 0 : disp). */
typedef struct {
    int32_t base, index, shift, post;
    int64_t disp;
    uint32_t nbytes;
} tp_ldesc;

/* address -> index map (open addressing; key stored + 1 so that 0 means empty) */
typedef struct { uint32_t *keys; int32_t *vals; uint32_t cap, n; } tp_amap;

static int amap_get(const tp_amap *m, uint32_t key) {
    if (!m->cap) return -1;
    uint32_t mask = m->cap - 1, i = (key * 2654435761u) & mask;
    for (;;) {
        if (!m->keys[i]) return -1;
        if (m->keys[i] == key + 1) return m->vals[i];
        i = (i + 1) & mask;
    }
}

static void amap_put(tp_amap *m, uint32_t key, int32_t val) {
    if ((m->n + 1) * 2 > m->cap) {
        tp_amap old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->keys = calloc(m->cap, sizeof(uint32_t));
        m->vals = calloc(m->cap, sizeof(int32_t));
        m->n = 0;
        for (uint32_t i = 0; i < old.cap; i++)
            if (old.keys[i]) amap_put(m, old.keys[i] - 1, old.vals[i]);
        free(old.keys); free(old.vals);
    }
    uint32_t mask = m->cap - 1, i = (key * 2654435761u) & mask;
    while (m->keys[i] && m->keys[i] != key + 1) i = (i + 1) & mask;
    if (!m->keys[i]) m->n++;
    m->keys[i] = key + 1;
    m->vals[i] = val;
}

typedef struct {
    /* engine */
    uc_engine *uc;
    fn_emu_stop emu_stop;
    fn_reg_read reg_read;
    fn_mem_read mem_read;
    fn_miss miss;
    int pc_reg;
    /* block table */
    tp_block **table;       /* open addressing, cap entries */
    uint32_t cap, count;
    tp_block **blocks;      /* by id */
    uint32_t nblocks, blocks_cap;
    /* divide table */
    tp_div *divs;
    uint32_t ndivs, divs_cap;
    tp_amap divmap, ldmap;
    tp_ldesc *ldescs;
    uint32_t nldescs, ldescs_cap;
    uint64_t hooked_loads;          /* executions of hooked (untracked) loads */
    /* accounting */
    uint64_t cycles, instructions, deadline;
    uint64_t extra_cycles;          /* add()ed by the run loop */
    uint64_t fetch_stall, data_stall, branch_cycles, div_cycles, bus_stall;
    uint64_t ic_hits, ic_misses, dc_hits, dc_misses, flash_reads, taken_branches;
    uint64_t partial_cycles, partial_insns;  /* charged for blocks cut short (faults, stops) */
    uint64_t flash_fetch_reads, flash_data_reads;  /* flash array reads (ART misses, prefetches) */
    /* energy (fJ): accumulated, and per-event coefficients set by tp_set_energy */
    uint64_t energy;
    uint64_t e_stall, e_flash_read, e_taken, e_div, e_bus;
    tp_block *pending;
    int pending_seq;                /* pending block was entered by falling through */
    uint32_t last_end;              /* fall-through address of the block committed last (0: none) */
    uint64_t serial;                /* block hook invocations (identifies one execution of a block) */
    tp_block *stopped_at;           /* block whose hook requested the stop (it did not run) */
    int stop_reason;
    int irq_waiting, stop_on_wfi, stop_req;
    int error;
    uint32_t last_flags;            /* flags of the block committed last */
    /* memory system */
    uint32_t ws, prften, icen, dcen, line_shift, dline_shift, sram_penalty, unaligned_extra;
    uint32_t flash_lo, flash_size, alias_lo, alias_size;   /* flash and its boot alias (data reads) */
    uint32_t ram_lo[4], ram_size[4];   /* plain memory the entry-time pointer reads may touch (never MMIO) */
    uint32_t cur_line;              /* fetch line held by the flash interface (+1, 0 = none) */
    uint32_t cur_line_cycles;       /* cycles spent executing from cur_line */
    uint32_t cur_dline;             /* data line held (+1) */
    tp_cache ic, dc;
} tp_state;

#endif
