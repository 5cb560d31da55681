#!/usr/bin/env python3
"""Generator of x86-64 ring-3 test cases for the differential harness (harness.c).

generate(seed, count) returns Case objects: code (ending in ud2), the initial GPRs,
RFLAGS, FXSAVE image (x87/MMX/XMM/MXCSR) and 512-byte memory window, plus what the SDM leaves
undefined for that code (flags, registers) so the comparison masks exactly that.
blob(cases) packs them for the payload; parse_results() unpacks the payload's records.
Run as a script to write a blob: gen.py --seed S --count N -o blob.bin
"""

import argparse
import random
import re
import struct

CODE_BASE = 0x10000000
WINDOW = 0x10002000 + 4096 - 512
WSIZE = 512
UNMAPPED = 0x10003000          # the page after the window
SUPERVISOR = 0x00200000        # mapped, supervisor only
CODE_LEN = 128
CASE_SIZE = CODE_LEN + 17 * 8 + 512 + 512
RESULT_SIZE = 21 * 8 + 512 + 512
END = b"\x0f\x0b"              # ud2: #UD right here ends the case

CF, PF, AF, ZF, SF, DF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x400, 0x800
ARITH = CF | PF | AF | ZF | SF | OF
COMPARED_FLAGS = ARITH | DF

RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
REG64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + ["r%d" % i for i in range(8, 16)]

EDGE = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
        0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0xfffffffffffffffe,
        0x100000000, 0xff00, 0x00ff00ff00ff00ff, 0x5555555555555555]

F32 = [0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
       0xffc00000, 0x7fa00000, 0x7f800001, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff,
       0x4f000000, 0xcf000000, 0x3f000000, 0x4b000000, 0x3fc00000, 0x40490fdb]
F64 = [0x0, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x7ff0000000000000,
       0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff4000000000000,
       0x7ff0000000000001, 0x0000000000000001, 0x800fffffffffffff, 0x0010000000000000,
       0x7fefffffffffffff, 0x41e0000000000000, 0xc3e0000000000000, 0x3fe0000000000000,
       0x4330000000000000, 0x3ff8000000000000, 0x400921fb54442d18]


class Case:
    def __init__(self, rng, kind):
        self.kind = kind
        self.code = b""
        self.regs = [rng.getrandbits(64) for _ in range(16)]
        self.regs[RSP] = WINDOW + 256
        self.rflags = 0x202 | (rng.getrandbits(12) & ARITH)
        self.fx = bytearray(512)
        struct.pack_into("<HHBxHQQII", self.fx, 0, 0x37f, 0, 0, 0, 0, 0, 0x1f80, 0)
        self.window = bytearray(rng.getrandbits(8) for _ in range(WSIZE))
        self.undef_flags = 0
        self.undef_at = {}           # address of each instruction -> flags undefined before it
        self.undef_regs = set()
        self.window_mask = None      # (offset, mask) of a pushed RFLAGS image
        self.asm = []

    @property
    def pc(self):
        return CODE_BASE + len(self.code)

    def emit(self, insn, text, undef=0, writes=0):
        """Appends an instruction; undef: flags it leaves undefined, writes: flags it defines."""
        self.undef_at[self.pc] = self.undef_flags
        self.code += insn
        self.undef_flags = (self.undef_flags & ~writes) | undef
        self.asm.append(text)

    def undef_flags_at(self, rip):
        """Flags undefined when execution stops at rip: a fault inside the sequence leaves the
        flags of the instructions before it, including ones a later instruction would define."""
        return self.undef_at.get(rip, self.undef_flags)

    def finish(self):
        self.undef_at[self.pc] = self.undef_flags
        self.code += END
        assert len(self.code) <= CODE_LEN, self.asm
        return self

    def pack(self):
        code = self.code + b"\xcc" * (CODE_LEN - len(self.code))
        return (code + struct.pack("<17Q", *self.regs, self.rflags) + bytes(self.fx) +
                bytes(self.window))


def value(rng, bits):
    if rng.random() < 0.5:
        v = rng.choice(EDGE)
        if rng.random() < 0.3:
            v = (v + rng.choice([-1, 1])) & ((1 << 64) - 1)
    else:
        v = rng.getrandbits(64)
    return v & ((1 << bits) - 1) | (rng.getrandbits(64) & ~((1 << bits) - 1) & ((1 << 64) - 1))


class Mem:
    """A memory operand: ModRM mod/rm, SIB and displacement; fixed up for RIP-relative."""

    def __init__(self):
        self.mod = self.rm = 0
        self.sib = None
        self.disp = b""
        self.x = self.b = 0
        self.a32 = False
        self.rip_target = None
        self.text = ""


def mem_operand(rng, case, size, avoid=(), target=None, align=1):
    """Picks an addressing form whose effective address is target (default: inside the window)
    and sets the registers it uses."""
    if target is None:
        lo, hi = 0, WSIZE - size
        off = rng.randrange(lo, hi + 1)
        off -= off % align
        target = WINDOW + off
    m = Mem()
    m.a32 = rng.random() < 0.1
    mask = 0xffffffff if m.a32 else (1 << 64) - 1
    regs = [r for r in range(16) if r not in avoid and r != RSP]
    form = rng.choice(["base", "base", "disp8", "disp32", "sib", "sib", "index", "abs", "rip"])
    if form == "rip":
        m.mod, m.rm = 0, 5
        m.rip_target = target
        m.disp = b"\0\0\0\0"
        m.text = "[rip -> %#x]" % target
        return m
    if form == "abs":
        m.mod, m.rm, m.sib = 0, 4, 0x25
        m.disp = struct.pack("<I", target)
        m.text = "[%#x]" % target
        return m
    hi32 = rng.getrandbits(32) << 32 if m.a32 else 0
    if form == "index":
        idx = rng.choice([r for r in regs if r != RSP])
        scale = rng.randrange(4)
        iv = rng.randrange(0, 16)
        disp = target - (iv << scale)
        case.regs[idx] = (iv | hi32) & ((1 << 64) - 1)
        m.mod, m.rm = 0, 4
        m.sib = scale << 6 | (idx & 7) << 3 | 5
        m.x = idx >> 3
        m.disp = struct.pack("<i", disp)
        m.text = "[%s*%d%+#x]" % (REG64[idx], 1 << scale, disp)
        return m
    base = rng.choice(regs + [RSP] * (RSP not in avoid))
    disp = {"base": 0, "disp8": rng.randrange(-128, 128), "disp32": rng.randrange(-4096, 4096),
            "sib": rng.choice([0, rng.randrange(-128, 128)])}[form]
    idx = None
    if form == "sib":
        idx = rng.choice([r for r in regs if r not in (base, RSP)] + [RSP])
        scale = rng.randrange(4)
    if idx is not None and idx != RSP:
        iv = rng.randrange(-8, 8)
        case.regs[idx] = (iv & mask) | hi32
        bv = target - disp - (iv << scale)
    else:
        bv = target - disp
    case.regs[base] = (bv & mask) | hi32
    need_disp8 = disp != 0 or (base & 7) == 5
    if form == "disp32":
        m.mod, m.disp = 2, struct.pack("<i", disp)
    elif need_disp8:
        m.mod, m.disp = 1, struct.pack("<b", disp)
    if idx is not None or (base & 7) == 4:
        m.rm = 4
        i = idx if idx is not None else RSP
        m.sib = (scale if idx is not None else 0) << 6 | (i & 7) << 3 | (base & 7)
        m.x = i >> 3 if i != RSP else 0
    else:
        m.rm = base & 7
    m.b = base >> 3
    m.text = "[%s%s%+#x]" % (REG64[base], "+%s*%d" % (REG64[idx], 1 << scale)
                            if idx is not None and idx != RSP else "", disp)
    return m


def encode(case, opcode, reg, rm, w=0, prefixes=b"", imm=b"", rex=None, mandatory=b""):
    """Builds prefixes + REX + opcode + ModRM (+SIB, disp) + imm. rm is a register number or a
    Mem. rex: None = only when needed, True = always (0x40 at least)."""
    r = reg >> 3 if reg is not None else 0
    reg = (reg or 0) & 7
    if isinstance(rm, Mem):
        x, b = rm.x, rm.b
        modrm = bytes([rm.mod << 6 | reg << 3 | rm.rm])
        tail = modrm + (bytes([rm.sib]) if rm.sib is not None else b"") + rm.disp
        pre = prefixes + (b"\x67" if rm.a32 else b"")
    else:
        x, b = 0, rm >> 3
        tail = bytes([0xc0 | reg << 3 | (rm & 7)])
        pre = prefixes
    bits = w << 3 | r << 2 | x << 1 | b
    rexb = bytes([0x40 | bits]) if bits or rex else b""
    insn = pre + mandatory + rexb + opcode + tail + imm
    if isinstance(rm, Mem) and rm.rip_target is not None:
        end = case.pc + len(insn)
        if rm.a32:
            end &= 0xffffffff
        pos = len(insn) - len(imm) - 4
        insn = insn[:pos] + struct.pack("<i", rm.rip_target - end) + insn[pos + 4:]
    return insn


def reg_name(r, bits, rex):
    if bits == 64:
        return REG64[r]
    if bits == 32:
        return (["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"][r] if r < 8
                else "r%dd" % r)
    if bits == 16:
        return (["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"][r] if r < 8 else "r%dw" % r)
    if r < 8:
        return (["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"] if rex else
                ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"])[r]
    return "r%db" % r


def size_parts(rng, bits):
    """(w, 0x66 prefix, opcode low bit, force REX) for an operand size."""
    if bits == 8:
        return 0, b"", 0, rng.random() < 0.3
    if bits == 16:
        return 0, b"\x66", 1, rng.random() < 0.2
    if bits == 32:
        return 0, b"", 1, rng.random() < 0.2
    return 1, b"", 1, False


def pick_rm(rng, case, bits, avoid=(), mem_ok=True):
    """A register (int) or Mem operand of the given size."""
    if mem_ok and rng.random() < 0.4:
        return mem_operand(rng, case, bits // 8, avoid)
    r = rng.randrange(16)
    while r in avoid or (r == RSP and rng.random() < 0.8):
        r = rng.randrange(16)
    return r


def rm_text(rm, bits, rex):
    return rm.text if isinstance(rm, Mem) else reg_name(rm, bits, rex)


def fit8(rm, reg, rex):
    """Without REX, registers 4-7 are AH..BH and 8-15 unreachable: True when consistent."""
    regs = [reg] + ([] if isinstance(rm, Mem) else [rm])
    return rex or all(r is None or r < 8 for r in regs)


ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
ALU_UNDEF = {"and": AF, "or": AF, "xor": AF}


def gen_alu(rng, case):
    op = rng.randrange(8)
    bits = rng.choice([8, 16, 32, 64])
    w, p66, low, rexf = size_parts(rng, bits)
    form = rng.choice(["rm_r", "r_rm", "rm_imm", "rm_imm8", "acc_imm"])
    reg = rng.randrange(16)
    rm = pick_rm(rng, case, bits)
    if bits == 8 and not rexf:
        reg &= 7
        if not isinstance(rm, Mem):
            rm &= 7
    rex = rexf or (bits == 8 and (not isinstance(rm, Mem) and rm >= 4 or reg >= 4) and rexf)
    ib = min(bits, 32) // 8
    if form == "rm_r":
        insn = encode(case, bytes([op << 3 | low]), reg, rm, w, p66, rex=rex)
        text = "%s %s, %s" % (ALU[op], rm_text(rm, bits, rex), reg_name(reg, bits, rex))
    elif form == "r_rm":
        insn = encode(case, bytes([op << 3 | 2 | low]), reg, rm, w, p66, rex=rex)
        text = "%s %s, %s" % (ALU[op], reg_name(reg, bits, rex), rm_text(rm, bits, rex))
    elif form == "rm_imm" or bits == 8:
        imm = value(rng, ib * 8) & ((1 << ib * 8) - 1)
        insn = encode(case, bytes([0x80 | low]), op, rm, w, p66,
                      imm.to_bytes(ib, "little"), rex=rex)
        text = "%s %s, %#x" % (ALU[op], rm_text(rm, bits, rex), imm)
    elif form == "rm_imm8":
        imm = rng.choice([0, 1, 0x7f, 0x80, 0xff, rng.randrange(256)])
        insn = encode(case, b"\x83", op, rm, w, p66, bytes([imm]), rex=rex)
        text = "%s %s, %d" % (ALU[op], rm_text(rm, bits, rex), struct.unpack("b", bytes([imm]))[0])
    else:
        imm = value(rng, ib * 8) & ((1 << ib * 8) - 1)
        insn = p66 + (b"\x48" if w else b"") + bytes([op << 3 | 4 | low]) + imm.to_bytes(ib, "little")
        text = "%s %s, %#x" % (ALU[op], reg_name(0, bits, 0), imm)
    case.emit(insn, text, ALU_UNDEF.get(ALU[op], 0), ARITH)


def gen_unary(rng, case):
    bits = rng.choice([8, 16, 32, 64])
    w, p66, low, rex = size_parts(rng, bits)
    rm = pick_rm(rng, case, bits)
    if bits == 8 and not rex and not isinstance(rm, Mem):
        rm &= 7
    which = rng.choice(["inc", "dec", "neg", "not"])
    if which in ("inc", "dec"):
        insn = encode(case, bytes([0xfe | low]), ["inc", "dec"].index(which), rm, w, p66, rex=rex)
        writes = ARITH & ~CF
    else:
        insn = encode(case, bytes([0xf6 | low]), 2 if which == "not" else 3, rm, w, p66, rex=rex)
        writes = 0 if which == "not" else ARITH
    case.emit(insn, "%s %s" % (which, rm_text(rm, bits, rex)), 0, writes)


SHIFTS = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"]


def shift_count(rng, bits):
    return rng.choice([0, 1, 2, bits - 1, bits, bits + 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63,
                       64, 65, 255, rng.randrange(256)])


def gen_shift(rng, case):
    bits = rng.choice([8, 16, 32, 64])
    w, p66, low, rex = size_parts(rng, bits)
    op = rng.choice([0, 1, 2, 3, 4, 5, 7])
    form = rng.choice(["1", "cl", "imm"])
    rm = pick_rm(rng, case, bits, avoid=(RCX,) if form == "cl" else ())
    if bits == 8 and not rex and not isinstance(rm, Mem):
        rm &= 7
        if form == "cl" and rm == 1:
            rm = 0
    count = 1 if form == "1" else shift_count(rng, bits)
    if form == "1":
        insn = encode(case, bytes([0xd0 | low]), op, rm, w, p66, rex=rex)
        src = "1"
    elif form == "cl":
        case.regs[RCX] = (case.regs[RCX] & ~0xff) | count
        insn = encode(case, bytes([0xd2 | low]), op, rm, w, p66, rex=rex)
        src = "cl"
    else:
        insn = encode(case, bytes([0xc0 | low]), op, rm, w, p66, bytes([count]), rex=rex)
        src = "%d" % count
    masked = count & (0x3f if bits == 64 else 0x1f)
    undef = writes = 0
    if masked:
        if op in (0, 1, 2, 3):
            writes = CF | OF
            if masked != 1:
                undef = OF
        else:
            writes = ARITH
            undef = AF | (OF if masked != 1 else 0)
            if op != 7 and masked >= bits:
                undef |= CF
    case.emit(insn, "%s %s, %s" % (SHIFTS[op], rm_text(rm, bits, rex), src), undef, writes)


def gen_shxd(rng, case):
    bits = rng.choice([16, 32, 64])
    w, p66, _, rex = size_parts(rng, bits)
    left = rng.random() < 0.5
    bycl = rng.random() < 0.5
    count = shift_count(rng, bits)
    masked = count & (0x3f if bits == 64 else 0x1f)
    reg = rng.choice([r for r in range(16) if not bycl or r != RCX])
    # The result is undefined when the count exceeds the operand size: register forms only.
    rm = pick_rm(rng, case, bits, avoid=(RCX,) if bycl else (), mem_ok=masked <= bits)
    op = 0xa4 if left else 0xac
    if bycl:
        case.regs[RCX] = (case.regs[RCX] & ~0xff) | count
        insn = encode(case, bytes([0x0f, op + 1]), reg, rm, w, p66, rex=rex)
        src = "cl"
    else:
        insn = encode(case, bytes([0x0f, op]), reg, rm, w, p66, bytes([count]), rex=rex)
        src = "%d" % count
    undef = writes = 0
    if masked:
        writes = ARITH
        undef = AF | (OF if masked != 1 else 0)
        if masked > bits:
            undef = ARITH
            case.undef_regs.add(rm)
    case.emit(insn, "%s %s, %s, %s" % ("shld" if left else "shrd", rm_text(rm, bits, rex),
                                       reg_name(reg, bits, rex), src), undef, writes)


def gen_muldiv(rng, case):
    bits = rng.choice([8, 16, 32, 64])
    w, p66, low, rex = size_parts(rng, bits)
    which = rng.choice(["mul", "imul", "div", "idiv", "imul2", "imul3"])
    if which in ("imul2", "imul3") and bits == 8:
        bits, w, p66, low = 32, 0, b"", 1
    rm = pick_rm(rng, case, bits, avoid=(RAX, RDX))
    if bits == 8 and not rex and not isinstance(rm, Mem):
        rm &= 7
        if rm in (0, 4):
            rm = 3
    mask = (1 << bits) - 1
    if which in ("div", "idiv"):
        # Mostly quotients that fit; sometimes #DE (zero divisor or overflow).
        d = value(rng, bits) & mask or 1
        if rng.random() < 0.1:
            d = 0
        if isinstance(rm, Mem):
            off = rm_target(case, rm, rng)
            case.window[off:off + bits // 8] = d.to_bytes(bits // 8, "little")
        else:
            case.regs[rm] = (case.regs[rm] & ~mask) | d
        if rng.random() < 0.7 and d:
            q = rng.getrandbits(bits - 1)
            if which == "idiv" and rng.random() < 0.5:
                q = -q
            sd = d - (1 << bits) if which == "idiv" and d >> (bits - 1) else d
            dividend = (q * sd + rng.randrange(abs(sd))) & ((1 << 2 * bits) - 1)
            set_pair(case, bits, dividend)
    if which in ("mul", "imul", "div", "idiv"):
        insn = encode(case, bytes([0xf6 | low]), ["mul", "imul", "div", "idiv"].index(which) + 4,
                      rm, w, p66, rex=rex)
        text = "%s %s" % (which, rm_text(rm, bits, rex))
    elif which == "imul2":
        reg = rng.randrange(16)
        insn = encode(case, b"\x0f\xaf", reg, rm, w, p66, rex=rex)
        text = "imul %s, %s" % (reg_name(reg, bits, rex), rm_text(rm, bits, rex))
    else:
        reg = rng.randrange(16)
        if rng.random() < 0.5:
            imm = rng.randrange(256)
            insn = encode(case, b"\x6b", reg, rm, w, p66, bytes([imm]), rex=rex)
        else:
            ib = 2 if bits == 16 else 4
            imm = value(rng, ib * 8) & ((1 << ib * 8) - 1)
            insn = encode(case, b"\x69", reg, rm, w, p66, imm.to_bytes(ib, "little"), rex=rex)
        text = "imul %s, %s, %#x" % (reg_name(reg, bits, rex), rm_text(rm, bits, rex), imm)
    if which in ("div", "idiv"):
        case.emit(insn, text, ARITH, ARITH)
    else:
        case.emit(insn, text, SF | ZF | AF | PF, ARITH)


def set_pair(case, bits, dividend):
    mask = (1 << bits) - 1
    if bits == 8:
        case.regs[RAX] = (case.regs[RAX] & ~0xffff) | (dividend & 0xffff)
    else:
        case.regs[RAX] = (case.regs[RAX] & ~mask) | (dividend & mask)
        case.regs[RDX] = (case.regs[RDX] & ~mask) | (dividend >> bits)


def rm_target(case, m, rng):
    """Window offset of a Mem built by mem_operand (its registers are already set)."""
    if m.rip_target is not None:
        return m.rip_target - WINDOW
    ea = 0
    if m.sib is not None:
        base = (m.sib & 7) | m.b << 3
        idx = (m.sib >> 3 & 7) | m.x << 3
        if not ((m.sib & 7) == 5 and m.mod == 0):
            ea += case.regs[base]
        if idx != RSP:
            ea += case.regs[idx] << (m.sib >> 6)
    else:
        ea += case.regs[m.rm | m.b << 3]
    if m.disp:
        ea += struct.unpack("<i" if len(m.disp) == 4 else "<b", m.disp)[0]
    ea &= 0xffffffff if m.a32 else (1 << 64) - 1
    return ea - WINDOW


def gen_bits(rng, case):
    bits = rng.choice([16, 32, 64])
    w, p66, _, rex = size_parts(rng, bits)
    which = rng.choice(["bt", "bts", "btr", "btc", "bti", "bsf", "bsr", "popcnt"])
    reg = rng.randrange(16)
    if which in ("bt", "bts", "btr", "btc"):
        # Bit offsets reach past the operand in memory: keep them inside the window.
        rm = mem_operand(rng, case, bits // 8, avoid=(reg,),
                         target=WINDOW + 128 + rng.randrange(0, 256 - bits // 8))
        if rng.random() < 0.5:
            rm = rng.randrange(16)
        off = rng.randrange(-512, 1024) if isinstance(rm, Mem) else value(rng, bits)
        case.regs[reg] = off & ((1 << 64) - 1)
        if isinstance(rm, Mem):
            case.regs[reg] = (case.regs[reg] & ~((1 << bits) - 1)) | (off & ((1 << bits) - 1))
        op = {"bt": 0xa3, "bts": 0xab, "btr": 0xb3, "btc": 0xbb}[which]
        lock = b"\xf0" if which != "bt" and isinstance(rm, Mem) and rng.random() < 0.3 else b""
        insn = encode(case, bytes([0x0f, op]), reg, rm, w, lock + p66, rex=rex)
        case.emit(insn, "%s%s %s, %s" % ("lock " if lock else "", which, rm_text(rm, bits, rex),
                                         reg_name(reg, bits, rex)), OF | SF | AF | PF, CF)
    elif which == "bti":
        rm = pick_rm(rng, case, bits)
        sub = rng.randrange(4, 8)
        imm = rng.randrange(256)
        insn = encode(case, b"\x0f\xba", sub, rm, w, p66, bytes([imm]), rex=rex)
        case.emit(insn, "%s %s, %d" % (["bt", "bts", "btr", "btc"][sub - 4],
                                       rm_text(rm, bits, rex), imm), OF | SF | AF | PF, CF)
    else:
        rm = pick_rm(rng, case, bits, avoid=(reg,))
        mask = (1 << bits) - 1
        if rng.random() < 0.3:
            src = 0
        else:
            src = value(rng, bits) & mask
            if rng.random() < 0.3:
                src &= -src & mask
        if isinstance(rm, Mem):
            off = rm_target(case, rm, rng)
            case.window[off:off + bits // 8] = src.to_bytes(bits // 8, "little")
        else:
            case.regs[rm] = (case.regs[rm] & ~mask) | src
        if which == "popcnt":
            insn = encode(case, b"\x0f\xb8", reg, rm, w, p66, rex=rex, mandatory=b"\xf3")
            case.emit(insn, "popcnt %s, %s" % (reg_name(reg, bits, rex), rm_text(rm, bits, rex)),
                      0, ARITH)
        else:
            insn = encode(case, b"\x0f\xbc" if which == "bsf" else b"\x0f\xbd", reg, rm, w, p66,
                          rex=rex)
            if src == 0:
                case.undef_regs.add(reg)
            case.emit(insn, "%s %s, %s" % (which, reg_name(reg, bits, rex),
                                           rm_text(rm, bits, rex)), ARITH & ~ZF, ZF)


def gen_cond(rng, case):
    cc = rng.randrange(16)
    which = rng.choice(["setcc", "cmovcc", "jcc"])
    if which == "setcc":
        rex = rng.random() < 0.3
        rm = pick_rm(rng, case, 8)
        if not rex and not isinstance(rm, Mem):
            rm &= 7
        insn = encode(case, bytes([0x0f, 0x90 | cc]), 0, rm, rex=rex)
        case.emit(insn, "set%x %s" % (cc, rm_text(rm, 8, rex)))
    elif which == "cmovcc":
        bits = rng.choice([16, 32, 64])
        w, p66, _, rex = size_parts(rng, bits)
        reg = rng.randrange(16)
        rm = pick_rm(rng, case, bits)
        insn = encode(case, bytes([0x0f, 0x40 | cc]), reg, rm, w, p66, rex=rex)
        case.emit(insn, "cmov%x %s, %s" % (cc, reg_name(reg, bits, rex), rm_text(rm, bits, rex)))
    else:
        # Taken: skip a `mov eax, imm32` marker.
        case.emit(bytes([0x70 | cc, 5]), "j%x +5" % cc)
        case.emit(b"\xb8\x11\x11\x11\x11", "mov eax, 0x11111111")


def gen_xchg(rng, case):
    bits = rng.choice([8, 16, 32, 64])
    w, p66, low, rex = size_parts(rng, bits)
    which = rng.choice(["xchg", "xadd", "cmpxchg", "cmpxchg8b", "cmpxchg16b", "xchg_acc"])
    reg = rng.randrange(16)
    if bits == 8 and not rex:
        reg &= 7
    lock = b"\xf0" if rng.random() < 0.4 else b""
    if which in ("cmpxchg8b", "cmpxchg16b"):
        wide = which == "cmpxchg16b"
        align = 16 if wide and rng.random() < 0.9 else 1
        m = mem_operand(rng, case, 16 if wide else 8, avoid=(RAX, RBX, RCX, RDX), align=align)
        if rng.random() < 0.5:
            off = rm_target(case, m, rng)
            n = 8 if wide else 4
            case.regs[RAX] = int.from_bytes(case.window[off:off + n], "little") | (
                0 if wide else case.regs[RAX] & ~0xffffffff)
            case.regs[RDX] = int.from_bytes(case.window[off + n:off + 2 * n], "little") | (
                0 if wide else case.regs[RDX] & ~0xffffffff)
        insn = encode(case, b"\x0f\xc7", 1, m, 1 if wide else 0, lock)
        case.emit(insn, "%s%s %s" % ("lock " if lock else "", which, m.text), 0, ZF)
        return
    if which == "xchg_acc":
        if bits == 8:
            bits, w, p66, low = 32, 0, b"", 1
        r = rng.randrange(16)
        insn = p66 + (bytes([0x40 | w << 3 | r >> 3]) if w or r >= 8 else b"") + bytes([0x90 | r & 7])
        case.emit(insn, "xchg %s, %s" % (reg_name(0, bits, 1), reg_name(r, bits, 1)))
        return
    rm = pick_rm(rng, case, bits, avoid=(RAX,) if which == "cmpxchg" else ())
    if bits == 8 and not rex and not isinstance(rm, Mem):
        rm &= 7
    if not isinstance(rm, Mem):
        lock = b""
    if which == "cmpxchg" and rng.random() < 0.5:
        mask = (1 << bits) - 1
        cur = (int.from_bytes(case.window[rm_target(case, rm, rng):][:bits // 8], "little")
               if isinstance(rm, Mem) else case.regs[rm] >> (8 if bits == 8 and not rex and 4 <= rm < 8 else 0))
        case.regs[RAX] = (case.regs[RAX] & ~mask) | (cur & mask)
    op = {"xchg": b"\x86", "xadd": b"\x0f\xc0", "cmpxchg": b"\x0f\xb0"}[which]
    op = op[:-1] + bytes([op[-1] | low])
    insn = encode(case, op, reg, rm, w, lock + p66, rex=rex)
    case.emit(insn, "%s%s %s, %s" % ("lock " if lock else "", which, rm_text(rm, bits, rex),
                                     reg_name(reg, bits, rex)), 0, 0 if which == "xchg" else ARITH)


def gen_move(rng, case):
    which = rng.choice(["movzx", "movsx", "movsxd", "lea", "mov", "movimm", "bswap", "cbw", "cwd",
                        "lahf", "sahf", "flagop", "movabs"])
    bits = rng.choice([16, 32, 64])
    w, p66, low, rex = size_parts(rng, bits)
    reg = rng.randrange(16)
    if which in ("movzx", "movsx"):
        sb = rng.choice([8, 16])
        rm = pick_rm(rng, case, sb)
        if sb == 8 and not rex and not isinstance(rm, Mem):
            rm &= 7
        op = (0xb6 if which == "movzx" else 0xbe) | (sb == 16)
        insn = encode(case, bytes([0x0f, op]), reg, rm, w, p66, rex=rex)
        case.emit(insn, "%s %s, %s" % (which, reg_name(reg, bits, rex), rm_text(rm, sb, rex)))
    elif which == "movsxd":
        rm = pick_rm(rng, case, 32)
        insn = encode(case, b"\x63", reg, rm, w, p66, rex=rex)
        case.emit(insn, "movsxd %s, %s" % (reg_name(reg, bits, rex), rm_text(rm, 32, rex)))
    elif which == "lea":
        # Any effective address: nothing is accessed, so wild base/index values are fine.
        m = mem_operand(rng, case, 1)
        for r in range(16):
            if rng.random() < 0.3:
                case.regs[r] = value(rng, 64)
        case.regs[RSP] = WINDOW + 256
        insn = encode(case, b"\x8d", reg, m, w, p66, rex=rex)
        case.emit(insn, "lea %s, %s" % (reg_name(reg, bits, rex), m.text))
    elif which == "mov":
        bits = rng.choice([8, 16, 32, 64])
        w, p66, low, rex = size_parts(rng, bits)
        rm = pick_rm(rng, case, bits)
        if bits == 8 and not rex:
            reg &= 7
            if not isinstance(rm, Mem):
                rm &= 7
        d = rng.choice([0, 2])
        insn = encode(case, bytes([0x88 | d | low]), reg, rm, w, p66, rex=rex)
        a, b = rm_text(rm, bits, rex), reg_name(reg, bits, rex)
        case.emit(insn, "mov %s, %s" % ((a, b) if d == 0 else (b, a)))
    elif which == "movimm":
        rm = pick_rm(rng, case, bits)
        ib = 2 if bits == 16 else 4
        imm = value(rng, ib * 8) & ((1 << ib * 8) - 1)
        insn = encode(case, b"\xc7", 0, rm, w, p66, imm.to_bytes(ib, "little"), rex=rex)
        case.emit(insn, "mov %s, %#x" % (rm_text(rm, bits, rex), imm))
    elif which == "movabs":
        if rng.random() < 0.5:
            insn = bytes([0x48 | (reg >> 3), 0xb8 | reg & 7]) + struct.pack("<Q", value(rng, 64))
            case.emit(insn, "movabs %s, imm64" % REG64[reg])
        else:
            insn = b"\x48\xa1" + struct.pack("<Q", WINDOW + rng.randrange(WSIZE - 8))
            case.emit(insn, "movabs rax, [moffs64]")
    elif which == "bswap":
        bits = rng.choice([32, 64])
        insn = bytes([0x40 | (bits == 64) << 3 | reg >> 3, 0x0f, 0xc8 | reg & 7])
        case.emit(insn, "bswap %s" % reg_name(reg, bits, 1))
    elif which == "cbw":
        case.emit(p66 + (b"\x48" if w else b"") + b"\x98", "cbw/cwde/cdqe (%d)" % bits)
    elif which == "cwd":
        case.emit(p66 + (b"\x48" if w else b"") + b"\x99", "cwd/cdq/cqo (%d)" % bits)
    elif which == "lahf":
        case.emit(b"\x9f", "lahf")
    elif which == "sahf":
        case.emit(b"\x9e", "sahf", 0, ARITH & ~OF)
    else:
        op = rng.choice([(b"\xf8", "clc", CF), (b"\xf9", "stc", CF), (b"\xf5", "cmc", CF),
                         (b"\xfc", "cld", 0), (b"\xfd", "std", 0)])
        case.emit(op[0], op[1], 0, op[2])


STRINGS = [(0xa4, "movs"), (0xa6, "cmps"), (0xaa, "stos"), (0xac, "lods"), (0xae, "scas")]


def gen_string(rng, case):
    op, name = rng.choice(STRINGS)
    bits = rng.choice([8, 16, 32, 64])
    w, p66, low, _ = size_parts(rng, bits)
    n = bits // 8
    rep = rng.choice([b"", b"\xf3", b"\xf2"]) if name in ("cmps", "scas") else rng.choice([b"", b"\xf3"])
    count = rng.choice([0, 1, 2, 3, 5, 8, 16])
    down = rng.random() < 0.4
    if down:
        case.rflags |= DF
    else:
        case.rflags &= ~DF
    span = n * max(count, 1)
    for r in (RSI, RDI):
        start = rng.randrange(0, WSIZE - span + 1)
        case.regs[r] = WINDOW + (start + span - n if down else start)
    case.regs[RCX] = count if rng.random() < 0.8 else (rng.getrandbits(32) << 32 | count)
    a32 = rng.random() < 0.1
    if name in ("cmps", "scas") and rng.random() < 0.5:
        # Runs of equal bytes make REPE/REPNE stop part-way.
        s = case.regs[RSI] - WINDOW
        d = case.regs[RDI] - WINDOW
        k = rng.randrange(0, span + 1)
        lo_s = s - (span - n) if down else s
        lo_d = d - (span - n) if down else d
        case.window[lo_d:lo_d + k] = case.window[lo_s:lo_s + k]
        case.regs[RAX] = int.from_bytes(case.window[lo_d:lo_d + 8].ljust(8, b"\0"), "little")
    if a32:
        case.regs[RCX] &= 0xffffffff
        for r in (RSI, RDI):
            case.regs[r] |= rng.getrandbits(32) << 32
    insn = (b"\x67" if a32 else b"") + p66 + rep + (b"\x48" if w else b"") + bytes([op | low])
    undef = 0
    writes = ARITH if name in ("cmps", "scas") else 0
    case.emit(insn, "%s%s%s (%d-bit, %s)" % ("addr32 " if a32 else "", {b"": "", b"\xf3": "rep ",
              b"\xf2": "repne "}[rep], name, bits, "down" if down else "up"), undef, writes)


def gen_stack(rng, case):
    which = rng.choice(["push", "pop", "pushf", "popf", "pushimm", "pushm", "popm", "enter_leave"])
    r = rng.randrange(16)
    if which == "push":
        case.emit(bytes([0x41, 0x50 | r & 7]) if r >= 8 else bytes([0x50 | r]), "push %s" % REG64[r])
    elif which == "pop":
        case.emit(bytes([0x41, 0x58 | r & 7]) if r >= 8 else bytes([0x58 | r]), "pop %s" % REG64[r])
    elif which == "pushf":
        case.emit(b"\x9c", "pushf")
        # Only the flags this harness controls are compared in the pushed image.
        case.window_mask = (256 - 8, COMPARED_FLAGS)
    elif which == "popf":
        v = rng.getrandbits(64) & COMPARED_FLAGS | 0x202
        struct.pack_into("<Q", case.window, 256, v)
        case.emit(b"\x9d", "popf", 0, ARITH)
    elif which == "pushimm":
        imm = value(rng, 32) & 0xffffffff
        case.emit(b"\x68" + struct.pack("<I", imm), "push %#x" % imm)
    elif which == "pushm":
        m = mem_operand(rng, case, 8, avoid=(RSP,))
        case.emit(encode(case, b"\xff", 6, m), "push qword %s" % m.text)
    elif which == "popm":
        m = mem_operand(rng, case, 8, avoid=(RSP,))
        case.emit(encode(case, b"\x8f", 0, m), "pop qword %s" % m.text)
    else:
        case.regs[RBP] = WINDOW + rng.randrange(64, 448)
        level = rng.choice([0, 1, 2, 3])
        case.emit(b"\xc8" + struct.pack("<HB", rng.randrange(0, 64), level), "enter x, %d" % level)
        case.emit(b"\xc9", "leave")


def gen_chain(rng, case):
    """Several flag-producing and flag-consuming instructions in a row."""
    for _ in range(rng.randrange(2, 5)):
        g = rng.choice([gen_alu, gen_alu, gen_unary, gen_shift, gen_cond, gen_move, gen_muldiv])
        before = (len(case.code), len(case.asm), case.undef_flags, set(case.undef_regs),
                  list(case.regs))
        g(rng, case)
        # An instruction that reads an undefined flag would make the result undefined, one
        # that sets CL after a shift by CL would change that shift's count, and a shift by CL
        # after an instruction that may write RCX has another count than the one its
        # undefined flags were chosen for (initial RCX): drop it.
        text = case.asm[-1]
        cl_changed = (case.regs[RCX] ^ before[4][RCX]) & 0xff and \
            any(t.endswith(", cl") for t in case.asm[:before[1]])
        cl_written = text.endswith(", cl") and \
            any(re.search(r"\b(rcx|ecx|cx|cl|ch)\b", t) for t in case.asm[:before[1]])
        if (before[2] and reads_flags(text)) or cl_changed or cl_written:
            case.code = case.code[:before[0]]
            del case.asm[before[1]:]
            case.undef_flags = before[2]
            case.undef_regs = before[3]
            case.regs = before[4]
        if len(case.code) > CODE_LEN - 40:
            break


def reads_flags(text):
    return text.split()[0] in ("adc", "sbb", "rcl", "rcr", "lahf", "pushf") or \
        text.startswith(("set", "cmov", "j", "mov eax, 0x11111111"))


# Legacy SSE: (mandatory prefix, opcode, name, lane kind, has imm8, memory alignment)
SSE_OPS = []


def _sse_table():
    t = [
        ("", "0f58", "addps", "f32"), ("66", "0f58", "addpd", "f64"), ("f3", "0f58", "addss", "f32"),
        ("f2", "0f58", "addsd", "f64"), ("", "0f59", "mulps", "f32"), ("66", "0f59", "mulpd", "f64"),
        ("f3", "0f59", "mulss", "f32"), ("f2", "0f59", "mulsd", "f64"), ("", "0f5c", "subps", "f32"),
        ("66", "0f5c", "subpd", "f64"), ("f3", "0f5c", "subss", "f32"), ("f2", "0f5c", "subsd", "f64"),
        ("", "0f5e", "divps", "f32"), ("66", "0f5e", "divpd", "f64"), ("f3", "0f5e", "divss", "f32"),
        ("f2", "0f5e", "divsd", "f64"), ("", "0f5d", "minps", "f32"), ("66", "0f5d", "minpd", "f64"),
        ("f3", "0f5d", "minss", "f32"), ("f2", "0f5f", "maxsd", "f64"), ("", "0f5f", "maxps", "f32"),
        ("", "0f51", "sqrtps", "f32"), ("66", "0f51", "sqrtpd", "f64"), ("f3", "0f51", "sqrtss", "f32"),
        ("f2", "0f51", "sqrtsd", "f64"), ("", "0f54", "andps", "f32"), ("66", "0f55", "andnpd", "f64"),
        ("", "0f56", "orps", "f32"), ("66", "0f57", "xorpd", "f64"), ("", "0f14", "unpcklps", "f32"),
        ("66", "0f15", "unpckhpd", "f64"), ("", "0f5b", "cvtdq2ps", "i32"),
        ("66", "0f5b", "cvtps2dq", "f32"), ("f3", "0f5b", "cvttps2dq", "f32"),
        ("", "0f5a", "cvtps2pd", "f32"), ("66", "0f5a", "cvtpd2ps", "f64"),
        ("f3", "0f5a", "cvtss2sd", "f32"), ("f2", "0f5a", "cvtsd2ss", "f64"),
        ("f3", "0fe6", "cvtdq2pd", "i32"), ("66", "0fe6", "cvttpd2dq", "f64"),
        ("f2", "0fe6", "cvtpd2dq", "f64"), ("f2", "0f7c", "haddps", "f32"),
        ("66", "0f7c", "haddpd", "f64"), ("f2", "0f7d", "hsubps", "f32"),
        ("66", "0fd0", "addsubpd", "f64"), ("f2", "0fd0", "addsubps", "f32"),
        ("f3", "0f16", "movshdup", "f32"), ("f2", "0f12", "movddup", "f64"),
        ("66", "0ffc", "paddb", "i8"), ("66", "0ffd", "paddw", "i16"), ("66", "0ffe", "paddd", "i32"),
        ("66", "0fd4", "paddq", "i64"), ("66", "0fec", "paddsb", "i8"), ("66", "0fdd", "paddusw", "i16"),
        ("66", "0ff8", "psubb", "i8"), ("66", "0ffb", "psubq", "i64"), ("66", "0fe9", "psubsw", "i16"),
        ("66", "0fd8", "psubusb", "i8"), ("66", "0fd5", "pmullw", "i16"), ("66", "0fe5", "pmulhw", "i16"),
        ("66", "0fe4", "pmulhuw", "i16"), ("66", "0ff4", "pmuludq", "i32"),
        ("66", "0ff5", "pmaddwd", "i16"), ("66", "0ff6", "psadbw", "i8"), ("66", "0fe0", "pavgb", "i8"),
        ("66", "0fe3", "pavgw", "i16"), ("66", "0f74", "pcmpeqb", "i8"), ("66", "0f65", "pcmpgtw", "i16"),
        ("66", "0f66", "pcmpgtd", "i32"), ("66", "0f63", "packsswb", "i16"),
        ("66", "0f6b", "packssdw", "i32"), ("66", "0f67", "packuswb", "i16"),
        ("66", "0f60", "punpcklbw", "i8"), ("66", "0f69", "punpckhwd", "i16"),
        ("66", "0f6c", "punpcklqdq", "i64"), ("66", "0f6d", "punpckhqdq", "i64"),
        ("66", "0fda", "pminub", "i8"), ("66", "0fee", "pmaxsw", "i16"), ("66", "0fdb", "pand", "i64"),
        ("66", "0fdf", "pandn", "i64"), ("66", "0feb", "por", "i64"), ("66", "0fef", "pxor", "i64"),
        ("66", "0ff1", "psllw", "i16"), ("66", "0ff2", "pslld", "i32"), ("66", "0ff3", "psllq", "i64"),
        ("66", "0fd1", "psrlw", "i16"), ("66", "0fe2", "psrad", "i32"), ("66", "0fd3", "psrlq", "i64"),
        ("66", "0f6f", "movdqa", "i8"), ("f3", "0f6f", "movdqu", "i8"), ("", "0f10", "movups", "f32"),
        ("f3", "0f10", "movss", "f32"), ("f2", "0f10", "movsd", "f64"), ("", "0f28", "movaps", "f32"),
        ("66", "380000", "pshufb", "i8"), ("66", "380001", "phaddw", "i16"),
        ("66", "380002", "phaddd", "i32"), ("66", "380003", "phaddsw", "i16"),
        ("66", "380004", "pmaddubsw", "i8"), ("66", "380005", "phsubw", "i16"),
        ("66", "380008", "psignb", "i8"), ("66", "38000a", "psignd", "i32"),
        ("66", "38000b", "pmulhrsw", "i16"), ("66", "38001c", "pabsb", "i8"),
        ("66", "38001e", "pabsd", "i32"), ("66", "380010", "pblendvb", "i8"),
        ("66", "380014", "blendvps", "f32"), ("66", "380015", "blendvpd", "f64"),
        ("66", "380017", "ptest", "i64"), ("66", "380020", "pmovsxbw", "i8"),
        ("66", "380025", "pmovsxdq", "i32"), ("66", "380030", "pmovzxbw", "i8"),
        ("66", "380035", "pmovzxdq", "i32"), ("66", "380028", "pmuldq", "i32"),
        ("66", "380029", "pcmpeqq", "i64"), ("66", "38002b", "packusdw", "i32"),
        ("66", "380038", "pminsb", "i8"), ("66", "380039", "pminsd", "i32"),
        ("66", "38003a", "pminuw", "i16"), ("66", "38003f", "pmaxud", "i32"),
        ("66", "380040", "pmulld", "i32"), ("66", "380041", "phminposuw", "i16"),
        ("66", "380037", "pcmpgtq", "i64"),
    ]
    for p, op, name, kind in t:
        opc = bytes.fromhex(op)
        if len(opc) == 3:
            opc = b"\x0f\x38" + opc[2:]
        SSE_OPS.append((bytes.fromhex(p), opc, name, kind, False, 16))
    imm = [
        ("", "0fc2", "cmpps", "f32"), ("66", "0fc2", "cmppd", "f64"), ("f3", "0fc2", "cmpss", "f32"),
        ("f2", "0fc2", "cmpsd", "f64"), ("", "0fc6", "shufps", "f32"), ("66", "0fc6", "shufpd", "f64"),
        ("66", "0f70", "pshufd", "i32"), ("f3", "0f70", "pshufhw", "i16"), ("f2", "0f70", "pshuflw", "i16"),
        ("66", "3a0f", "palignr", "i8"), ("66", "3a08", "roundps", "f32"), ("66", "3a09", "roundpd", "f64"),
        ("66", "3a0a", "roundss", "f32"), ("66", "3a0b", "roundsd", "f64"), ("66", "3a0c", "blendps", "f32"),
        ("66", "3a0d", "blendpd", "f64"), ("66", "3a0e", "pblendw", "i16"), 
        ("66", "3a41", "dppd", "f64"), ("66", "3a42", "mpsadbw", "i8"), ("66", "3a21", "insertps", "f32"),
        ("66", "3a60", "pcmpestrm", "str"), ("66", "3a61", "pcmpestri", "str"),
        ("66", "3a62", "pcmpistrm", "str"), ("66", "3a63", "pcmpistri", "str"),
    ]
    for p, op, name, kind in imm:
        opc = bytes.fromhex(op)
        if opc[0] == 0x3a:
            opc = b"\x0f" + opc
        SSE_OPS.append((bytes.fromhex(p), opc, name, kind, True, 16))


_sse_table()
UNALIGNED_OK = {"movups", "movdqu", "addss", "addsd", "mulss", "mulsd", "subss", "subsd", "divss",
                "divsd", "minss", "maxsd", "sqrtss", "sqrtsd", "cvtss2sd", "cvtsd2ss", "cvtdq2pd",
                "movss", "movsd", "cmpss", "cmpsd", "roundss", "roundsd", "movddup", "insertps",
                "pmovsxbw", "pmovsxdq", "pmovzxbw", "pmovzxdq"}
PS_FLAGS_OPS = {"ptest", "pcmpestrm", "pcmpestri", "pcmpistrm", "pcmpistri"}


def lane_bytes(rng, kind, n=16):
    out = b""
    while len(out) < n:
        if kind == "f32":
            v = rng.choice(F32) if rng.random() < 0.6 else rng.getrandbits(32)
            if rng.random() < 0.1:
                v = rng.getrandbits(23) | rng.choice([0, 0x80000000])      # denormal
            out += struct.pack("<I", v)
        elif kind == "f64":
            v = rng.choice(F64) if rng.random() < 0.6 else rng.getrandbits(64)
            if rng.random() < 0.1:
                v = rng.getrandbits(52) | rng.choice([0, 1 << 63])
            out += struct.pack("<Q", v)
        elif kind == "str":
            out += bytes(rng.choice([0, 0x41, 0x42, 0x61, 0x7a, 0xff, 0x80, rng.randrange(256)])
                         for _ in range(4))
        else:
            out += value(rng, 64).to_bytes(8, "little") if rng.random() < 0.5 else \
                rng.getrandbits(64).to_bytes(8, "little")
    return out[:n]


def random_mxcsr(rng):
    m = 0x1f80
    if rng.random() < 0.5:
        m |= rng.randrange(4) << 13             # rounding
    if rng.random() < 0.2:
        m |= 0x8000                             # FTZ
    if rng.random() < 0.2:
        m |= 0x40                               # DAZ
    if rng.random() < 0.2:
        m |= rng.getrandbits(6)                 # sticky flags already set
    if rng.random() < 0.1:
        m &= ~(rng.getrandbits(6) << 7)         # unmask some: #XM
    return m


def gen_sse(rng, case):
    prefix, opc, name, kind, has_imm, align = rng.choice(SSE_OPS)
    struct.pack_into("<I", case.fx, 24, random_mxcsr(rng))
    for i in range(16):
        case.fx[160 + 16 * i:176 + 16 * i] = lane_bytes(rng, kind)
    reg = rng.randrange(16)
    if rng.random() < 0.4:
        unaligned = name in UNALIGNED_OK or rng.random() < 0.1
        rm = mem_operand(rng, case, 16, align=1 if unaligned else 16)
        off = rm_target(case, rm, rng)
        if 0 <= off <= WSIZE - 16:
            case.window[off:off + 16] = lane_bytes(rng, kind)
    else:
        rm = rng.randrange(16)
    imm = b""
    text_imm = ""
    if has_imm:
        iv = rng.randrange(256)
        if name.startswith("round") and rng.random() < 0.5:
            iv &= 0xf
        if name.startswith("cmp"):
            iv &= 7
        imm, text_imm = bytes([iv]), ", %#x" % iv
    if kind == "str" and name.startswith("pcmpe"):
        for r in (RAX, RDX):
            case.regs[r] = rng.choice([0, 1, 5, 8, 15, 16, 17, -1, -16, -17, 1 << 32]) & ((1 << 64) - 1)
    case.emit(encode(case, opc, reg, rm, rng.random() < 0.1, b"", imm, mandatory=prefix),
              "%s xmm%d, %s%s" % (name, reg, rm.text if isinstance(rm, Mem) else "xmm%d" % rm,
                                  text_imm), 0, ARITH if name in PS_FLAGS_OPS else 0)


def gen_sse_misc(rng, case):
    """SSE instructions that touch GPRs or flags: conversions, COMISS, MOVMSK, PEXTR/PINSR, CRC32."""
    struct.pack_into("<I", case.fx, 24, random_mxcsr(rng))
    kind = rng.choice(["f32", "f64", "i8"])
    for i in range(16):
        case.fx[160 + 16 * i:176 + 16 * i] = lane_bytes(rng, kind)
    reg = rng.randrange(16)
    xr = rng.randrange(16)
    w = rng.random() < 0.5
    which = rng.choice(["comis", "cvt2si", "cvtsi2", "movmsk", "pextr", "pinsr", "crc32", "movq",
                        "pmovmskb", "extractps", "psllimm"])
    if which == "comis":
        p = rng.choice([b"", b"\x66"])
        op = rng.choice([b"\x0f\x2e", b"\x0f\x2f"])
        case.emit(encode(case, op, reg, xr, 0, mandatory=p), "%scomis%s xmm%d, xmm%d" % (
            "u" if op[1] == 0x2e else "", "d" if p else "s", reg, xr), 0, ARITH)
    elif which == "cvt2si":
        p = rng.choice([b"\xf3", b"\xf2"])
        op = rng.choice([b"\x0f\x2c", b"\x0f\x2d"])
        case.emit(encode(case, op, reg, xr, w, mandatory=p), "cvt%ss%s2si %s, xmm%d" % (
            "t" if op[1] == 0x2c else "", "s" if p == b"\xf3" else "d", reg_name(reg, 64 if w else 32, 1), xr))
    elif which == "cvtsi2":
        p = rng.choice([b"\xf3", b"\xf2"])
        case.regs[xr] = value(rng, 64)
        case.emit(encode(case, b"\x0f\x2a", reg, xr, w, mandatory=p), "cvtsi2s%s xmm%d, %s" % (
            "s" if p == b"\xf3" else "d", reg, reg_name(xr, 64 if w else 32, 1)))
    elif which == "movmsk":
        p = rng.choice([b"", b"\x66"])
        case.emit(encode(case, b"\x0f\x50", reg, xr, mandatory=p), "movmskp%s %s, xmm%d" % (
            "d" if p else "s", reg_name(reg, 32, 1), xr))
    elif which == "pmovmskb":
        case.emit(encode(case, b"\x0f\xd7", reg, xr, mandatory=b"\x66"), "pmovmskb %s, xmm%d" % (
            reg_name(reg, 32, 1), xr))
    elif which == "pextr":
        op, n = rng.choice([(b"\x0f\x3a\x14", "b"), (b"\x0f\x3a\x16", "d"), (b"\x0f\x3a\x15", "w")])
        iv = rng.randrange(256)
        ww = 1 if n == "d" and w else 0
        case.emit(encode(case, op, xr, reg, ww, imm=bytes([iv]), mandatory=b"\x66"),
                  "pextr%s %s, xmm%d, %d" % ("q" if ww else n, reg_name(reg, 64, 1), xr, iv))
    elif which == "pinsr":
        op, n = rng.choice([(b"\x0f\x3a\x20", "b"), (b"\x0f\x3a\x22", "d"), (b"\x0f\xc4", "w")])
        iv = rng.randrange(256)
        ww = 1 if n == "d" and w else 0
        case.emit(encode(case, op, xr, reg, ww, imm=bytes([iv]), mandatory=b"\x66"),
                  "pinsr%s xmm%d, %s, %d" % ("q" if ww else n, xr, reg_name(reg, 64, 1), iv))
    elif which == "extractps":
        iv = rng.randrange(256)
        case.emit(encode(case, b"\x0f\x3a\x17", xr, reg, imm=bytes([iv]), mandatory=b"\x66"),
                  "extractps %s, xmm%d, %d" % (reg_name(reg, 32, 1), xr, iv))
    elif which == "crc32":
        bits = rng.choice([8, 16, 32, 64])
        rm = pick_rm(rng, case, bits)
        p66 = b"\x66" if bits == 16 else b""
        rex = bits == 8 and (not isinstance(rm, Mem) and rm >= 4)
        op = b"\x0f\x38\xf0" if bits == 8 else b"\x0f\x38\xf1"
        case.emit(encode(case, op, reg, rm, bits == 64 or (w and bits == 8), p66, rex=rex or None,
                         mandatory=b"\xf2"),
                  "crc32 %s, %s" % (reg_name(reg, 64 if w and bits in (8, 64) else 32, 1),
                                    rm_text(rm, bits, 1)))
    elif which == "movq":
        if rng.random() < 0.5:
            case.emit(encode(case, b"\x0f\x6e", xr, reg, w, mandatory=b"\x66"),
                      "mov%s xmm%d, %s" % ("q" if w else "d", xr, REG64[reg]))
        else:
            case.emit(encode(case, b"\x0f\x7e", xr, reg, w, mandatory=b"\x66"),
                      "mov%s %s, xmm%d" % ("q" if w else "d", REG64[reg], xr))
    else:
        sub, name = rng.choice([(6, "psllw"), (2, "psrlw"), (4, "psraw"), (6, "pslld"),
                                (3, "psrldq"), (7, "pslldq")])
        op = b"\x0f\x71" if name.endswith("w") else b"\x0f\x72" if name.endswith("d") else b"\x0f\x73"
        iv = rng.choice([0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 200])
        case.emit(encode(case, op, sub, xr, imm=bytes([iv]), mandatory=b"\x66"),
                  "%s xmm%d, %d" % (name, xr, iv))


MMX_OPS = [("0ffc", "paddb"), ("0ffd", "paddw"), ("0ffe", "paddd"), ("0fd4", "paddq"),
           ("0fe8", "psubsb"), ("0fd9", "psubusw"), ("0fd5", "pmullw"), ("0fe5", "pmulhw"),
           ("0ff5", "pmaddwd"), ("0f74", "pcmpeqb"), ("0f66", "pcmpgtd"), ("0f63", "packsswb"),
           ("0f67", "packuswb"), ("0f68", "punpckhbw"), ("0f62", "punpckldq"), ("0fdb", "pand"),
           ("0fef", "pxor"), ("0ff2", "pslld"), ("0fd3", "psrlq"), ("0fe1", "psraw"),
           ("0f6f", "movq"), ("0ff6", "psadbw"), ("0fe0", "pavgb"), ("0fda", "pminub"),
           ("0ff4", "pmuludq"), ("0f3800", "pshufb"), ("0f3804", "pmaddubsw"),
           ("0f380b", "pmulhrsw"), ("0f381d", "pabsw")]


def gen_mmx(rng, case):
    for i in range(8):
        case.fx[32 + 16 * i:40 + 16 * i] = value(rng, 64).to_bytes(8, "little")
        case.fx[40 + 16 * i:42 + 16 * i] = rng.choice([b"\xff\xff", b"\0\0", b"\x12\x34"])
    case.fx[4] = rng.choice([0, 0xff, rng.randrange(256)])
    op, name = rng.choice(MMX_OPS)
    reg, rm = rng.randrange(8), rng.randrange(8)
    if rng.random() < 0.3:
        rm = mem_operand(rng, case, 8)
    case.emit(encode(case, bytes.fromhex(op), reg, rm), "%s mm%d, %s" % (
        name, reg, rm.text if isinstance(rm, Mem) else "mm%d" % rm))
    if rng.random() < 0.3:
        case.emit(b"\x0f\x77", "emms")


def gen_x87(rng, case):
    """Loads from the window, arithmetic on the stack, stores back."""
    cw = 0x37f | rng.choice([0, 0x400, 0x800, 0xc00]) & 0xc00
    cw = (cw & ~0x300) | rng.choice([0x300, 0x200, 0x000])
    if rng.random() < 0.1:
        cw &= ~rng.choice([0x1, 0x4, 0x8, 0x20])      # unmask: #MF on the next x87 op
    struct.pack_into("<H", case.fx, 0, cw)
    for off in range(0, 256, 8):
        if rng.random() < 0.5:
            case.window[off:off + 8] = struct.pack("<Q", rng.choice(F64) if rng.random() < 0.6
                                                   else rng.getrandbits(64))
    case.regs[RBX] = WINDOW
    for _ in range(rng.randrange(1, 4)):
        k = rng.randrange(0, 32) * 8
        op = rng.choice([(b"\xdd\x83", "fld qword [rbx+%d]" % k), (b"\xd9\x83", "fld dword [rbx+%d]" % k),
                         (b"\xdb\xab", "fld tbyte [rbx+%d]" % k), (b"\xdf\xab", "fild qword [rbx+%d]" % k)])
        if op[0] == b"\xdb\xab" or op[0] == b"\xdf\xab":
            k = min(k, 240)
            op = (op[0], op[1].split("+")[0] + "+%d]" % k)
        case.emit(op[0] + struct.pack("<i", k), op[1])
    arith = [(b"\xd8\xc1", "fadd st, st1"), (b"\xde\xc9", "fmulp"), (b"\xd8\xf1", "fdiv st, st1"),
             (b"\xde\xe9", "fsubp"), (b"\xd9\xfa", "fsqrt"), (b"\xd9\xe0", "fchs"),
             (b"\xd9\xe1", "fabs"), (b"\xd9\xfc", "frndint"), (b"\xd9\xc9", "fxch"),
             (b"\xdb\xf1", "fcomi st1"), (b"\xdf\xe9", "fucomip st1"), (b"\xd9\xf8", "fprem"),
             (b"\xd9\xf5", "fprem1"), (b"\xd9\xfd", "fscale"), (b"\xd9\xf4", "fxtract"),
             (b"\xd9\xe8", "fld1"), (b"\xd9\xeb", "fldpi"), (b"\xd9\xee", "fldz"), (b"\xd8\xd1", "fcom st1"),
             (b"\xd9\xe5", "fxam"), (b"\xd9\xe4", "ftst"), (b"\xda\xc1", "fcmovb st, st1")]
    # Ops may read empty registers (stack underflow, sometimes on purpose). Each op: (registers
    # it reads, net stack change).
    depth = len(case.asm)
    use = {"fadd st, st1": (2, 0), "fmulp": (2, -1), "fdiv st, st1": (2, 0), "fsubp": (2, -1),
           "fxch": (2, 0), "fcomi st1": (2, 0), "fucomip st1": (2, -1), "fprem": (2, 0),
           "fprem1": (2, 0), "fscale": (2, 0), "fxtract": (1, 1), "fld1": (0, 1),
           "fldpi": (0, 1), "fldz": (0, 1), "fcom st1": (2, 0), "fxam": (0, 0),
           "fcmovb st, st1": (2, 0)}
    for _ in range(rng.randrange(1, 4)):
        insn, text = rng.choice(arith)
        need, change = use.get(text, (1, 0))
        if (need > depth and rng.random() < 0.7) or depth + change < 0:
            continue
        depth += change
        case.emit(insn, text, 0, ARITH if "comi" in text else 0)
    k = 256 + rng.randrange(0, 30) * 8
    st = rng.choice([(b"\xdd\x9b", "fstp qword"), (b"\xd9\x9b", "fstp dword"), (b"\xdb\x9b", "fistp dword"),
                     (b"\xdf\xbb", "fistp qword"), (b"\xdb\xbb", "fstp tbyte"), (b"\xdd\x8b", "fisttp qword")])
    case.emit(st[0] + struct.pack("<i", k), "%s [rbx+%d]" % (st[1], k))
    case.emit(b"\xdf\xe0", "fnstsw ax")


FAULTS = [
    (b"\x0f\x0b", "ud2"), (b"\x06", "push es (invalid in 64-bit)"), (b"\x27", "daa (invalid)"),
    (b"\x37", "aaa (invalid)"), (b"\xce", "into (invalid)"), (b"\xf0\x01\xc0", "lock add eax, eax"),
    (b"\xf0\x90", "lock nop"), (b"\xf4", "hlt"), (b"\xfa", "cli"), (b"\xfb", "sti"),
    (b"\xe4\x60", "in al, 0x60"), (b"\xee", "out dx, al"), (b"\x6c", "insb"),
    (b"\x0f\x22\xc0", "mov cr0, rax"), (b"\x0f\x20\xc0", "mov rax, cr0"), (b"\x0f\x32", "rdmsr"),
    (b"\x0f\x30", "wrmsr"), (b"\x0f\x06", "clts"), (b"\x0f\x09", "wbinvd"), (b"\x0f\x08", "invd"),
    (b"\xcd\x10", "int 0x10"), (b"\xcc", "int3"), (b"\xcd\x03", "int 3"),
    (b"\x0f\x01\x38", "invlpg [rax]"), (b"\x0f\x00\xd8", "ltr ax"), (b"\x0f\x21\xc0", "mov rax, dr0"),
    (b"\x8e\xd8", "mov ds, ax"), (b"\xff\xe0", "jmp rax (non-canonical)"),
    (b"\x48\x8b\x03", "mov rax, [rbx] (non-canonical)"), (b"\x48\x89\x03", "mov [rbx], rax (unmapped)"),
    (b"\x8b\x03", "mov eax, [rbx] (supervisor page)"), (b"\x89\x03", "mov [rbx], eax (code page)"),
    (b"\x48\x8b\x03", "mov rax, [rbx] (crosses into the unmapped page)"),
    (b"\x48\x89\x03", "mov [rbx], rax (crosses into the unmapped page)"),
    (b"\x50", "push rax (rsp unmapped)"), (b"\x50", "push rax (rsp non-canonical)"),
    (b"\xff\x23", "jmp [rbx] (to unmapped)"), (b"\x0f\x28\x03", "movaps xmm0, [rbx] (misaligned)"),
    (b"\x66\x0f\x6f\x03", "movdqa xmm0, [rbx] (misaligned)"),
    (b"\x8e\xe0", "mov fs, ax (bad selector)"), (b"\x0f\xff", "ud0"), (b"\x0f\xb9\xc0", "ud1"),
    (b"\x9a", "call far (invalid)"),
    (b"\x0f\x01\xf8", "swapgs (ring 3)"), (b"\xcf", "iretq (bad frame)"),
    # Not here: SYSCALL/SYSRET, which PVM handles itself instead of faulting like the CPU.
]


def gen_fault(rng, case):
    insn, text = rng.choice(FAULTS)
    if "non-canonical" in text:
        v = rng.choice([0x0000800000000000, 0xffff7ffffffff000, 0x8000000000000000, 1 << 60])
        case.regs[RAX if "jmp" in text else RBX] = v
        if "rsp" in text:
            case.regs[RSP] = v
    elif "unmapped" in text and "crosses" not in text:
        case.regs[RBX] = UNMAPPED + rng.randrange(0, 4096, 8)
        if "rsp" in text:
            case.regs[RSP] = UNMAPPED + 8
        if "jmp" in text:
            case.regs[RBX] = WINDOW
            struct.pack_into("<Q", case.window, 0, rng.choice([UNMAPPED, SUPERVISOR,
                                                               0x0000800000000000]))
    elif "crosses" in text:
        case.regs[RBX] = UNMAPPED - rng.randrange(1, 8)
    elif "supervisor" in text:
        case.regs[RBX] = SUPERVISOR + rng.randrange(0, 4096)
    elif "code page" in text:
        case.regs[RBX] = CODE_BASE + 64
    elif "misaligned" in text:
        case.regs[RBX] = WINDOW + rng.choice([1, 4, 8, 15])
    elif "bad selector" in text:
        # not 0x30: PVM runs ring 3 on the host's GDT, where 0x30 is the user code segment
        # (readable: the oracle loads it)
        case.regs[RAX] = rng.choice([0x08, 0x10, 0x1b, 0x1234])
    elif "iretq" in text:
        for k in range(0, 512, 8):
            struct.pack_into("<Q", case.window, k, rng.choice([0x1b, 0x23, 0x202, CODE_BASE,
                                                              0x08, 0]))
    case.emit(insn, text)


def gen_jump(rng, case):
    """Branches and calls inside the code page: near calls push into the window."""
    which = rng.choice(["call", "jmpr", "loop", "jrcxz", "ret"])
    if which == "call":
        case.emit(b"\xe8\x05\x00\x00\x00", "call +5")
        case.emit(b"\xb8\x22\x22\x22\x22", "mov eax, 0x22222222")
    elif which == "jmpr":
        case.regs[RCX] = CODE_BASE + 12
        case.emit(b"\xff\xe1", "jmp rcx")
        case.emit(b"\x90" * 10, "nop x10")
    elif which == "loop":
        case.regs[RCX] = rng.choice([1, 2, 5])      # 0 would loop 2^64 times
        case.emit(b"\xff\xc0", "inc eax")
        case.emit(rng.choice([b"\xe2", b"\xe1", b"\xe0"]) + b"\xfc", "loop/loope/loopne -4")
    elif which == "jrcxz":
        case.regs[RCX] = rng.choice([0, 1, 1 << 32])
        case.emit(rng.choice([b"\xe3\x05", b"\x67\xe3\x05"]), "jrcxz/jecxz +5")
        case.emit(b"\xb8\x33\x33\x33\x33", "mov eax, 0x33333333")
    else:
        struct.pack_into("<Q", case.window, 256, CODE_BASE + rng.choice([6, 3, 0x800]))
        case.emit(rng.choice([b"\xc3", b"\xc2\x08\x00"]), "ret")
        case.emit(b"\x90", "nop")


# Operands at the edges of overflow and underflow for the SSE exception cases.
EXC_F32 = [0x00800001, 0x3f000000, 0x7f000001, 0x40000000, 0x7f000000, 0x80800000, 0x7f7fffff,
           0x73800001, 0x00800000, 0x807fffff, 0x00000001, 0x3f7fffff, 0x3effffff, 0x1f800001]
EXC_F64 = [0x0010000000000001, 0x3fe0000000000000, 0x7fe0000000000001, 0x4000000000000000,
           0x800fffffffffffff, 0x0010000000000000, 0x3690000000000001, 0x3690000000000000,
           0x47f0000000000001, 0x47f0000000000000, 0x380fffffffffffff, 0x7fefffffffffffff,
           0x3feffffffffffff1]
EXC_OPS = [("0f59", "mulps", 32), ("f30f59", "mulss", 32), ("f30f58", "addss", 32),
           ("f30f5c", "subss", 32), ("f30f5e", "divss", 32), ("f20f59", "mulsd", 64),
           ("f20f58", "addsd", 64), ("f20f5c", "subsd", 64), ("f20f5e", "divsd", 64),
           ("660f5a", "cvtpd2ps", 64), ("f20f5a", "cvtsd2ss", 64)]


DP_F32 = [0x7fc00001, 0x7fc00002, 0xffc00003, 0x7f800004, 0x3f800000, 0x7f800000, 0xff800000,
          0, 0x00000001]
DP_F64 = [0x7ff8000000000001, 0xfff8000000000002, 0x7ff0000000000003, 0x3ff0000000000000,
          0x7ff0000000000000, 0xfff0000000000000, 0, 1]


def gen_sse_exc(rng, case):
    """Overflow and underflow with OE/UE unmasked: #XM, and which of OE, UE, PE it reports;
    DPPS/DPPD with several NaN products (the order of the CPU's sums picks the NaN)."""
    if rng.random() < 0.3:
        w = rng.choice([32, 64])
        for off in range(160, 192, w // 8):
            struct.pack_into("<I" if w == 32 else "<Q", case.fx, off,
                             rng.choice(DP_F32 if w == 32 else DP_F64))
        imm = rng.randrange(256)
        case.emit(b"\x66\x0f\x3a" + (b"\x40" if w == 32 else b"\x41") + b"\xc1" + bytes([imm]),
                  "dpp%s xmm0, xmm1, %#x" % ("s" if w == 32 else "d", imm))
        return
    op, name, w = rng.choice(EXC_OPS)
    mx = rng.choice([0x1780, 0x1b80, 0x1380]) | rng.randrange(4) << 13
    struct.pack_into("<I", case.fx, 24, mx)
    vals = EXC_F32 if w == 32 else EXC_F64
    for off in (160, 176):
        struct.pack_into("<I" if w == 32 else "<Q", case.fx, off, rng.choice(vals))
    case.emit(bytes.fromhex(op) + b"\xc1", "%s xmm0, xmm1" % name)


GENERATORS = [(gen_alu, 12), (gen_unary, 3), (gen_shift, 8), (gen_shxd, 3), (gen_muldiv, 6),
              (gen_bits, 5), (gen_cond, 4), (gen_xchg, 4), (gen_move, 6), (gen_string, 5),
              (gen_stack, 3), (gen_chain, 6), (gen_sse, 14), (gen_sse_misc, 6), (gen_mmx, 3),
              (gen_x87, 3), (gen_fault, 4), (gen_jump, 2), (gen_sse_exc, 1)]


def generate(seed, count):
    rng = random.Random(seed)
    funcs = [g for g, w in GENERATORS for _ in range(w)]
    cases = []
    for _ in range(count):
        g = rng.choice(funcs)
        case = Case(rng, g.__name__[4:])
        g(rng, case)
        if case.kind != "fault":
            # The oracle (PVM) faults on some instructions (SSE, CMPXCHG16B, POPCNT seen)
            # while RSP is non-canonical: outside the fault cases, keep the low 48 bits (what
            # a 32-bit address or a 32-bit source reads) and sign-extend.
            rsp = case.regs[RSP] & ((1 << 48) - 1)
            case.regs[RSP] = rsp | ((1 << 64) - (1 << 48)) if rsp >> 47 else rsp
        cases.append(case.finish())
    return cases


def blob(cases):
    return b"VXDIFF01" + struct.pack("<II", len(cases), CASE_SIZE) + b"".join(c.pack() for c in cases)


def parse_results(data, count):
    """One dict per record: gprs, rip, rflags, vector, error, cr2, fx (bytes), window (bytes)."""
    out = []
    for i in range(count):
        rec = data[i * RESULT_SIZE:(i + 1) * RESULT_SIZE]
        q = struct.unpack_from("<21Q", rec)
        out.append({"gprs": list(q[:16]), "rip": q[16], "rflags": q[17], "vector": q[18],
                    "error": q[19], "cr2": q[20], "fx": rec[168:680], "window": rec[680:1192]})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    with open(a.output, "wb") as f:
        f.write(blob(generate(a.seed, a.count)))


if __name__ == "__main__":
    main()
