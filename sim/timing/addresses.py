"""Flash data-read addresses without memory hooks.

For each load of a block, its address as a linear expression over values known at block ENTRY:
registers, and 32-bit words in memory at addresses that are themselves such expressions (pointers
spilled to the stack, struct fields). The native block hook evaluates the expressions with a few
register/memory reads and feeds the addresses that fall in flash to the ART data-cache model, so no
UC_HOOK_MEM_READ is needed (one would put every load of the program on unicorn's slow path, ~3x slower).

Tracked through: MOV/MOVW/MOVT, ADD/SUB with an immediate or a (shifted left) register, LSL #imm, load
writeback, LDR/LDRD/LDM results (as memory roots), and stores to addresses later reloaded in the block
(forwarding). Anything else makes a register unknown; loads with unknown addresses are counted
(`unknown`) and assumed not to read flash. Approximation: a pointer loaded from memory is read as of block
entry unless a store in the block to the very same address expression precedes it.
"""

from __future__ import annotations

import capstone
from tinyperf.sim.timing.isa import LOAD_MULTI, LOADS, STORE_MULTI, STORES, UC_REG
from tinyperf.sim.timing.model import TimingModel

ALIAS = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12"}
GPRS = {f"r{i}" for i in range(13)} | {"sp", "lr"}
MAX_TERMS = 3
MAX_ROOTS = 16
SHIFT_LSL = capstone.arm.ARM_SFT_LSL
LOAD_NAMES = LOADS | {"ldrd", "ldrex", "ldrexb", "ldrexh", "vldr", "tbb", "tbh"} | LOAD_MULTI
NBYTES = {"ldrb": 1, "ldrsb": 1, "ldrbt": 1, "ldrsbt": 1, "ldrexb": 1, "tbb": 1, "ldrh": 2, "ldrsh": 2,
          "ldrht": 2, "ldrsht": 2, "ldrexh": 2, "tbh": 2, "ldrd": 8}

# A linear expression: (frozenset of (root, coefficient)), constant). Roots: ("reg", name) for an entry
# register, ("mem", expr) for the 32-bit word at that address at block entry.
Lin = tuple


def lin_const(c: int) -> Lin:
    return (frozenset(), c)


def lin_root(root) -> Lin:
    return (frozenset({(root, 1)}), 0)


def lin_add(a: Lin | None, b: Lin | None, sign: int = 1) -> Lin | None:
    if a is None or b is None:
        return None
    terms = dict(a[0])
    for root, coef in b[0]:
        terms[root] = terms.get(root, 0) + sign * coef
    terms = {r: c for r, c in terms.items() if c}
    if len(terms) > MAX_TERMS:
        return None
    return (frozenset(terms.items()), a[1] + sign * b[1])


def lin_scale(a: Lin | None, k: int) -> Lin | None:
    if a is None:
        return None
    return (frozenset((r, c * k) for r, c in a[0]), a[1] * k)


class AddressTracker:
    """Collects, for one block, the roots to read at entry, the expressions over them and the loads
    (expression, bytes). `result()` returns them in the packed form tp_define_block takes."""

    def __init__(self, model: TimingModel):
        self.model = model
        self.regs: dict[str, Lin | None] = {}
        self.stores: dict[Lin, Lin | None] = {}
        self.loads: list[tuple[Lin, int]] = []
        self.unknown = 0
        # loads resolved at run time by a code hook: (address, base id, index id or -1, shift, post, disp,
        # bytes) with unicorn register ids
        self.dynamic: list[tuple[int, int, int, int, int, int, int]] = []

    # ------------------------------------------------------------------ state
    def get(self, reg: str) -> Lin | None:
        reg = ALIAS.get(reg, reg)
        if reg not in GPRS:
            return None
        return self.regs.get(reg, lin_root(("reg", reg)))

    def set(self, reg: str, value: Lin | None) -> None:
        self.regs[ALIAS.get(reg, reg)] = value

    def load_value(self, addr: Lin | None) -> Lin | None:
        """Value of the 32-bit word at `addr` as an expression (forwarded store or a memory root)."""
        if addr is None:
            return None
        if addr in self.stores:
            return self.stores[addr]
        return lin_root(("mem", addr))

    def operand_value(self, insn, op) -> Lin | None:
        """A register operand with an optional LSL #k."""
        v = self.get(insn.reg_name(op.reg))
        if op.shift.type == SHIFT_LSL:
            return lin_scale(v, 1 << op.shift.value)
        if op.shift.type not in (0,):
            return None
        return v

    # ------------------------------------------------------------------ per instruction
    def step(self, insn) -> None:
        """Record the loads of `insn` with the state before it, then apply its register writes."""
        name = insn.insn_name()
        ops = insn.operands
        mem = next((o for o in ops if o.type == capstone.arm.ARM_OP_MEM), None)
        regops = [o for o in ops if o.type == capstone.arm.ARM_OP_REG]
        regs = [insn.reg_name(o.reg) for o in regops]
        imms = [o.imm for o in ops if o.type == capstone.arm.ARM_OP_IMM]
        writes = [ALIAS.get(r, r) for r in (insn.reg_name(x) for x in insn.regs_access()[1])]
        new: dict[str, Lin | None] = {}
        if name in LOAD_NAMES or name.startswith(("vldm", "ldrex")):
            self._load(insn, name, mem, regs, new)
        elif name in STORES or name in ("strd",) or name.startswith("strex"):
            self._store(insn, name, mem, regs, new)
        elif name in STORE_MULTI or name.startswith("vstm") or name == "vpush":
            self._multi_writeback(insn, name, regs, new)
        elif name in ("mov", "movs", "movw") and len(ops) == 2:
            new[regs[0]] = lin_const(imms[0] & 0xFFFFFFFF) if imms else self.operand_value(insn, regops[1])
        elif name == "movt" and imms:
            cur = self.get(regs[0])
            new[regs[0]] = (lin_const((cur[1] & 0xFFFF) | (imms[0] << 16))
                            if cur is not None and not cur[0] else None)
        elif name in ("add", "adds", "addw", "sub", "subs", "subw") and mem is None and regops:
            sign = 1 if name.startswith("add") else -1
            if len(regops) == 1 and imms:                     # add rd, #imm
                new[regs[0]] = lin_add(self.get(regs[0]), lin_const(imms[0]), sign)
            elif len(regops) == 2 and imms:                   # add rd, rn, #imm
                new[regs[0]] = lin_add(self.get(regs[1]), lin_const(imms[0]), sign)
            elif len(regops) == 2:                            # add rd, rm (rd += rm)
                new[regs[0]] = lin_add(self.get(regs[0]), self.operand_value(insn, regops[1]), sign)
            elif len(regops) == 3:                            # add rd, rn, rm{, lsl #k}
                new[regs[0]] = lin_add(self.get(regs[1]), self.operand_value(insn, regops[2]), sign)
        elif name in ("lsl", "lsls") and len(regops) == 2 and imms:
            new[regs[0]] = lin_scale(self.get(regs[1]), 1 << imms[0])
        new = {ALIAS.get(r, r): v for r, v in new.items()}
        for r in writes:
            if r in GPRS:
                self.set(r, new.get(r))
        for r, v in new.items():
            if r not in writes:
                self.set(r, v)

    def _address(self, insn, mem) -> Lin | None:
        base = insn.reg_name(mem.mem.base)
        if base == "pc":
            b = lin_const((insn.address + 4) & ~3)
        else:
            b = self.get(base)
        post = getattr(insn, "post_index", False)
        if mem.mem.index:
            if mem.subtracted or post:
                return None
            idx = self.get(insn.reg_name(mem.mem.index))
            if mem.shift.type == SHIFT_LSL:
                idx = lin_scale(idx, 1 << mem.shift.value)
            elif mem.shift.type:
                return None
            return lin_add(b, idx)
        return b if post else lin_add(b, lin_const(mem.mem.disp))

    def _writeback(self, insn, mem, new: dict) -> None:
        if not insn.writeback or mem is None:
            return
        base = insn.reg_name(mem.mem.base)
        if getattr(insn, "post_index", False):
            imms = [o.imm for o in insn.operands if o.type == capstone.arm.ARM_OP_IMM]
            new[base] = lin_add(self.get(base), lin_const(imms[-1])) if imms else None
        else:
            new[base] = lin_add(self.get(base), lin_const(mem.mem.disp))

    def _dynamic(self, insn, base: str, index: str | None, shift: int, post: bool, disp: int,
                 nbytes: int) -> None:
        base, index = ALIAS.get(base, base), ALIAS.get(index, index) if index else None
        if base not in GPRS or (index is not None and index not in GPRS) or base == "sp":
            self.unknown += 1
            return
        self.dynamic.append((insn.address, UC_REG[base], UC_REG[index] if index else -1, shift, int(post),
                             disp, nbytes))

    def _record(self, addr: Lin | None, nbytes: int, dynamic=None) -> None:
        if addr is None:
            if dynamic is not None:
                self._dynamic(*dynamic)
            else:
                self.unknown += 1
        elif not addr[0]:
            if self.model.in_flash(addr[1] & 0xFFFFFFFF):
                self.loads.append((addr, nbytes))
        elif not any(r == ("reg", "sp") for r, _ in addr[0]):
            self.loads.append((addr, nbytes))

    def _load(self, insn, name, mem, regs, new: dict) -> None:
        if name in LOAD_MULTI or name.startswith("vldm"):
            if not regs:
                return
            base = "sp" if name == "pop" else regs[0]
            dst = regs if name == "pop" else regs[1:]
            words = sum(2 if r.startswith("d") else 1 for r in dst)
            down = "db" in name
            start = lin_add(self.get(base), lin_const(-4 * words if down else 0))
            self._record(start, 4 * words, (insn, base, None, 0, False, -4 * words if down else 0, 4 * words))
            for i, r in enumerate(dst):
                if ALIAS.get(r, r) in GPRS:
                    new[r] = self.load_value(lin_add(start, lin_const(4 * i)))
            if insn.writeback or name == "pop":
                new[base] = lin_add(self.get(base), lin_const(-4 * words if down else 4 * words))
            return
        if mem is None:
            return
        addr = self._address(insn, mem)
        nbytes = NBYTES.get(name, 4)
        if name == "vldr" and regs and regs[0].startswith("d"):
            nbytes = 8
        dyn = None
        if not (mem.mem.index and mem.subtracted) and mem.shift.type in (0, SHIFT_LSL):
            post = bool(getattr(insn, "post_index", False))
            index = insn.reg_name(mem.mem.index) if mem.mem.index else None
            dyn = (insn, insn.reg_name(mem.mem.base), index, mem.shift.value if index else 0, post,
                   mem.mem.disp, nbytes)
        self._record(addr, nbytes, dyn)
        if name in ("ldr", "ldrex") and regs:
            new[regs[0]] = self.load_value(addr)
        elif name == "ldrd" and len(regs) >= 2:
            new[regs[0]] = self.load_value(addr)
            new[regs[1]] = self.load_value(lin_add(addr, lin_const(4)))
        self._writeback(insn, mem, new)

    def _store(self, insn, name, mem, regs, new: dict) -> None:
        if mem is None:
            return
        addr = self._address(insn, mem)
        if name == "str" and regs and addr is not None:
            self.stores[addr] = self.get(regs[0])
        elif name == "strd" and len(regs) >= 2 and addr is not None:
            self.stores[addr] = self.get(regs[0])
            self.stores[lin_add(addr, lin_const(4))] = self.get(regs[1])
        elif addr is not None:
            self.stores.pop(addr, None)
        self._writeback(insn, mem, new)

    def _multi_writeback(self, insn, name, regs, new: dict) -> None:
        if name == "push" or name == "vpush":
            words = sum(2 if r.startswith("d") else 1 for r in regs)
            new["sp"] = lin_add(self.get("sp"), lin_const(-4 * words))
        elif insn.writeback and regs:
            words = sum(2 if r.startswith("d") else 1 for r in regs[1:])
            new[regs[0]] = lin_add(self.get(regs[0]), lin_const(-4 * words if "db" in name else 4 * words))

    # ------------------------------------------------------------------ packing
    def result(self):
        """(roots, exprs, accesses) as flat integer lists for the native side, the count of loads left
        unmodelled, and the loads to resolve with a code hook (`dynamic`).
        roots: [kind, reg_id, expr] (kind 0: register reg_id; kind 1: 32-bit word at expr);
        exprs: [nterms, root0, coef0, root1, coef1, root2, coef2, const]; accesses: [expr, nbytes]."""
        roots: list[tuple] = []
        root_index: dict = {}
        exprs: list[list[int]] = []
        expr_index: dict = {}

        def root_id(root) -> int:
            if root in root_index:
                return root_index[root]
            if root[0] == "reg":
                entry = (0, UC_REG[root[1]], -1)
            else:
                entry = (1, 0, expr_id(root[1]))
            if len(roots) >= MAX_ROOTS:
                raise OverflowError
            root_index[root] = len(roots)
            roots.append(entry)
            return root_index[root]

        def expr_id(e: Lin) -> int:
            if e in expr_index:
                return expr_index[e]
            terms = sorted(e[0], key=repr)
            packed = [len(terms)]
            for i in range(MAX_TERMS):
                if i < len(terms):
                    packed += [root_id(terms[i][0]), terms[i][1]]
                else:
                    packed += [-1, 0]
            packed.append(e[1])
            expr_index[e] = len(exprs)
            exprs.append(packed)
            return expr_index[e]

        accesses: list[list[int]] = []
        unknown = self.unknown
        for addr, nbytes in self.loads:
            try:
                accesses.append([expr_id(addr), nbytes])
            except OverflowError:
                unknown += 1
        return roots, exprs, accesses, unknown, list(self.dynamic)
