/*
 * ACPI tables of the pc board (see include/hw/i386/acpi-build.h). Layouts follow the ACPI 6.4
 * specification: 5.2 (RSDP, headers, FADT, FACS, MADT), 19 (AML encoding) and 6.4 (resource
 * descriptors); MCFG follows the PCI Firmware Specification 3.2.
 */
#include <stdlib.h>
#include <string.h>
#include "hw/i386/acpi-build.h"
#include "hw/i386/pc.h"
#include "hw/acpi/acpi-pm.h"

#define ACPI_OEM_ID "VESSEL"
#define ACPI_OEM_TABLE_ID "VSLPC   "
#define ACPI_CREATOR_ID "VSSL"

uint8_t acpi_checksum(const uint8_t *data, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += data[i];
    }
    return sum;
}

static void put_le(GByteArray *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t c = v >> (8 * i);
        g_byte_array_append(b, &c, 1);
    }
}

static void set_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

static void put_bytes(GByteArray *b, const void *data, size_t len)
{
    g_byte_array_append(b, data, len);
}

static void align_to(GByteArray *b, unsigned align)
{
    while (b->len % align) {
        put_le(b, 0, 1);
    }
}

/* ---- system description table headers (5.2.6) ---- */

/* Appends a 36-byte header; returns the table's offset for table_end. */
static unsigned table_begin(GByteArray *b, const char *sig, uint8_t rev)
{
    align_to(b, 16);
    unsigned off = b->len;
    put_bytes(b, sig, 4);
    put_le(b, 0, 4);                    /* length, set by table_end */
    put_le(b, rev, 1);
    put_le(b, 0, 1);                    /* checksum, set by table_end */
    put_bytes(b, ACPI_OEM_ID, 6);
    put_bytes(b, ACPI_OEM_TABLE_ID, 8);
    put_le(b, 1, 4);                    /* OEM revision */
    put_bytes(b, ACPI_CREATOR_ID, 4);
    put_le(b, 1, 4);                    /* creator revision */
    return off;
}

static void table_end(GByteArray *b, unsigned off)
{
    set_le(b->data + off + 4, b->len - off, 4);
    b->data[off + 9] = 0;
    b->data[off + 9] = -acpi_checksum(b->data + off, b->len - off);
}

/* Generic Address Structure (5.2.3.2) in system I/O space. */
static void put_gas_io(GByteArray *b, uint16_t port, uint8_t bits, uint8_t access)
{
    put_le(b, port ? 1 : 0, 1);         /* address space: system I/O */
    put_le(b, port ? bits : 0, 1);
    put_le(b, 0, 1);                    /* bit offset */
    put_le(b, port ? access : 0, 1);    /* 1 byte, 2 word, 3 dword */
    put_le(b, port, 8);
}

/* ---- AML (19.2 grammar) ---- */

enum {
    AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a, AML_WORD = 0x0b,
    AML_DWORD = 0x0c, AML_STRING = 0x0d, AML_QWORD = 0x0e, AML_SCOPE = 0x10,
    AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_EXT = 0x5b, AML_DEVICE = 0x82,
    AML_ROOT = 0x5c, AML_DUAL_NAME = 0x2e, AML_MULTI_NAME = 0x2f,
};

/* PkgLength: counts its own bytes and the body's. */
static void aml_pkglen(GByteArray *b, size_t body)
{
    if (body + 1 < 0x40) {
        put_le(b, body + 1, 1);
        return;
    }
    unsigned n = 2;
    while (body + n >= (1ull << (4 + 8 * (n - 1)))) {
        n++;
    }
    size_t total = body + n;
    put_le(b, ((n - 1) << 6) | (total & 0xf), 1);
    put_le(b, total >> 4, n - 1);
}

/* Appends op, the PkgLength of body and body, and frees body. */
static void aml_wrap(GByteArray *b, const uint8_t *op, unsigned oplen, GByteArray *body)
{
    put_bytes(b, op, oplen);
    aml_pkglen(b, body->len);
    put_bytes(b, body->data, body->len);
    g_byte_array_unref(body);
}

/* NameString from "\\_SB_.PCI0" style text; segments shorter than 4 are padded with '_'. */
static void aml_namestring(GByteArray *b, const char *name)
{
    if (*name == '\\') {
        put_le(b, AML_ROOT, 1);
        name++;
    }
    gchar **segs = g_strsplit(name, ".", -1);
    unsigned n = g_strv_length(segs);
    if (n == 2) {
        put_le(b, AML_DUAL_NAME, 1);
    } else if (n > 2) {
        put_le(b, AML_MULTI_NAME, 1);
        put_le(b, n, 1);
    }
    for (unsigned i = 0; i < n; i++) {
        char seg[4] = { '_', '_', '_', '_' };
        memcpy(seg, segs[i], MIN(strlen(segs[i]), 4));
        put_bytes(b, seg, 4);
    }
    g_strfreev(segs);
}

static void aml_int(GByteArray *b, uint64_t v)
{
    if (v <= 1) {
        put_le(b, v ? AML_ONE : AML_ZERO, 1);
    } else if (v <= 0xff) {
        put_le(b, AML_BYTE, 1);
        put_le(b, v, 1);
    } else if (v <= 0xffff) {
        put_le(b, AML_WORD, 1);
        put_le(b, v, 2);
    } else if (v <= 0xffffffff) {
        put_le(b, AML_DWORD, 1);
        put_le(b, v, 4);
    } else {
        put_le(b, AML_QWORD, 1);
        put_le(b, v, 8);
    }
}

/* EISA ID ("PNP0A08") compressed into a DWord (6.1.5). */
static void aml_eisaid(GByteArray *b, const char *id)
{
    uint32_t v = (uint32_t)(id[0] - 0x40) << 26 | (uint32_t)(id[1] - 0x40) << 21 |
                 (uint32_t)(id[2] - 0x40) << 16 | (uint32_t)strtoul(id + 3, NULL, 16);
    put_le(b, AML_DWORD, 1);
    put_le(b, GUINT32_SWAP_LE_BE(v), 4);
}

static void aml_name_int(GByteArray *b, const char *name, uint64_t v)
{
    put_le(b, AML_NAME, 1);
    aml_namestring(b, name);
    aml_int(b, v);
}

static void aml_name_eisaid(GByteArray *b, const char *name, const char *id)
{
    put_le(b, AML_NAME, 1);
    aml_namestring(b, name);
    aml_eisaid(b, id);
}

/* Name(name, ResourceTemplate() { res }): a Buffer ending with the End Tag; frees res. */
static void aml_name_crs(GByteArray *b, const char *name, GByteArray *res)
{
    static const uint8_t end_tag[2] = { 0x79, 0x00 };
    put_bytes(res, end_tag, 2);
    GByteArray *buf = g_byte_array_new();
    aml_int(buf, res->len);
    put_bytes(buf, res->data, res->len);
    g_byte_array_unref(res);
    put_le(b, AML_NAME, 1);
    aml_namestring(b, name);
    static const uint8_t op = AML_BUFFER;
    aml_wrap(b, &op, 1, buf);
}

static void aml_device(GByteArray *b, const char *name, GByteArray *body)
{
    static const uint8_t op[2] = { AML_EXT, AML_DEVICE };
    GByteArray *all = g_byte_array_new();
    aml_namestring(all, name);
    put_bytes(all, body->data, body->len);
    g_byte_array_unref(body);
    aml_wrap(b, op, 2, all);
}

static void aml_scope(GByteArray *b, const char *name, GByteArray *body)
{
    static const uint8_t op = AML_SCOPE;
    GByteArray *all = g_byte_array_new();
    aml_namestring(all, name);
    put_bytes(all, body->data, body->len);
    g_byte_array_unref(body);
    aml_wrap(b, &op, 1, all);
}

/* Package with count elements already encoded in elems; frees elems. */
static void aml_package(GByteArray *b, unsigned count, GByteArray *elems)
{
    static const uint8_t op = AML_PACKAGE;
    GByteArray *all = g_byte_array_new();
    put_le(all, count, 1);
    put_bytes(all, elems->data, elems->len);
    g_byte_array_unref(elems);
    aml_wrap(b, &op, 1, all);
}

/* ---- resource descriptors (6.4) ---- */

/* IO(Decode16, base, base, 1, len) */
static void res_io(GByteArray *r, uint16_t base, uint8_t len)
{
    put_le(r, 0x47, 1);
    put_le(r, 1, 1);
    put_le(r, base, 2);
    put_le(r, base, 2);
    put_le(r, 1, 1);
    put_le(r, len, 1);
}

static void res_irq(GByteArray *r, unsigned irq)
{
    put_le(r, 0x22, 1);
    put_le(r, 1u << irq, 2);
}

static void res_mem32_fixed(GByteArray *r, uint32_t base, uint32_t len)
{
    put_le(r, 0x86, 1);
    put_le(r, 9, 2);
    put_le(r, 1, 1);                    /* read/write */
    put_le(r, base, 4);
    put_le(r, len, 4);
}

/* Word/DWord/QWord Address Space Descriptor, producer with fixed min and max. type: 0 memory,
 * 1 I/O, 2 bus number; width: 2, 4 or 8 bytes. */
static void res_addr(GByteArray *r, uint8_t type, unsigned width, uint64_t min, uint64_t len)
{
    static const uint8_t tag[9] = { [2] = 0x88, [4] = 0x87, [8] = 0x8a };
    put_le(r, tag[width], 1);
    put_le(r, 3 + 5 * width, 2);
    put_le(r, type, 1);
    put_le(r, 0x0c, 1);                 /* MinFixed, MaxFixed, PosDecode, producer */
    put_le(r, type == 0 ? 0x01 : type == 1 ? 0x03 : 0x00, 1); /* RW mem / entire I/O range */
    put_le(r, 0, width);                /* granularity */
    put_le(r, min, width);
    put_le(r, min + len - 1, width);
    put_le(r, 0, width);                /* translation */
    put_le(r, len, width);
}

/* ---- DSDT ---- */

static GByteArray *build_pci_root(const AcpiBuildInfo *info)
{
    GByteArray *d = g_byte_array_new();
    aml_name_eisaid(d, "_HID", "PNP0A08");
    aml_name_eisaid(d, "_CID", "PNP0A03");
    aml_name_int(d, "_ADR", 0);
    aml_name_int(d, "_UID", 0);
    aml_name_int(d, "_SEG", 0);
    aml_name_int(d, "_BBN", 0);

    GByteArray *r = g_byte_array_new();
    unsigned buses = info->ecam_size ? MIN(info->ecam_size >> 20, 256) : 256;
    res_addr(r, 2, 2, 0, buses);
    res_io(r, 0xcf8, 8);
    res_addr(r, 1, 2, 0, 0xcf8);
    res_addr(r, 1, 2, 0xd00, 0x10000 - 0xd00);
    res_addr(r, 0, 4, 0xa0000, 0x20000);
    res_addr(r, 0, 4, info->pci_hole_base, info->pci_hole_size);
    if (info->pci_hole64_size) {
        res_addr(r, 0, 8, info->pci_hole64_base, info->pci_hole64_size);
    }
    aml_name_crs(d, "_CRS", r);

    /* _PRT: Package { Address (slot << 16 | 0xffff), Pin, Source (0), GSI } per slot/pin. */
    GByteArray *prt = g_byte_array_new();
    for (unsigned slot = 0; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            GByteArray *e = g_byte_array_new();
            aml_int(e, slot << 16 | 0xffff);
            aml_int(e, pin);
            aml_int(e, 0);
            aml_int(e, ACPI_PCI_INTX_GSI + (slot + pin) % 4);
            aml_package(prt, 4, e);
        }
    }
    put_le(d, AML_NAME, 1);
    aml_namestring(d, "_PRT");
    aml_package(d, 128, prt);
    return d;
}

static GByteArray *build_isa_device(const char *hid, unsigned uid, uint16_t port,
                                    uint8_t len, int irq, int port2)
{
    GByteArray *d = g_byte_array_new();
    aml_name_eisaid(d, "_HID", hid);
    aml_name_int(d, "_UID", uid);
    GByteArray *r = g_byte_array_new();
    res_io(r, port, len);
    if (port2 >= 0) {
        res_io(r, port2, 1);
    }
    if (irq >= 0) {
        res_irq(r, irq);
    }
    aml_name_crs(d, "_CRS", r);
    return d;
}

static void build_dsdt(GByteArray *b, const AcpiBuildInfo *info)
{
    unsigned off = table_begin(b, "DSDT", 2);     /* revision 2: 64-bit integers */
    GByteArray *sb = g_byte_array_new();
    aml_device(sb, "PCI0", build_pci_root(info));
    aml_device(sb, "COM1", build_isa_device("PNP0501", 1, 0x3f8, 8, PC_IRQ_COM1, -1));
    aml_device(sb, "COM2", build_isa_device("PNP0501", 2, 0x2f8, 8, PC_IRQ_COM2, -1));
    aml_device(sb, "RTC", build_isa_device("PNP0B00", 0, 0x70, 2, PC_IRQ_RTC, -1));
    aml_device(sb, "KBD", build_isa_device("PNP0303", 0, 0x60, 1, 1, 0x64));
    /* The PS/2 mouse on the i8042's aux port: IRQ 12 only (Linux enables the port for it). */
    GByteArray *mou = g_byte_array_new();
    aml_name_eisaid(mou, "_HID", "PNP0F13");
    GByteArray *mou_res = g_byte_array_new();
    res_irq(mou_res, PC_IRQ_MOUSE);
    aml_name_crs(mou, "_CRS", mou_res);
    aml_device(sb, "MOU", mou);
    if (info->ecam_size) {
        /* Motherboard resources: the ECAM window, as Linux wants it reserved. */
        GByteArray *d = g_byte_array_new();
        aml_name_eisaid(d, "_HID", "PNP0C02");
        aml_name_int(d, "_UID", 1);
        GByteArray *r = g_byte_array_new();
        res_mem32_fixed(r, info->ecam_base, info->ecam_size);
        aml_name_crs(d, "_CRS", r);
        aml_device(sb, "MRES", d);
    }
    aml_scope(b, "\\_SB", sb);

    /* \_S5: SLP_TYPa, SLP_TYPb (and two reserved) written to PM1a_CNT to power off. */
    GByteArray *s5 = g_byte_array_new();
    for (unsigned i = 0; i < 4; i++) {
        aml_int(s5, ACPI_SLP_TYP_S5);
    }
    put_le(b, AML_NAME, 1);
    aml_namestring(b, "\\_S5");
    aml_package(b, 4, s5);
    table_end(b, off);
}

/* ---- FADT, FACS, MADT, MCFG ---- */

static unsigned build_facs(GByteArray *b)
{
    align_to(b, 64);
    unsigned off = b->len;
    put_bytes(b, "FACS", 4);
    put_le(b, 64, 4);
    put_le(b, 0, 4);                    /* hardware signature */
    put_le(b, 0, 4);                    /* firmware waking vector */
    put_le(b, 0, 4);                    /* global lock */
    put_le(b, 0, 4);                    /* flags */
    put_le(b, 0, 8);                    /* X firmware waking vector */
    put_le(b, 2, 1);                    /* version */
    put_le(b, 0, 3 + 4 + 24);
    return off;
}

enum {
    FADT_F_WBINVD = 1u << 0,
    FADT_F_PROC_C1 = 1u << 2,
    FADT_F_SLP_BUTTON = 1u << 5,        /* no fixed sleep button */
    FADT_F_FIX_RTC = 1u << 6,           /* no RTC wake status in PM1 */
    FADT_F_RESET_REG_SUP = 1u << 10,
    FADT_BOOT_LEGACY_DEVICES = 1u << 0,
    FADT_BOOT_8042 = 1u << 1,
};

static void build_fadt(GByteArray *b, uint64_t facs, uint64_t dsdt)
{
    unsigned off = table_begin(b, "FACP", 6);
    put_le(b, facs, 4);                 /* FIRMWARE_CTRL */
    put_le(b, dsdt, 4);                 /* DSDT */
    put_le(b, 0, 1);                    /* reserved */
    put_le(b, 0, 1);                    /* preferred PM profile: unspecified */
    put_le(b, PC_IRQ_SCI, 2);
    put_le(b, 0, 4);                    /* SMI_CMD: none, ACPI mode is always on */
    put_le(b, 0, 4);                    /* ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT */
    put_le(b, ACPI_PM1A_EVT, 4);
    put_le(b, 0, 4);                    /* PM1b_EVT_BLK */
    put_le(b, ACPI_PM1A_CNT, 4);
    put_le(b, 0, 4);                    /* PM1b_CNT_BLK */
    put_le(b, 0, 4);                    /* PM2_CNT_BLK */
    put_le(b, ACPI_PM_TMR, 4);
    put_le(b, 0, 8);                    /* GPE0_BLK, GPE1_BLK */
    put_le(b, 4, 1);                    /* PM1_EVT_LEN */
    put_le(b, 2, 1);                    /* PM1_CNT_LEN */
    put_le(b, 0, 1);                    /* PM2_CNT_LEN */
    put_le(b, 4, 1);                    /* PM_TMR_LEN */
    put_le(b, 0, 4);                    /* GPE0/1 lengths, GPE1_BASE, CST_CNT */
    put_le(b, 0xfff, 2);                /* P_LVL2_LAT: no C2 */
    put_le(b, 0xfff, 2);                /* P_LVL3_LAT: no C3 */
    put_le(b, 0, 4);                    /* FLUSH_SIZE, FLUSH_STRIDE */
    put_le(b, 0, 1);                    /* DUTY_OFFSET */
    put_le(b, 0, 1);                    /* DUTY_WIDTH */
    put_le(b, 0, 2);                    /* DAY_ALRM, MON_ALRM */
    put_le(b, 0x32, 1);                 /* CENTURY: CMOS register 0x32 */
    put_le(b, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042, 2);
    put_le(b, 0, 1);                    /* reserved */
    put_le(b, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC |
           FADT_F_RESET_REG_SUP, 4);
    put_gas_io(b, ACPI_RESET_PORT, 8, 1);
    put_le(b, ACPI_RESET_VALUE, 1);
    put_le(b, 0, 2);                    /* ARM_BOOT_ARCH */
    put_le(b, 0, 1);                    /* FADT minor version */
    put_le(b, 0, 8);                    /* X_FIRMWARE_CTRL: FIRMWARE_CTRL is used */
    put_le(b, dsdt, 8);                 /* X_DSDT */
    put_gas_io(b, ACPI_PM1A_EVT, 32, 2);
    put_gas_io(b, 0, 0, 0);             /* X_PM1b_EVT_BLK */
    put_gas_io(b, ACPI_PM1A_CNT, 16, 2);
    put_gas_io(b, 0, 0, 0);             /* X_PM1b_CNT_BLK */
    put_gas_io(b, 0, 0, 0);             /* X_PM2_CNT_BLK */
    put_gas_io(b, ACPI_PM_TMR, 32, 3);
    put_gas_io(b, 0, 0, 0);             /* X_GPE0_BLK */
    put_gas_io(b, 0, 0, 0);             /* X_GPE1_BLK */
    put_gas_io(b, 0, 0, 0);             /* SLEEP_CONTROL_REG */
    put_gas_io(b, 0, 0, 0);             /* SLEEP_STATUS_REG */
    put_le(b, 0, 8);                    /* hypervisor vendor identity */
    table_end(b, off);
}

/* Interrupt Source Override: ISA irq -> gsi with MPS INTI flags. */
static void madt_iso(GByteArray *b, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    put_le(b, 2, 1);
    put_le(b, 10, 1);
    put_le(b, 0, 1);                    /* bus: ISA */
    put_le(b, irq, 1);
    put_le(b, gsi, 4);
    put_le(b, flags, 2);
}

static void build_madt(GByteArray *b, const AcpiBuildInfo *info)
{
    unsigned off = table_begin(b, "APIC", 5);
    put_le(b, ACPI_LAPIC_ADDR, 4);
    put_le(b, 1, 4);                    /* PCAT_COMPAT: dual 8259s present */
    for (unsigned i = 0; i < info->ncpus; i++) {
        put_le(b, 0, 1);                /* Processor Local APIC */
        put_le(b, 8, 1);
        put_le(b, i, 1);                /* ACPI processor UID */
        put_le(b, i, 1);                /* APIC ID */
        put_le(b, 1, 4);                /* enabled */
    }
    put_le(b, 1, 1);                    /* I/O APIC */
    put_le(b, 12, 1);
    put_le(b, 0, 1);                    /* I/O APIC ID */
    put_le(b, 0, 1);
    put_le(b, ACPI_IOAPIC_ADDR, 4);
    put_le(b, 0, 4);                    /* GSI base */
    madt_iso(b, 0, 2, 0);               /* the PIT's IRQ 0 is IOAPIC pin 2 */
    madt_iso(b, PC_IRQ_SCI, PC_IRQ_SCI, 0x000d);   /* level, active high */
    put_le(b, 4, 1);                    /* Local APIC NMI: LINT1 of every processor */
    put_le(b, 6, 1);
    put_le(b, 0xff, 1);
    put_le(b, 0, 2);
    put_le(b, 1, 1);
    table_end(b, off);
}

static void build_mcfg(GByteArray *b, const AcpiBuildInfo *info)
{
    unsigned off = table_begin(b, "MCFG", 1);
    put_le(b, 0, 8);
    put_le(b, info->ecam_base, 8);
    put_le(b, 0, 2);                    /* PCI segment */
    put_le(b, 0, 1);                    /* start bus */
    put_le(b, MIN(info->ecam_size >> 20, 256) - 1, 1);
    put_le(b, 0, 4);
    table_end(b, off);
}

GByteArray *acpi_build_tables(const AcpiBuildInfo *info, uint64_t base)
{
    GByteArray *b = g_byte_array_new();
    put_le(b, 0, 36);                   /* RSDP, filled in last */
    unsigned facs = build_facs(b);
    unsigned dsdt = b->len;
    build_dsdt(b, info);
    unsigned tables[3], n = 0;
    align_to(b, 16);
    tables[n++] = b->len;
    build_fadt(b, base + facs, base + dsdt);
    align_to(b, 16);
    tables[n++] = b->len;
    build_madt(b, info);
    if (info->ecam_size) {
        align_to(b, 16);
        tables[n++] = b->len;
        build_mcfg(b, info);
    }
    unsigned rsdt = table_begin(b, "RSDT", 1);
    for (unsigned i = 0; i < n; i++) {
        put_le(b, base + tables[i], 4);
    }
    table_end(b, rsdt);
    unsigned xsdt = table_begin(b, "XSDT", 1);
    for (unsigned i = 0; i < n; i++) {
        put_le(b, base + tables[i], 8);
    }
    table_end(b, xsdt);

    uint8_t *r = b->data;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, ACPI_OEM_ID, 6);
    r[15] = 2;                          /* revision: ACPI 2.0+ */
    set_le(r + 16, base + rsdt, 4);
    set_le(r + 20, 36, 4);
    set_le(r + 24, base + xsdt, 8);
    r[8] = -acpi_checksum(r, 20);
    r[32] = -acpi_checksum(r, 36);
    return b;
}
