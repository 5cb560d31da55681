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
