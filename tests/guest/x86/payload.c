/* Bare-metal x86-64 test payload (PVH ELF): the first word of the command line picks the
 * test; results go to COM1 and the guest powers off through the ACPI PM1a control port. */
#include <stdint.h>

#define COM1 0x3f8
#define PM1A_CNT 0x604
#define LAPIC 0xfee00000UL
#define IOAPIC 0xfec00000UL
#define VEC_TIMER 0x40
#define VEC_COM1 0x41

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t mmio_read(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t)hi << 32 | lo; }
static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static void putc_(char c)
{
    while (!(inb(COM1 + 5) & 0x20)) {
    }
    outb(COM1, c);
}

static void puts_(const char *s)
{
    while (*s) {
        if (*s == '\n') {
            putc_('\r');
        }
        putc_(*s++);
    }
}

static void putu(uint64_t v)
{
    char b[24];
    int i = 0;
    do {
        b[i++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (i) {
        putc_(b[--i]);
    }
}

static void putx(uint64_t v)
{
    puts_("0x");
    for (int s = 60; s >= 0; s -= 4) {
        putc_("0123456789abcdef"[(v >> s) & 0xf]);
    }
}

static void poweroff(void)
{
    outw(PM1A_CNT, 0x2000);     /* SLP_TYP = 0 (S5), SLP_EN */
    /* The VMM stops the vCPUs asynchronously: give it a moment before complaining. */
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < 2000000000ULL) {
        __asm__ volatile("pause");
    }
    puts_("poweroff failed\n");
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

static int word_is(const char *s, const char *w)
{
    while (*w && *s == *w) {
        s++, w++;
    }
    return !*w && (*s == 0 || *s == ' ');
}

static uint64_t parse_arg(const char *s, uint64_t def)
{
    while (*s && *s != ' ') {
        s++;
    }
    while (*s == ' ') {
        s++;
    }
    if (*s < '0' || *s > '9') {
        return def;
    }
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
    }
    return v;
}

/* ---- interrupts ---- */

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static volatile uint64_t timer_ticks, com1_irqs;

extern void isr_timer(void);
extern void isr_com1(void);

void irq_dispatch(uint64_t vector);
void irq_dispatch(uint64_t vector)
{
    if (vector == VEC_TIMER) {
        timer_ticks++;
    } else if (vector == VEC_COM1) {
        com1_irqs++;
        outb(COM1 + 1, 0);      /* IER: stop the THR-empty interrupt */
        (void)inb(COM1 + 2);
    }
    mmio_write(LAPIC + 0xb0, 0);    /* EOI */
}

__asm__(
    ".text\n"
    ".macro ISR name, vec\n"
    "\\name:\n"
    "  push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n"
    "  push %r8; push %r9; push %r10; push %r11\n"
    "  mov $\\vec, %edi\n"
    "  call irq_dispatch\n"
    "  pop %r11; pop %r10; pop %r9; pop %r8\n"
    "  pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n"
    "  iretq\n"
    ".endm\n"
    ".globl isr_timer\n ISR isr_timer, 0x40\n"
    ".globl isr_com1\n ISR isr_com1, 0x41\n");

static void idt_set(int vec, void (*fn)(void))
{
    uint64_t a = (uint64_t)fn;
    idt[vec] = (struct idt_entry){ (uint16_t)a, 0x08, 0, 0x8e, (uint16_t)(a >> 16),
                                   (uint32_t)(a >> 32), 0 };
}

static void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {
        sizeof(idt) - 1, (uint64_t)idt,
    };
    __asm__ volatile("lidt %0" :: "m"(d));
}

static void lapic_enable(void)
{
    outb(0x21, 0xff);                   /* mask both 8259 PICs: interrupts come via APICs */
    outb(0xa1, 0xff);
    mmio_write(LAPIC + 0xf0, 0x1ff);    /* spurious vector 0xff, APIC enabled */
    mmio_write(LAPIC + 0x80, 0);        /* TPR */
}

static void wait_ticks(volatile uint64_t *counter, uint64_t n, uint64_t limit_tsc)
{
    uint64_t start = rdtsc();
    while (*counter < n && rdtsc() - start < limit_tsc) {
        __asm__ volatile("sti; hlt; cli");
    }
}

static void test_timer(void)
{
    idt_set(VEC_TIMER, isr_timer);
    idt_load();
    lapic_enable();
    mmio_write(LAPIC + 0x3e0, 0x3);             /* divide by 16 */
    mmio_write(LAPIC + 0x320, VEC_TIMER | (1u << 17));  /* periodic */
    mmio_write(LAPIC + 0x380, 100000);
    wait_ticks(&timer_ticks, 5, 20000000000ULL);
    mmio_write(LAPIC + 0x320, 1u << 16);        /* mask */
    puts_("timer: ");
    putu(timer_ticks);
    puts_(timer_ticks >= 5 ? " interrupts ok\n" : " interrupts FAIL\n");
}

static void ioapic_route(unsigned pin, unsigned vector)
{
    mmio_write(IOAPIC, 0x10 + 2 * pin + 1);
    mmio_write(IOAPIC + 0x10, 0);               /* destination APIC 0 */
    mmio_write(IOAPIC, 0x10 + 2 * pin);
    mmio_write(IOAPIC + 0x10, vector);          /* fixed, edge, active high, unmasked */
}

static void test_com1_irq(void)
{
    idt_set(VEC_COM1, isr_com1);
    idt_load();
    lapic_enable();
    ioapic_route(4, VEC_COM1);
    outb(COM1 + 4, 0x08);                       /* MCR.OUT2 gates the ISA interrupt */
    outb(COM1 + 1, 0x02);                       /* IER: THR empty */
    wait_ticks(&com1_irqs, 1, 20000000000ULL);
    outb(COM1 + 1, 0);
    puts_("com1 irq: ");
    putu(com1_irqs);
    puts_(com1_irqs >= 1 ? " ok\n" : " FAIL\n");
}

static void test_cpuid(void)
{
    uint32_t r[4];
    char vendor[13];
    cpuid(0, r);
    *(uint32_t *)&vendor[0] = r[1];
    *(uint32_t *)&vendor[4] = r[3];
    *(uint32_t *)&vendor[8] = r[2];
    vendor[12] = 0;
    puts_("cpuid: vendor ");
    puts_(vendor);
    cpuid(1, r);
    puts_(" hypervisor ");
    putu(r[2] >> 31);
    cpuid(0x40000000, r);
    *(uint32_t *)&vendor[0] = r[1];
    *(uint32_t *)&vendor[4] = r[2];
    *(uint32_t *)&vendor[8] = r[3];
    puts_(" leaf40000000 ");
    puts_(vendor);
    puts_("\n");
}

/* Writes to an unused port: each one is a VM exit. */
static void test_pio(uint64_t n)
{
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < n; i++) {
        outb(0x510, (uint8_t)i);
    }
    uint64_t t1 = rdtsc();
    puts_("pio: ");
    putu(n);
    puts_(" exits ");
    putu(t1 - t0);
    puts_(" tsc\n");
}

/* ---- legacy devices and PCI ---- */

static uint8_t cmos_read(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

static unsigned from_bcd(uint8_t v, int binary)
{
    return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

static void put2(unsigned v)
{
    putc_('0' + v / 10 % 10);
    putc_('0' + v % 10);
}

/* The CMOS clock (read outside an update cycle) and the memory-size bytes. */
static void test_rtc(void)
{
    while (cmos_read(0x0a) & 0x80) {
    }
    uint8_t r[7] = { cmos_read(0x00), cmos_read(0x02), cmos_read(0x04), cmos_read(0x07),
                     cmos_read(0x08), cmos_read(0x09), cmos_read(0x32) };
    uint8_t b = cmos_read(0x0b);
    int bin = b & 0x04;
    puts_("rtc: ");
    put2(from_bcd(r[6], bin));
    put2(from_bcd(r[5], bin));
    putc_('-');
    put2(from_bcd(r[4], bin));
    putc_('-');
    put2(from_bcd(r[3], bin));
    putc_(' ');
    unsigned hour = from_bcd(r[2] & 0x7f, bin);
    if (!(b & 0x02)) {                          /* 12-hour format: bit 7 is PM */
        hour = hour % 12 + (r[2] & 0x80 ? 12 : 0);
    }
    put2(hour);
    putc_(':');
    put2(from_bcd(r[1], bin));
    putc_(':');
    put2(from_bcd(r[0], bin));
    puts_(" above16m ");
    putu(cmos_read(0x34) | cmos_read(0x35) << 8);
    puts_("\n");
}

static uint32_t pci_cfg_read(unsigned slot, unsigned reg)
{
    outl(0xcf8, 0x80000000u | slot << 11 | reg);
    return inl(0xcfc);
}

/* Bus 0 through configuration mechanism #1: one line per function 0 present. */
static void test_pci(void)
{
    unsigned found = 0;
    for (unsigned slot = 0; slot < 32; slot++) {
        uint32_t id = pci_cfg_read(slot, 0);
        if ((id & 0xffff) == 0xffff) {
            continue;
        }
        uint32_t class = pci_cfg_read(slot, 8) >> 8;
        puts_("pci: slot ");
        putu(slot);
        puts_(" id ");
        putx(id);
        puts_(" class ");
        putx(class);
        puts_("\n");
        found++;
    }
    puts_("pci: ");
    putu(found);
    puts_(" functions\n");
}

/* ---- application processors ---- */

#define AP_TRAMP 0x8000UL
#define MAX_CPUS 8

/* Application processors: the BSP copies ap_tramp..ap_tramp_end to AP_TRAMP (0x8000) and
 * sends INIT/SIPI with vector 0x08. Real mode -> 32-bit protected mode -> long mode on the
 * BSP's page tables (ap_cr3), a 4 KiB stack per APIC ID, then ap_main(apic_id). */
__asm__(
    "    .set AP_TRAMP, 0x8000\n"
    "    .section .text.entry, \"ax\"\n"
    "    .code16\n"
    "    .globl ap_tramp, ap_tramp_end\n"
    "ap_tramp:\n"
    "    cli\n"
    "    xor %ax, %ax\n"
    "    mov %ax, %ds\n"
    "    lgdtl AP_TRAMP + (ap_gdt_desc - ap_tramp)\n"
    "    mov %cr0, %eax\n"
    "    or $1, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmpl $0x08, $ap_pm32\n"
    "    .p2align 3\n"
    "ap_gdt_desc:\n"
    "    .word ap_gdt_end - ap_gdt - 1\n"
    "    .long ap_gdt\n"
    "ap_tramp_end:\n"
    "    .code32\n"
    "ap_pm32:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov %cr4, %eax\n"
    "    or $0x220, %eax\n"
    "    mov %eax, %cr4\n"
    "    mov ap_cr3, %eax\n"
    "    mov %eax, %cr3\n"
    "    mov $0xc0000080, %ecx\n"
    "    rdmsr\n"
    "    or $0x100, %eax\n"
    "    wrmsr\n"
    "    mov %cr0, %eax\n"
    "    or $0x80000001, %eax\n"
    "    and $~0x6, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmp $0x18, $ap_long\n"
    "    .code64\n"
    "ap_long:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov %ax, %fs\n"
    "    mov %ax, %gs\n"
    "    mov $0xfee00020, %eax\n"
    "    mov (%rax), %edi\n"
    "    shr $24, %edi\n"
    "    and $7, %edi\n"
    "    mov %rdi, %rax\n"
    "    inc %rax\n"
    "    shl $12, %rax\n"
    "    lea ap_stacks(%rip), %rsp\n"
    "    add %rax, %rsp\n"
    "    call ap_main\n"
    "4:  cli\n"
    "    hlt\n"
    "    jmp 4b\n"
    "    .section .rodata\n"
    "    .p2align 3\n"
    "ap_gdt:\n"
    "    .quad 0\n"
    "    .quad 0x00cf9a000000ffff\n"
    "    .quad 0x00cf92000000ffff\n"
    "    .quad 0x00af9a000000ffff\n"
    "ap_gdt_end:\n"
    "    .bss\n"
    "    .p2align 12\n"
    "ap_stacks: .skip 4096 * 8\n"
    ".text\n");

extern char ap_tramp[], ap_tramp_end[];
static volatile uint32_t ap_count, ap_seen_ids;
uint32_t ap_cr3;    /* the BSP's CR3 (below 4 GiB), for the APs */

static void tsc_delay(uint64_t cycles)
{
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < cycles) {
        __asm__ volatile("pause");
    }
}

/* Runs on each AP once it reaches long mode (the BSP does not print meanwhile). */
void ap_main(uint64_t apic_id);
void ap_main(uint64_t apic_id)
{
    static volatile uint32_t print_lock;
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) {
        __asm__ volatile("pause");
    }
    puts_("smp: ap ");
    putu(apic_id);
    puts_(" up in long mode\n");
    __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
    __atomic_fetch_or(&ap_seen_ids, 1u << apic_id, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
}

static void lapic_ipi_others(uint32_t icr)
{
    mmio_write(LAPIC + 0x310, 0);
    mmio_write(LAPIC + 0x300, icr | 3u << 18);  /* shorthand: all excluding self */
    while (mmio_read(LAPIC + 0x300) & (1u << 12)) {    /* delivery status */
        __asm__ volatile("pause");
    }
}

/* INIT, then up to two SIPIs (vector AP_TRAMP >> 12) until `expected` APs check in. */
static void test_smp(uint64_t expected)
{
    volatile char *dst = (volatile char *)AP_TRAMP;
    for (char *p = ap_tramp; p < ap_tramp_end; p++) {
        *dst++ = *p;
    }
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    ap_cr3 = (uint32_t)cr3;
    lapic_enable();
    lapic_ipi_others(0x4500);                   /* INIT, level assert */
    tsc_delay(10000000);
    for (int i = 0; i < 2 && ap_count < expected; i++) {
        lapic_ipi_others(0x4600 | AP_TRAMP >> 12);
        uint64_t t0 = rdtsc();
        while (ap_count < expected && rdtsc() - t0 < 5000000000ULL) {
            __asm__ volatile("pause");
        }
    }
    puts_("smp: bsp ");
    putu(mmio_read(LAPIC + 0x20) >> 24);
    puts_(", ");
    putu(ap_count);
    puts_(" aps started, ids ");
    putx(ap_seen_ids);
    puts_(ap_count == expected ? " ok\n" : " FAIL\n");
}

/* ---- virtio-blk-pci (modern transport, polled) ---- */

#define VIRTIO_BAR_POOL 0xe0000000UL    /* where BARs the firmware left unassigned go */

static void pci_cfg_write(unsigned slot, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | slot << 11 | reg);
    outl(0xcfc, v);
}

/* Address of BAR `bar` of slot, assigning it (and enabling memory decoding) if needed. */
static uint64_t pci_bar_address(unsigned slot, unsigned bar)
{
    static uint64_t pool = VIRTIO_BAR_POOL;
    unsigned reg = 0x10 + 4 * bar;
    uint32_t lo = pci_cfg_read(slot, reg);
    int is64 = (lo & 0x6) == 0x4;
    uint64_t addr = (lo & ~0xfu) | (is64 ? (uint64_t)pci_cfg_read(slot, reg + 4) << 32 : 0);

    if (addr == 0 || addr >= 0x100000000ULL) {
        pci_cfg_write(slot, reg, 0xffffffffu);
        uint64_t size = ~(pci_cfg_read(slot, reg) & ~0xfu) + 1ULL;
        size &= 0xffffffffULL;
        pool = (pool + size - 1) & ~(size - 1);
        addr = pool;
        pool += size;
        pci_cfg_write(slot, reg, (uint32_t)addr);
        if (is64) {
            pci_cfg_write(slot, reg + 4, 0);
        }
    }
    pci_cfg_write(slot, 0x04, pci_cfg_read(slot, 0x04) | 0x6);  /* memory space, bus master */
    return addr;
}

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

#define VQ_SIZE 8
static struct {
    struct virtq_desc desc[VQ_SIZE];
    struct { uint16_t flags, idx, ring[VQ_SIZE], used_event; } avail __attribute__((aligned(4096)));
    struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[VQ_SIZE]; uint16_t avail_event; }
        used __attribute__((aligned(4096)));
    struct { uint32_t type, reserved; uint64_t sector; } hdr;
    uint8_t data[512];
    uint8_t status;
} vq __attribute__((aligned(4096)));

static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)a; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write64(uint64_t a, uint64_t v) { mmio_write(a, (uint32_t)v); mmio_write(a + 4, v >> 32); }

/* Finds the first virtio-blk on bus 0, sets up queue 0 through the common configuration
 * capability, reads sector 0 with one request and prints its FNV-1a hash. */
static void test_virtio_blk(void)
{
    unsigned slot;
    for (slot = 0; slot < 32; slot++) {
        uint32_t id = pci_cfg_read(slot, 0);
        if (id == 0x10421af4 || id == 0x10011af4) {
            break;
        }
    }
    if (slot == 32) {
        puts_("virtio-blk: no device FAIL\n");
        return;
    }
    uint64_t common = 0, notify = 0, device = 0;
    uint32_t notify_mult = 0;
    unsigned cap = pci_cfg_read(slot, 0x04) >> 16 & 0x10 ? pci_cfg_read(slot, 0x34) & 0xfc : 0;
    for (; cap; cap = pci_cfg_read(slot, cap) >> 8 & 0xfc) {
        uint32_t w0 = pci_cfg_read(slot, cap);
        if ((w0 & 0xff) != 0x09) {              /* vendor-specific: a virtio capability */
            continue;
        }
        unsigned type = w0 >> 24;
        unsigned bar = pci_cfg_read(slot, cap + 4) & 0xff;
        uint64_t where = pci_bar_address(slot, bar) + pci_cfg_read(slot, cap + 8);
        if (type == 1) {
            common = where;
        } else if (type == 2) {
            notify = where;
            notify_mult = pci_cfg_read(slot, cap + 16);
        } else if (type == 4) {
            device = where;
        }
    }
    if (!common || !notify || !device) {
        puts_("virtio-blk: capabilities missing FAIL\n");
        return;
    }
    mmio_write8(common + 0x14, 0);              /* reset */
    while (mmio_read8(common + 0x14)) {
    }
    mmio_write8(common + 0x14, 1 | 2);          /* ACKNOWLEDGE | DRIVER */
    mmio_write(common + 0x00, 1);
    uint32_t hi = mmio_read(common + 0x04);
    if (!(hi & 1)) {
        puts_("virtio-blk: no VIRTIO_F_VERSION_1 FAIL\n");
        return;
    }
    mmio_write(common + 0x08, 0);
    mmio_write(common + 0x0c, 0);
    mmio_write(common + 0x08, 1);
    mmio_write(common + 0x0c, 1);               /* VIRTIO_F_VERSION_1 only */
    mmio_write8(common + 0x14, 1 | 2 | 8);      /* FEATURES_OK */
    if (!(mmio_read8(common + 0x14) & 8)) {
        puts_("virtio-blk: features refused FAIL\n");
        return;
    }
    uint64_t capacity = mmio_read(device) | (uint64_t)mmio_read(device + 4) << 32;
    mmio_write16(common + 0x16, 0);             /* queue_select */
    if (mmio_read16(common + 0x18) < VQ_SIZE) {
        puts_("virtio-blk: queue too small FAIL\n");
        return;
    }
    mmio_write16(common + 0x18, VQ_SIZE);
    mmio_write64(common + 0x20, (uint64_t)vq.desc);
    mmio_write64(common + 0x28, (uint64_t)&vq.avail);
    mmio_write64(common + 0x30, (uint64_t)&vq.used);
    uint16_t notify_off = mmio_read16(common + 0x1e);
    mmio_write16(common + 0x1c, 1);             /* queue_enable */
    mmio_write8(common + 0x14, 1 | 2 | 8 | 4);  /* DRIVER_OK */

    vq.hdr.type = 0;                            /* VIRTIO_BLK_T_IN */
    vq.hdr.sector = 0;
    vq.status = 0xff;
    vq.desc[0] = (struct virtq_desc){ (uint64_t)&vq.hdr, sizeof(vq.hdr), 1, 1 };
    vq.desc[1] = (struct virtq_desc){ (uint64_t)vq.data, sizeof(vq.data), 1 | 2, 2 };
    vq.desc[2] = (struct virtq_desc){ (uint64_t)&vq.status, 1, 2, 0 };
    vq.avail.ring[0] = 0;
    __asm__ volatile("mfence" ::: "memory");
    vq.avail.idx = 1;
    __asm__ volatile("mfence" ::: "memory");
    mmio_write16(notify + (uint64_t)notify_off * notify_mult, 0);
    uint64_t t0 = rdtsc();
    while (*(volatile uint16_t *)&vq.used.idx == 0 && rdtsc() - t0 < 20000000000ULL) {
        __asm__ volatile("pause");
    }
    uint32_t hash = 2166136261u;
    for (unsigned i = 0; i < sizeof(vq.data); i++) {
        hash = (hash ^ vq.data[i]) * 16777619u;
    }
    puts_("virtio-blk: capacity ");
    putu(capacity);
    puts_(" used ");
    putu(*(volatile uint16_t *)&vq.used.idx);
    puts_(" status ");
    putu(vq.status);
    puts_(" len ");
    putu(vq.used.ring[0].len);
    puts_(" sector0 fnv1a ");
    putx(hash);
    puts_("\n");
    mmio_write8(common + 0x14, 0);              /* reset: the device lets go of the queue */
}

/* A marker in RAM that survives a reset (RAM is not cleared; the payload is reloaded). */
#define RESET_MARKER ((volatile uint64_t *)0x3f00000UL)
#define RESET_MAGIC 0x7265736574746f6bULL

/* Resets through the keyboard controller, then checks the LAPIC came back at its defaults. */
static void test_kbdreset(void)
{
    if (*RESET_MARKER != RESET_MAGIC) {
        *RESET_MARKER = RESET_MAGIC;
        mmio_write(LAPIC + 0x320, VEC_TIMER);   /* unmasked (initial count 0: no ticks) */
        puts_("kbdreset: resetting\n");
        outb(0x64, 0xfe);
        for (;;) {
            __asm__ volatile("pause");
        }
    }
    *RESET_MARKER = 0;
    puts_("kbdreset: back, lvt timer masked ");
    putu(mmio_read(LAPIC + 0x320) >> 16 & 1);
    puts_(" i8042 status ");
    putx(inb(0x64) & 0x10);
    puts_("\n");
}

void payload_main(struct hvm_start_info *si);
void payload_main(struct hvm_start_info *si)
{
    const char *cmd = si->magic == 0x336ec578 && si->cmdline_paddr ?
                      (const char *)si->cmdline_paddr : "";
    if (word_is(cmd, "exit")) {
        poweroff();
    }
    puts_("x86 payload: ");
    puts_(cmd);
    puts_("\n");
    if (word_is(cmd, "timer")) {
        test_timer();
    } else if (word_is(cmd, "com1irq")) {
        test_com1_irq();
    } else if (word_is(cmd, "cpuid")) {
        test_cpuid();
    } else if (word_is(cmd, "pio")) {
        test_pio(parse_arg(cmd, 10000));
    } else if (word_is(cmd, "rtc")) {
        test_rtc();
    } else if (word_is(cmd, "pci")) {
        test_pci();
    } else if (word_is(cmd, "smp")) {
        test_smp(parse_arg(cmd, 1));
    } else if (word_is(cmd, "virtio-blk")) {
        test_virtio_blk();
    } else if (word_is(cmd, "kbdreset")) {
        test_kbdreset();
    } else if (word_is(cmd, "info")) {
        puts_("start_info memmap entries ");
        putu(si->memmap_entries);
        puts_(" rsdp ");
        putx(si->rsdp_paddr);
        puts_("\n");
    } else {
        puts_("hello\n");
    }
    poweroff();
}
