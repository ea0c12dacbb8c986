/* STM32L4R5 flash interface and ART accelerator model: instruction cache, prefetch, data cache,
 * flash data reads derived at block entry (static functions; included by tp_counter.c only).
 * RM0432 3.3.3-3.3.4 / RM0440 3.3.4; parameters from platforms/stm32l4r5_timing.yaml. */
#ifndef TP_MEMORY_H
#define TP_MEMORY_H

#include "tp_types.h"

/* ---------------------------------------------------------------- ART caches */

static int cache_miss_path(tp_cache *c, uint32_t tag);

static inline int cache_access(tp_cache *c, uint32_t tag) {
    /* fully associative, LRU; returns 1 on hit. A miss fills the least recently used line. */
    uint32_t s = c->map[tag & (MAP_SIZE - 1)];
    if (__builtin_expect(s && s - 1 < c->n && c->tag[s - 1] == tag, 1)) {
        c->used[s - 1] = ++c->clock;
        return 1;
    }
    return cache_miss_path(c, tag);
}

static int cache_miss_path(tp_cache *c, uint32_t tag) {
    uint32_t victim = 0, h = tag & (MAP_SIZE - 1);
    uint64_t oldest = UINT64_MAX;
    c->clock++;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->tag[i] == tag) { c->used[i] = c->clock; c->map[h] = (uint16_t)(i + 1); return 1; }
        if (c->used[i] < oldest) { oldest = c->used[i]; victim = i; }
    }
    if (c->n) { c->tag[victim] = tag; c->used[victim] = c->clock; c->map[h] = (uint16_t)(victim + 1); }
    return 0;
}

static void cache_reset(tp_cache *c) {
    for (uint32_t i = 0; i < MAX_LINES; i++) { c->tag[i] = UINT32_MAX; c->used[i] = 0; }
    memset(c->map, 0, sizeof c->map);
}

/* Fetch stall cycles of block b's lines given how it was entered (seq = fell through). Updates the
 * flash interface state (current line, instruction cache). */
static uint32_t fetch_stalls(tp_state *st, tp_block *b, int seq) {
    uint32_t stall = 0, line = (b->addr >> st->line_shift) + 1;   /* +1: 0 means none */
    for (uint32_t k = 0; k < b->nlines; k++, line++) {
        if (line != st->cur_line) {
            int sequential = (k > 0 || seq) && line == st->cur_line + 1;
            if (st->icen && cache_access(&st->ic, line)) {
                st->ic_hits++;
            } else if (st->prften && sequential) {
                /* the next line was read while the previous one executed: stall only for what the
                 * read (ws + 1 cycles) has left */
                uint32_t need = st->ws + 1, spent = st->cur_line_cycles;
                if (st->ws && spent < need) stall += need - spent;
                if (st->icen) st->ic_misses++;
                st->flash_fetch_reads++;
            } else {
                stall += st->ws;
                if (st->icen) st->ic_misses++;
                st->flash_fetch_reads++;
            }
            st->cur_line = line;
            st->cur_line_cycles = 0;
        }
        st->cur_line_cycles += b->line_cycles[k];
    }
    return stall;
}

/* One DCode read of flash at address: ART data cache (current buffer, cache, else a flash read costing
 * LATENCY wait states). */
static void data_line(tp_state *st, uint32_t address) {
    uint32_t line = (address >> st->dline_shift) + 1;
    st->flash_reads++;
    if (line == st->cur_dline) return;
    st->cur_dline = line;
    if (st->dcen && cache_access(&st->dc, line)) { st->dc_hits++; return; }
    if (st->dcen) st->dc_misses++;
    st->flash_data_reads++;
    st->data_stall += st->ws;
    st->cycles += st->ws;
    st->energy += st->ws * st->e_stall + st->e_flash_read;
    if (st->pending) st->pending->dyn += st->ws;
}

static inline int in_flash(tp_state *st, uint32_t a) {
    return (a - st->flash_lo) < st->flash_size || (a - st->alias_lo) < st->alias_size;
}

static inline uint32_t eval_expr(const tp_expr *e, const uint32_t *vals) {
    uint64_t s = (uint64_t)e->cst;
    for (int k = 0; k < e->n; k++) s += (uint64_t)e->coef[k] * vals[e->root[k]];
    return (uint32_t)s;
}

/* Fast mode: at block entry, evaluate the block's load addresses from the entry registers and memory
 * words (addresses.py); those in flash go through data_line. */
static void block_data_reads(tp_state *st, tp_block *b) {
    uint32_t vals[MAX_ROOTS];
    for (uint32_t i = 0; i < b->nroots; i++) {
        const tp_root *r = &b->roots[i];
        vals[i] = 0;
        if (r->kind == 0) {
            st->reg_read(st->uc, r->reg, &vals[i]);
        } else {
            /* never read outside flash/RAM: a peripheral read has side effects (e.g. RDR clears
             * RXNE); such a pointer stays 0, its loads are then simply not in flash */
            uint32_t a = eval_expr(&b->exprs[r->expr], vals);
            int ok = in_flash(st, a);
            for (int k = 0; k < 4 && !ok; k++) ok = st->ram_size[k] >= 4 && (a - st->ram_lo[k]) <= st->ram_size[k] - 4;
            if (ok) st->mem_read(st->uc, a, &vals[i], 4);
        }
    }
    for (uint32_t i = 0; i < b->nacc; i++) {
        uint32_t addr = eval_expr(&b->exprs[b->accs[i].expr], vals);
        if (!in_flash(st, addr)) continue;
        uint32_t last = addr + (b->accs[i].nbytes ? b->accs[i].nbytes : 1) - 1;
        for (uint32_t l = addr >> st->dline_shift; l <= last >> st->dline_shift; l++)
            data_line(st, l << st->dline_shift);
    }
}

static inline void flash_range_read(tp_state *st, uint32_t addr, uint32_t nbytes) {
    if (!in_flash(st, addr)) return;
    uint32_t last = addr + (nbytes ? nbytes : 1) - 1;
    for (uint32_t l = addr >> st->dline_shift; l <= last >> st->dline_shift; l++)
        data_line(st, l << st->dline_shift);
}

#endif
