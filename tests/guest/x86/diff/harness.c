/* Differential-test payload (PVH ELF, entered in long mode by ../crt.S): runs every case of the
 * blob passed as the initrd in ring 3 and stores one result record per case at DIFF_RESULTS;
 * prints "diff: done <n> <addr> <size>" on COM1 and halts so the host can pmemsave them.
 * Blob: "VXDIFF01", u32 ncases, u32 case size, then cases of
 *   code[128] | in[17] (16 GPRs, rflags) | fxsave[512] | window[512].
 * Result: out[21] (16 GPRs, rip, rflags, vector, error code, cr2) | fxsave[512] | window[512]. */
#include <stdint.h>

#define COM1 0x3f8
#define DIFF_USER_CODE 0x10000000UL
#define DIFF_USER_DATA 0x10002000UL          /* window = last 512 bytes; next page unmapped */
#define DIFF_WINDOW (DIFF_USER_DATA + 4096 - 512)
#define DIFF_RESULTS 0x4000000UL
#define CODE_LEN 128
#define CASE_SIZE (CODE_LEN + 17 * 8 + 512 + 512)
#define RESULT_SIZE (21 * 8 + 512 + 512)

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
    uint64_t paddr, size, cmdline_paddr, reserved;
};

void payload_main(struct hvm_start_info *si);
void diff_run_user(const uint64_t *in, uint64_t *out);
extern char diff_trap_stubs[];

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));
static uint8_t user_code[4096] __attribute__((aligned(4096)));
static uint8_t user_data[4096] __attribute__((aligned(4096)));
static uint8_t trap_stack[16384] __attribute__((aligned(16)));
static uint8_t fx[512] __attribute__((aligned(16)));
static uint64_t idt[512] __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint32_t tss[26] __attribute__((aligned(16)));

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

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

static void putx(uint64_t v)
{
    puts_("0x");
    for (int s = 60; s >= 0; s -= 4) {
        putc_("0123456789abcdef"[(v >> s) & 0xf]);
    }
}

static void copy(void *dst, const void *src, uint64_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
}

static void fill(void *dst, uint8_t v, uint64_t n)
{
    uint8_t *d = dst;
    while (n--) {
        *d++ = v;
    }
}

static _Noreturn void stop(const char *why)
{
    puts_(why);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/* Identity map of the low 1 GiB in supervisor 2 MiB pages, plus the user code page (read-only)
 * and the user data page; the pages around them stay unmapped. */
static void setup_paging(void)
{
    pml4[0] = (uint64_t)pdpt | 7;
    pdpt[0] = (uint64_t)pd | 7;
    for (uint64_t i = 0; i < 512; i++) {
        pd[i] = (i << 21) | 0x83;
    }
    pd[DIFF_USER_CODE >> 21] = (uint64_t)pt | 7;
    pt[0] = (uint64_t)user_code | 5;
    pt[2] = (uint64_t)user_data | 7;
    __asm__ volatile("mov %0, %%cr3" :: "r"(pml4) : "memory");
}

static void setup_descriptors(void)
{
    gdt[1] = 0x00af9a000000ffffULL;     /* 0x08: kernel code */
    gdt[2] = 0x00cf92000000ffffULL;     /* 0x10: kernel data */
    gdt[3] = 0x00affa000000ffffULL;     /* 0x18: user code, 64-bit */
    gdt[4] = 0x00cff2000000ffffULL;     /* 0x20: user data */
    uint64_t t = (uint64_t)tss;
    gdt[5] = (sizeof(tss) - 1) | (t & 0xffffff) << 16 | 0x89ULL << 40 | ((t >> 24) & 0xff) << 56;
    gdt[6] = t >> 32;
    uint64_t rsp0 = (uint64_t)trap_stack + sizeof(trap_stack);
    tss[1] = (uint32_t)rsp0;
    tss[2] = rsp0 >> 32;
    tss[25] = sizeof(tss) << 16;        /* I/O bitmap beyond the limit: no port for ring 3 */
    for (int v = 0; v < 256; v++) {
        uint64_t h = (uint64_t)diff_trap_stubs + 16 * v;
        int dpl = (v == 3 || v == 4) ? 3 : 0;
        idt[2 * v] = (h & 0xffff) | 0x08ULL << 16 | (0x8eULL | dpl << 5) << 40 |
                     ((h >> 16) & 0xffff) << 48;
        idt[2 * v + 1] = h >> 32;
    }
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gd = { sizeof(gdt) - 1,
        (uint64_t)gdt }, id = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lgdt %0; lidt %1" :: "m"(gd), "m"(id) : "memory");
    __asm__ volatile("pushq $0x08; lea 1f(%%rip), %%rax; pushq %%rax; lretq; 1:\n\t"
                     "mov $0x10, %%eax; mov %%eax, %%ss; mov %%eax, %%ds; mov %%eax, %%es\n\t"
                     "mov $0x28, %%eax; ltr %%ax" ::: "rax", "memory");
}

void payload_main(struct hvm_start_info *si)
{
    outb(0x21, 0xff);                   /* mask both PICs: nothing may interrupt a case */
    outb(0xa1, 0xff);
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 0x600));     /* OSFXSR | OSXMMEXCPT */
    uint64_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = (cr0 & ~0x4ULL & ~(1ULL << 18)) | 0x22;               /* MP | NE; no EM, AM */
    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0));
    setup_paging();
    setup_descriptors();
    if (si->nr_modules < 1) {
        stop("diff: no blob (pass it with -initrd)\n");
    }
    const struct hvm_modlist_entry *mod = (const void *)si->modlist_paddr;
    const uint8_t *blob = (const void *)mod->paddr;
    static const char magic[8] = "VXDIFF01";
    for (int i = 0; i < 8; i++) {
        if (blob[i] != magic[i]) {
            stop("diff: bad blob magic\n");
        }
    }
    uint32_t n = *(const uint32_t *)(blob + 8);
    if (*(const uint32_t *)(blob + 12) != CASE_SIZE || 16 + (uint64_t)n * CASE_SIZE > mod->size) {
        stop("diff: bad blob size\n");
    }
    if (DIFF_RESULTS + (uint64_t)n * RESULT_SIZE > mod->paddr) {
        stop("diff: too many cases for this memory size\n");
    }
    fill(user_code, 0xcc, sizeof(user_code));
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *c = blob + 16 + (uint64_t)i * CASE_SIZE;
        uint8_t *r = (uint8_t *)DIFF_RESULTS + (uint64_t)i * RESULT_SIZE;
        uint64_t in[17], out[21];
        copy(user_code, c, CODE_LEN);
        copy(in, c + CODE_LEN, sizeof(in));
        fill(user_data, 0, sizeof(user_data));
        copy(user_data + 4096 - 512, c + CODE_LEN + sizeof(in) + 512, 512);
        copy(fx, c + CODE_LEN + sizeof(in), 512);
        __asm__ volatile("fxrstor64 %0" :: "m"(fx));
        diff_run_user(in, out);
        __asm__ volatile("fxsave64 %0" : "=m"(fx));
        copy(r, out, sizeof(out));
        copy(r + sizeof(out), fx, 512);
        copy(r + sizeof(out) + 512, user_data + 4096 - 512, 512);
    }
    puts_("diff: done ");
    putx(n);
    putc_(' ');
    putx(DIFF_RESULTS);
    putc_(' ');
    putx((uint64_t)n * RESULT_SIZE);
    puts_("\n");
    stop("");
}
