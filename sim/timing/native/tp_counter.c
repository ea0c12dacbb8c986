/* Native cycle accounting for the tinyperf Cortex-M4 model (see sim/timing/cycles.py).
 *
 * Unicorn calls tp_block_hook (UC_HOOK_BLOCK) at the entry of every translated block. The hook
 *   1. looks the block up in a hash table keyed by (address, size); on a miss it calls back into
 *      Python once (capstone decode -> tp_define_block; return 1 = the block needs new code hooks: stop
 *      before it runs so Python can drop its translation);
 *   2. commits the previous block (now known to have run to its end): its static cost in cycles, the
 *      branch refill when it left by a taken branch, and the flash fetch stalls of the flash reads it
 *      spans (ART instruction cache and prefetch, FLASH_ACR.LATENCY wait states; tp_memory.h);
 *   3. stops the emulation (uc_emu_stop: the block does not run) when the cycle deadline is reached,
 *      on request, after a block that can unmask interrupts while the run loop has an interrupt
 *      waiting, or after a WFI/WFE block;
 *   4. evaluates the block's flash data-read addresses from entry registers/memory (ART data cache).
 * The block entered last stays "pending" until the next hook or tp_sync() (called after emu_start
 * returns with the PC) charges it fully or up to the PC (faults, stops in the middle of a block).
 * tp_div_hook / tp_load_hook (UC_HOOK_CODE on divide instructions and on loads whose address needs the
 * run-time registers, only) add operand-dependent divide cycles and flash data reads; tp_mem_hook
 * (UC_HOOK_MEM_READ over flash) is the exact-but-slow alternative for data reads.
 * Units: cycles are HCLK cycles; addresses are bus addresses.
 * No libunicorn symbol is linked: the Python side passes the functions of the library its binding
 * loaded, so the hook drives the very engine instance Python created. */
#include "tp_types.h"
#include "tp_memory.h"

/* ---------------------------------------------------------------- block table */

static inline uint32_t hash_key(uint32_t addr, uint32_t size) {
    uint32_t h = addr * 2654435761u ^ size * 40503u;
    return h ^ (h >> 15);
}

static tp_block *lookup(tp_state *st, uint32_t addr, uint32_t size) {
    uint32_t mask = st->cap - 1, i = hash_key(addr, size) & mask;
    for (;;) {
        tp_block *b = st->table[i];
        if (!b) return NULL;
        if (b->addr == addr && b->size == size) return b;
        i = (i + 1) & mask;
    }
}

static void insert(tp_state *st, tp_block *b) {
    if ((st->count + 1) * 2 > st->cap) {
        uint32_t old_cap = st->cap;
        tp_block **old = st->table;
        st->cap *= 2;
        st->table = calloc(st->cap, sizeof(tp_block *));
        st->count = 0;
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i]) insert(st, old[i]);
        free(old);
    }
    uint32_t mask = st->cap - 1, i = hash_key(b->addr, b->size) & mask;
    while (st->table[i]) i = (i + 1) & mask;
    st->table[i] = b;
    st->count++;
}

tp_state *tp_new(void *uc, void *emu_stop, void *reg_read, void *mem_read, void *miss, int pc_reg) {
    tp_state *st = calloc(1, sizeof(tp_state));
    st->uc = uc;
    st->emu_stop = (fn_emu_stop)emu_stop;
    st->reg_read = (fn_reg_read)reg_read;
    st->mem_read = (fn_mem_read)mem_read;
    st->miss = (fn_miss)miss;
    st->pc_reg = pc_reg;
    st->cap = 1 << 14;
    st->table = calloc(st->cap, sizeof(tp_block *));
    st->blocks_cap = 1024;
    st->blocks = calloc(st->blocks_cap, sizeof(tp_block *));
    st->deadline = UINT64_MAX;
    st->stop_on_wfi = 1;
    st->line_shift = 4;
    st->dline_shift = 4;
    return st;
}

void tp_free(tp_state *st) {
    for (uint32_t i = 0; i < st->nblocks; i++) {
        tp_block *b = st->blocks[i];
        free(b->line_cycles); free(b->insn_off); free(b->prefix);
        free(b->roots); free(b->exprs); free(b->accs); free(b);
    }
    free(st->blocks); free(st->table); free(st->divs); free(st->ldescs);
    free(st->divmap.keys); free(st->divmap.vals); free(st->ldmap.keys); free(st->ldmap.vals);
    free(st);
}

/* Define a block: n instructions at byte offsets off[], static costs cost[] (cycles), flags, the extra
 * cycles of a taken exit branch, data accesses, and the static cycles per fetch line. Returns its id. */
int tp_define_block(tp_state *st, uint32_t addr, uint32_t size, uint32_t n, const uint16_t *off,
                    const uint32_t *cost, uint32_t flags, uint32_t taken_penalty, uint32_t mem_accesses,
                    uint32_t nlines, const uint32_t *line_cycles, uint64_t energy,
                    uint32_t nroots, const int64_t *roots, uint32_t nexprs, const int64_t *exprs,
                    uint32_t nacc, const int64_t *accs) {
    tp_block *b = lookup(st, addr, size);
    if (b) return (int)b->id;
    b = calloc(1, sizeof(tp_block));
    b->addr = addr; b->size = size; b->n_insn = n; b->flags = flags;
    b->taken_penalty = taken_penalty; b->mem_accesses = mem_accesses;
    b->insn_off = malloc(sizeof(uint16_t) * (n ? n : 1));
    b->prefix = malloc(sizeof(uint32_t) * (n + 1));
    b->prefix[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        b->insn_off[i] = off[i];
        b->prefix[i + 1] = b->prefix[i] + cost[i];
    }
    b->cost = b->prefix[n];
    b->energy = energy;
    /* roots: 3 integers each (kind, reg, expr); exprs: 2 + 2*MAX_TERMS (n, root/coef pairs, const);
     * accesses: 2 (expr, bytes). Python guarantees roots only reference earlier roots. */
    if (nroots > MAX_ROOTS) nroots = nacc = 0;
    b->nroots = nroots; b->nexprs = nexprs; b->nacc = nacc;
    b->roots = malloc(sizeof(tp_root) * (nroots ? nroots : 1));
    b->exprs = malloc(sizeof(tp_expr) * (nexprs ? nexprs : 1));
    b->accs = malloc(sizeof(tp_acc) * (nacc ? nacc : 1));
    for (uint32_t i = 0; i < nroots; i++)
        b->roots[i] = (tp_root){(int32_t)roots[3 * i], (int32_t)roots[3 * i + 1], (int32_t)roots[3 * i + 2]};
    for (uint32_t i = 0; i < nexprs; i++) {
        const int64_t *e = exprs + (2 + 2 * MAX_TERMS) * i;
        tp_expr x;
        x.n = (int32_t)e[0];
        for (int k = 0; k < MAX_TERMS; k++) { x.root[k] = (int32_t)e[1 + 2 * k]; x.coef[k] = e[2 + 2 * k]; }
        x.cst = e[1 + 2 * MAX_TERMS];
        b->exprs[i] = x;
    }
    for (uint32_t i = 0; i < nacc; i++) b->accs[i] = (tp_acc){(int32_t)accs[2 * i], (uint32_t)accs[2 * i + 1]};
    b->nlines = nlines;
    b->line_cycles = malloc(sizeof(uint32_t) * (nlines ? nlines : 1));
    for (uint32_t i = 0; i < nlines; i++) b->line_cycles[i] = line_cycles[i];
    if (st->nblocks == st->blocks_cap) {
        st->blocks_cap *= 2;
        st->blocks = realloc(st->blocks, sizeof(tp_block *) * st->blocks_cap);
    }
    b->id = st->nblocks;
    st->blocks[st->nblocks++] = b;
    insert(st, b);
    return (int)b->id;
}

/* ---------------------------------------------------------------- accounting */

static void commit(tp_state *st, tp_block *p, uint32_t next, const tp_block *b) {
    uint64_t c = p->cost, e = p->energy;
    if (p->flags & F_FLASH) {
        uint64_t reads = st->flash_fetch_reads;
        uint32_t s = fetch_stalls(st, p, st->pending_seq);
        st->fetch_stall += s;
        c += s;
        e += s * st->e_stall + (st->flash_fetch_reads - reads) * st->e_flash_read;
    } else {
        st->cur_line = 0;
        if (p->flags & F_SRAM_BUS) {
            uint64_t s = (uint64_t)p->mem_accesses * st->sram_penalty;
            st->bus_stall += s;
            c += s;
            e += s * st->e_bus;
        }
    }
    if ((p->flags & F_BRANCH) && ((p->flags & F_ALWAYS_TAKEN) || next != p->addr + p->size)) {
        uint32_t pen = p->taken_penalty;
        if (pen && b && (b->flags & F_UNALIGNED_WIDE)) pen += st->unaligned_extra;
        c += pen;
        e += pen * st->e_taken;
        st->branch_cycles += pen;
        st->taken_branches++;
    }
    st->energy += e;
    p->dyn += c - p->cost;
    st->cycles += c;
    st->instructions += p->n_insn;
    st->last_flags = p->flags;
    st->last_end = p->addr + p->size;
    p->execs++;
}


void tp_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    tp_state *st = (tp_state *)user_data;
    uint32_t addr = (uint32_t)address;
    tp_block *p = st->pending;
    int seq = 0;
    st->serial++;
    tp_block *b = p && p->succ && p->succ->addr == addr && p->succ->size == size ? p->succ
                                                                              : lookup(st, addr, size);
    if (!b) {
        int rc = st->miss(address, size);
        b = rc >= 0 ? lookup(st, addr, size) : NULL;
        if (rc == 1 && b) {
            /* new code hooks for this block: stop before it runs; counter.emu_start drops its
             * translation and resumes, so the hooks apply from its first execution */
            if (p) commit(st, p, addr, b);
            st->pending = b;
            st->stop_reason = STOP_RETRANSLATE;
            st->stopped_at = b;
            st->emu_stop(uc);
            return;
        }
        if (rc != 0 || !b) {
            if (p) commit(st, p, addr, NULL);
            st->pending = NULL;
            st->error = 1;
            st->stop_reason = STOP_ERROR;
            st->stopped_at = NULL;
            st->emu_stop(uc);
            return;
        }
    }
    if (p) { commit(st, p, addr, b); p->succ = b; }
    seq = addr == st->last_end;    /* also across emu_start restarts: the model ignores slicing */
    st->pending = b;
    st->pending_seq = seq;
    int reason = STOP_NONE;
    if (st->stop_req) reason = STOP_REQUEST;
    else if (st->cycles >= st->deadline) reason = STOP_DEADLINE;
    else if (p && st->irq_waiting && (p->flags & F_IRQWIN)) reason = STOP_IRQ_WINDOW;
    else if (p && st->stop_on_wfi && (p->flags & F_WFI)) reason = STOP_WFI;
    if (reason != STOP_NONE && st->stop_reason == STOP_NONE) {
        st->stop_reason = reason;
        st->stop_req = 0;
        st->stopped_at = b;
        st->emu_stop(uc);
        return;
    }
    if (b->nacc) block_data_reads(st, b);
}

/* Operand-dependent divide time (TRM 3.3: 2-12 cycles, early termination): the static table charges
 * the minimum 2; this adds the rest. Model: 2 + ceil(significant quotient bits * 10 / 32). */
static int div_find(tp_state *st, uint32_t addr) { return amap_get(&st->divmap, addr); }

void tp_add_div(tp_state *st, uint32_t addr, int rn, int rm, int is_signed) {
    if (div_find(st, addr) >= 0) return;
    if (st->ndivs == st->divs_cap) {
        st->divs_cap = st->divs_cap ? st->divs_cap * 2 : 16;
        st->divs = realloc(st->divs, sizeof(tp_div) * st->divs_cap);
    }
    amap_put(&st->divmap, addr, (int32_t)st->ndivs);
    st->divs[st->ndivs++] = (tp_div){addr, rn, rm, is_signed};
}

void tp_add_load(tp_state *st, uint32_t addr, int base, int index, int shift, int post, int64_t disp,
                 uint32_t nbytes) {
    if (amap_get(&st->ldmap, addr) >= 0) return;
    if (st->nldescs == st->ldescs_cap) {
        st->ldescs_cap = st->ldescs_cap ? st->ldescs_cap * 2 : 64;
        st->ldescs = realloc(st->ldescs, sizeof(tp_ldesc) * st->ldescs_cap);
    }
    amap_put(&st->ldmap, addr, (int32_t)st->nldescs);
    st->ldescs[st->nldescs++] = (tp_ldesc){base, index, shift, post, disp, nbytes};
}

uint32_t tp_div_cycles(uint32_t n, uint32_t m, int is_signed) {
    if (is_signed) {
        int32_t sn = (int32_t)n, sm = (int32_t)m;
        n = sn < 0 ? (uint32_t)(-(int64_t)sn) : (uint32_t)sn;
        m = sm < 0 ? (uint32_t)(-(int64_t)sm) : (uint32_t)sm;
    }
    if (m == 0) return 2;
    uint32_t q = n / m, bits = 0;
    while (q) { bits++; q >>= 1; }
    return 2 + (bits * 10 + 31) / 32;
}

void tp_div_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)size;
    tp_state *st = (tp_state *)user_data;
    int i = div_find(st, (uint32_t)address);
    if (i < 0) return;
    uint32_t n = 0, m = 0;
    st->reg_read(uc, st->divs[i].rn, &n);
    st->reg_read(uc, st->divs[i].rm, &m);
    uint32_t extra = tp_div_cycles(n, m, st->divs[i].is_signed) - 2;
    st->div_cycles += extra;
    st->cycles += extra;
    st->energy += extra * st->e_div;
    if (st->pending) st->pending->dyn += extra;
}

/* Exact mode: UC_HOOK_MEM_READ over the flash ranges (forces unicorn's slow path for every load). */
void tp_mem_hook(uc_engine *uc, int type, uint64_t address, int size, int64_t value, void *user_data) {
    (void)uc; (void)type; (void)value;
    tp_state *st = (tp_state *)user_data;
    uint32_t a = (uint32_t)address, last = (uint32_t)(address + (size ? size : 1) - 1);
    for (uint32_t l = a >> st->dline_shift; l <= last >> st->dline_shift; l++)
        data_line(st, l << st->dline_shift);
}

/* UC_HOOK_CODE on a load the tracker could not resolve: registers are exact here. */
void tp_load_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)size;
    tp_state *st = (tp_state *)user_data;
    int i = amap_get(&st->ldmap, (uint32_t)address);
    if (i < 0) return;
    const tp_ldesc *d = &st->ldescs[i];
    uint32_t base = 0, index = 0;
    st->reg_read(uc, d->base, &base);
    if (d->index >= 0) st->reg_read(uc, d->index, &index);
    uint32_t addr = base + (index << d->shift) + (d->post ? 0 : (uint32_t)d->disp);
    st->hooked_loads++;
    flash_range_read(st, addr, d->nbytes);
}

/* No-op memory hook: unicorn syncs the PC before calling memory hooks, so a callback of an access in
 * a hooked range (MMIO) reads the exact PC. Costs the slow path for every load/store (opt-in). */
void tp_mem_nop_hook(uc_engine *uc, int type, uint64_t address, int size, int64_t value, void *ud) {
    (void)uc; (void)type; (void)address; (void)size; (void)value; (void)ud;
}

/* ---------------------------------------------------------------- control */

/* Charge the pending block after emu_start returned with the core at pc. faulted: the instruction at
 * pc raised a fault (it and the rest of the block did not complete). */
void tp_sync(tp_state *st, uint32_t pc, int faulted) {
    (void)faulted;   /* informational: a fault and a callback's uc_emu_stop both leave PC at the
                      * instruction that did not complete */
    tp_block *p = st->pending;
    st->pending = NULL;
    if (!p) return;
    /* pc at the block start: it did not run. Either our hook stopped before it, or a callback's
     * uc_emu_stop / a fault aborted its first instruction (unicorn rewinds PC to the instruction). A
     * self-loop block that completed and was then stopped by another thread (uc timeout) is
     * indistinguishable and is undercounted by one pass: documented. */
    if (pc == p->addr) return;
    int inside = pc > p->addr && pc < p->addr + p->size;
    if (inside) {
        uint32_t off = pc - p->addr, i = 0;
        while (i < p->n_insn && p->insn_off[i] < off) i++;
        st->cycles += p->prefix[i];
        st->instructions += i;
        if (p->cost) st->energy += p->energy * p->prefix[i] / p->cost;
        st->partial_cycles += p->prefix[i];
        st->partial_insns += i;
        st->cur_line = 0;
        st->last_end = 0;
        return;
    }
    commit(st, p, pc, NULL);
    if ((p->flags & F_WFI) && st->stop_reason == STOP_NONE) st->stop_reason = STOP_WFI;
}

/* Cycles executed so far as seen from inside the emulation with the core at pc (MMIO reads of
 * CYCCNT/SysTick): committed cycles plus the pending block's instructions before pc. */
uint64_t tp_cycles_at(tp_state *st, uint32_t pc) {
    tp_block *p = st->pending;
    if (!p || pc < p->addr || pc >= p->addr + p->size) return st->cycles;
    uint32_t off = pc - p->addr, i = 0;
    while (i < p->n_insn && p->insn_off[i] < off) i++;
    return st->cycles + p->prefix[i];
}

void tp_begin(tp_state *st) { st->stop_reason = STOP_NONE; st->stopped_at = NULL; st->error = 0; }
/* Stop at the next block boundary (from a callback during emulation; never uc_emu_stop there). */
void tp_request_stop(tp_state *st) { st->stop_req = 1; }
void tp_set_deadline(tp_state *st, uint64_t deadline) { st->deadline = deadline; }
void tp_set_irq_waiting(tp_state *st, int on) { st->irq_waiting = on; }
void tp_set_stop_on_wfi(tp_state *st, int on) { st->stop_on_wfi = on; }
void tp_add(tp_state *st, uint64_t cycles, uint64_t energy) {
    st->cycles += cycles; st->extra_cycles += cycles; st->energy += energy;
    st->cur_line = 0; st->last_end = 0;   /* exception entry/return or sleep: the fetch stream restarts */
}

/* Energy per event (fJ): wait-state stall cycle, flash array read, taken-branch refill cycle, extra
 * divide cycle, System-bus contention cycle. */
void tp_set_energy(tp_state *st, uint64_t stall, uint64_t flash_read, uint64_t taken, uint64_t div, uint64_t bus) {
    st->e_stall = stall; st->e_flash_read = flash_read; st->e_taken = taken; st->e_div = div; st->e_bus = bus;
}

/* Energy so far (fJ) seen from inside the emulation at pc (pending block pro rata up to pc). */
uint64_t tp_energy_at(tp_state *st, uint32_t pc) {
    tp_block *p = st->pending;
    if (!p || pc < p->addr || pc >= p->addr + p->size || !p->cost) return st->energy;
    uint32_t off = pc - p->addr, i = 0;
    while (i < p->n_insn && p->insn_off[i] < off) i++;
    return st->energy + p->energy * p->prefix[i] / p->cost;
}

void tp_set_memory(tp_state *st, uint32_t ws, uint32_t prften, uint32_t icen, uint32_t dcen,
                   uint32_t ic_lines, uint32_t dc_lines, uint32_t line_shift, uint32_t dline_shift,
                   uint32_t sram_penalty, uint32_t unaligned_extra) {
    if (ic_lines > MAX_LINES) ic_lines = MAX_LINES;
    if (dc_lines > MAX_LINES) dc_lines = MAX_LINES;
    /* RM0432 3.3.3/3.3.4: caches keep their contents while disabled; a reset (ICRST/DCRST) clears
     * them. We keep the tags unless the geometry changes. */
    if (st->ic.n != (icen ? ic_lines : st->ic.n) || !st->ic.clock) cache_reset(&st->ic);
    if (st->dc.n != (dcen ? dc_lines : st->dc.n) || !st->dc.clock) cache_reset(&st->dc);
    st->ws = ws; st->prften = prften; st->icen = icen; st->dcen = dcen;
    st->ic.n = icen ? ic_lines : 0;
    st->dc.n = dcen ? dc_lines : 0;
    st->line_shift = line_shift; st->dline_shift = dline_shift;
    st->sram_penalty = sram_penalty;
    st->unaligned_extra = unaligned_extra;
    st->cur_line = 0; st->cur_dline = 0;
}

void tp_set_flash(tp_state *st, uint32_t lo, uint32_t size, uint32_t alias_lo, uint32_t alias_size) {
    st->flash_lo = lo; st->flash_size = size; st->alias_lo = alias_lo; st->alias_size = alias_size;
}

/* Up to 4 RAM ranges [lo, lo+size) that block_data_reads may read pointers from (besides flash). */
void tp_set_ram(tp_state *st, uint32_t i, uint32_t lo, uint32_t size) {
    if (i < 4) { st->ram_lo[i] = lo; st->ram_size[i] = size; }
}

void tp_reset_caches(tp_state *st, int ic, int dc) {
    if (ic) cache_reset(&st->ic);
    if (dc) cache_reset(&st->dc);
    st->cur_line = 0; st->cur_dline = 0;
}

/* Read-only views for Python (ctypes reads these through accessor functions). */
uint64_t tp_get(tp_state *st, int what) {
    switch (what) {
    case 0: return st->cycles;          case 1: return st->instructions;
    case 2: return st->stop_reason;     case 3: return st->fetch_stall;
    case 4: return st->data_stall;      case 5: return st->branch_cycles;
    case 6: return st->div_cycles;      case 7: return st->bus_stall;
    case 8: return st->ic_hits;         case 9: return st->ic_misses;
    case 10: return st->dc_hits;        case 11: return st->dc_misses;
    case 12: return st->flash_reads;    case 13: return st->taken_branches;
    case 14: return st->extra_cycles;   case 15: return st->nblocks;
    case 16: return st->last_flags;     case 17: return st->error;
    case 18: return st->partial_cycles; case 19: return st->partial_insns;
    case 20: return st->deadline;       case 21: return st->pending ? st->pending->addr : 0;
    case 22: return st->energy;         case 23: return st->flash_fetch_reads;
    case 24: return st->flash_data_reads;
    case 25: return st->hooked_loads;   case 26: return st->nldescs;
    case 27: return st->serial;         case 28: return st->pending ? st->pending->size : 0;
    default: return 0;
    }
}

/* Per-block statistics for profiles: address, size, completed executions, dynamic cycles. */
uint32_t tp_block_stats(tp_state *st, uint32_t n, uint32_t *addr, uint32_t *size, uint64_t *execs,
                        uint64_t *dyn) {
    if (n > st->nblocks) n = st->nblocks;
    for (uint32_t i = 0; i < n; i++) {
        addr[i] = st->blocks[i]->addr; size[i] = st->blocks[i]->size; execs[i] = st->blocks[i]->execs;
        dyn[i] = st->blocks[i]->dyn;
    }
    return n;
}
