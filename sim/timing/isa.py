"""Thumb-2 instruction-name tables (capstone names) shared by the decoder and the address tracker, and the
map from register names to unicorn register ids."""

from __future__ import annotations

from unicorn import arm_const

UC_REG = {f"r{i}": getattr(arm_const, f"UC_ARM_REG_R{i}") for i in range(13)}
UC_REG.update(sb=UC_REG["r9"], sl=UC_REG["r10"], fp=UC_REG["r11"], ip=UC_REG["r12"],
              sp=arm_const.UC_ARM_REG_SP, lr=arm_const.UC_ARM_REG_LR, pc=arm_const.UC_ARM_REG_PC)
UC_REG_BY_NUM = [UC_REG[f"r{i}"] for i in range(13)] + [UC_REG["sp"], UC_REG["lr"], UC_REG["pc"]]

LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrt", "ldrbt", "ldrht", "ldrsbt", "ldrsht"}
STORES = {"str", "strb", "strh", "strt", "strbt", "strht"}
LOAD_MULTI = {"ldm", "ldmia", "ldmdb", "ldmfd", "ldmea", "pop"}
STORE_MULTI = {"stm", "stmia", "stmdb", "stmea", "stmfd", "push"}
BRANCHES = {"b", "bl", "bx", "blx", "cbz", "cbnz"}
MULS = {"mul", "mla", "mls", "smull", "umull", "smlal", "umlal", "umaal", "smmul", "smmulr", "smmla",
         "smmlar", "smmls", "smmlsr"}
MUL_PREFIXES = ("smul", "smla", "smlal")      # SMULxy, SMULWx, SMLAxy, SMLAWx, SMLALxy (not SMLAD*)
DSP = {"smlad", "smladx", "smlsd", "smlsdx", "smlald", "smlaldx", "smlsld", "smlsldx", "smuad",
        "smuadx", "smusd", "smusdx", "sel", "pkhbt", "pkhtb", "ssat", "usat", "ssat16", "usat16",
        "sxtb16", "sxtab16", "uxtb16", "uxtab16", "sxtab", "sxtah", "uxtab", "uxtah", "usad8", "usada8",
        "qadd", "qsub", "qdadd", "qdsub"}
FP_MAC = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}
FP_DIV = {"vdiv", "vsqrt"}
IRQ_SYSREGS = ("primask", "basepri", "basepri_max", "faultmask", "control")
