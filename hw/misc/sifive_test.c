/* SiFive test finisher ("sifive,test0"): lets a guest power off, exit with a status or reset. */
#include "hw/misc/sifive_test.h"
#include "hw/core/machine.h"
#include "util/log.h"

enum {
    FINISHER_FAIL = 0x3333,
    FINISHER_PASS = 0x5555,
    FINISHER_RESET = 0x7777,
};

static uint64_t sifive_test_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void sifive_test_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    if (addr != 0) {
        log_mask_printf(LOG_GUEST_ERROR, "sifive_test: write to offset 0x%llx ignored\n",
                        (unsigned long long)addr);
        return;
    }
    uint32_t status = val & 0xffff;
    int code = (val >> 16) & 0xffff;
    switch (status) {
    case FINISHER_FAIL:
        machine_request_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, code);
        break;
    case FINISHER_PASS:
        machine_request_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 0);
        break;
    case FINISHER_RESET:
        machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
        break;
    default:
        log_mask_printf(LOG_GUEST_ERROR, "sifive_test: unknown status 0x%x ignored\n", status);
        break;
    }
}

static const MemoryRegionOps sifive_test_ops = {
    .read = sifive_test_read,
    .write = sifive_test_write,
    .min_access_size = 4,
    .max_access_size = 4,
};

static void sifive_test_init(Object *obj)
{
    SifiveTest *s = OBJECT_CHECK(SifiveTest, obj);
    memory_region_init_io(&s->mmio, "riscv.sifive.test", &sifive_test_ops, s,
                          SIFIVE_TEST_SIZE);
}

const ObjectClass sifive_test_class = {
    .name = "riscv.sifive.test",
    .instance_size = sizeof(SifiveTest),
    .desc = "SiFive test finisher (power off, exit status, reset)",
    .init = sifive_test_init,
};
OBJECT_CLASS_REGISTER(sifive_test_class);
