# Vessel: one non-recursive Makefile. Every .c file under the source folders is part of
# libvessel.a; hw/core/main.c adds main() for the emulator binary.

-include config.mak

SETUP_GOALS := run check distclean help
ifeq ($(PKG_CFLAGS),)
ifeq ($(filter $(SETUP_GOALS),$(MAKECMDGOALS)),)
$(error run ./configure first (or use 'make run' / 'make check', which set everything up))
endif
endif

BUILD := build
VERSION := 0.1.0
SRC_DIRS := util hw accel target block net ui monitor
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
        -Wshadow=local -Wformat=2 -Wvla -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
CFLAGS := -std=gnu11 $(OPT_CFLAGS) $(WARN) -Iinclude -I. -D_GNU_SOURCE \
          -DVESSEL_VERSION=\"$(VERSION)\" $(PKG_CFLAGS) -fno-strict-aliasing -pthread
LDLIBS := $(PKG_LIBS)

MAIN_SRC := hw/core/main.c
ALL_SRCS := $(sort $(shell find $(SRC_DIRS) -name '*.c'))
LIB_SRCS := $(filter-out $(MAIN_SRC),$(ALL_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)

# --- vessel-img begin ---
# The image tool: build/vessel-img from block/img/vessel-img.c, kept out of libvessel.a
# (this section sits before the libvessel.a rule, whose prerequisites expand at parse time).
IMG_MAIN_SRC := block/img/vessel-img.c
LIB_SRCS := $(filter-out $(IMG_MAIN_SRC),$(LIB_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

# The block layer's objects are linked whole (drivers register from constructors); the rest
# of the library only as far as they need it, so vessel-img carries no emulator code.
IMG_BLOCK_OBJS := $(filter $(BUILD)/block/%,$(LIB_OBJS))

all: $(BUILD)/vessel-img

$(BUILD)/vessel-img: $(BUILD)/$(IMG_MAIN_SRC:.c=.o) $(BUILD)/libvessel.a
	$(CC) $(CFLAGS) -o $@ $< $(IMG_BLOCK_OBJS) $(BUILD)/libvessel.a $(LDLIBS)
# --- vessel-img end ---

LINK_LIB := -Wl,--whole-archive $(BUILD)/libvessel.a -Wl,--no-whole-archive

.PHONY: all clean distclean check run unit-tests assets install
all: $(BUILD)/vessel $(UNIT_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libvessel.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vessel: $(BUILD)/$(MAIN_SRC:.c=.o) $(BUILD)/libvessel.a
	$(CC) $(CFLAGS) -o $@ $< $(LINK_LIB) $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libvessel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LINK_LIB) $(LDLIBS)

unit-tests: $(UNIT_BINS)

# The README's two commands: 'make run' boots the default guest, 'make check' runs every test.
run:
	./scripts/setup.sh
	$(MAKE) $(BUILD)/vessel
	./scripts/assets.sh
	$(BUILD)/vessel -M virt -m 256 -nographic -kernel $(BUILD)/assets/riscv64/Image \
	    -initrd $(BUILD)/assets/riscv64/initrd.gz -append "console=ttyS0"

check:
	./scripts/setup.sh
	$(MAKE) all
	./scripts/assets.sh
	python3 tests/run.py

install: $(BUILD)/vessel
	install -D -m 755 $(BUILD)/vessel $(DESTDIR)$(PREFIX)/bin/vessel

clean:
	rm -rf $(BUILD)/util $(BUILD)/hw $(BUILD)/accel $(BUILD)/target $(BUILD)/block \
	       $(BUILD)/net $(BUILD)/ui $(BUILD)/monitor $(BUILD)/tests $(BUILD)/vessel $(BUILD)/libvessel.a

distclean:
	rm -rf $(BUILD) config.mak config.h

# --- riscv guest tests begin ---
# Bare-metal RISC-V ISA payloads (tests/guest/riscv/): build/tests/guest/riscv/<name>.elf.
RISCV_GUEST_CC ?= riscv64-linux-gnu-gcc
RISCV_GUEST_DIR := tests/guest/riscv
RISCV_GUEST_TESTS := rv64i m a c zicsr f d priv mmu pmp
RISCV_GUEST_ELFS := $(RISCV_GUEST_TESTS:%=$(BUILD)/$(RISCV_GUEST_DIR)/%.elf)
RISCV_GUEST_FLAGS := -march=rv64gc -mabi=lp64d -nostdlib -nostartfiles -static -fno-pie -no-pie -mno-relax -Wl,--build-id=none \
                     -mcmodel=medany -T $(RISCV_GUEST_DIR)/link.ld -I$(RISCV_GUEST_DIR)
RISCV_GUEST_DEPS := $(RISCV_GUEST_DIR)/crt.S $(RISCV_GUEST_DIR)/common.h $(RISCV_GUEST_DIR)/link.ld

.PHONY: riscv-guest-tests
all: riscv-guest-tests
ifneq ($(shell command -v $(RISCV_GUEST_CC) 2>/dev/null),)
riscv-guest-tests: $(RISCV_GUEST_ELFS)
else
riscv-guest-tests:
	@echo "notice: $(RISCV_GUEST_CC) not found, RISC-V guest tests not built (Debian: gcc-riscv64-linux-gnu)"
endif

$(RISCV_GUEST_ELFS): $(BUILD)/$(RISCV_GUEST_DIR)/%.elf: $(RISCV_GUEST_DIR)/%.S $(RISCV_GUEST_DEPS)
	@mkdir -p $(dir $@)
	$(RISCV_GUEST_CC) $(RISCV_GUEST_FLAGS) -o $@ $(RISCV_GUEST_DIR)/crt.S $<
# --- riscv guest tests end ---

# --- block begin ---
# qcow2 fuzzer (libFuzzer, clang): 'make fuzz-qcow2', then
# build/tests/fuzz/fuzz-qcow2 tests/fuzz/corpus-qcow2. The corpus is replayed without
# libFuzzer by build/tests/unit/test-qcow2-fuzz in 'make check'.
FUZZ_CC ?= clang
FUZZ_SRCS := tests/fuzz/fuzz-qcow2.c $(wildcard block/*.c) util/error.c util/option.c
.PHONY: fuzz-qcow2
fuzz-qcow2: $(BUILD)/tests/fuzz/fuzz-qcow2
$(BUILD)/tests/fuzz/fuzz-qcow2: $(FUZZ_SRCS) $(wildcard include/block/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -I. \
	    -D_GNU_SOURCE $(PKG_CFLAGS) -pthread -o $@ $(FUZZ_SRCS) $(LDLIBS)
# --- block end ---

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- x86 guest tests begin ---
# Bare-metal x86-64 payloads (tests/guest/x86/): a PVH ELF that both Vessel and
# qemu-system-x86_64 boot with -kernel; -append picks the test.
X86_GUEST_DIR := tests/guest/x86
X86_GUEST_ELF := $(BUILD)/$(X86_GUEST_DIR)/payload.elf
X86_GUEST_FLAGS := -m64 -ffreestanding -fno-pic -fno-pie -no-pie -nostdlib -static -O2 \
                   -mno-red-zone -mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
                   -Wall -Wextra -Werror -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
                   -T $(X86_GUEST_DIR)/link.ld

.PHONY: x86-guest-tests
all: x86-guest-tests
x86-guest-tests: $(X86_GUEST_ELF)

$(X86_GUEST_ELF): $(X86_GUEST_DIR)/crt.S $(X86_GUEST_DIR)/payload.c $(X86_GUEST_DIR)/link.ld
	@mkdir -p $(dir $@)
	$(CC) $(X86_GUEST_FLAGS) -o $@ $(X86_GUEST_DIR)/crt.S $(X86_GUEST_DIR)/payload.c

# The differential harness (tests/guest/x86/diff): ring-3 cases from an initrd blob.
X86_DIFF_ELF := $(BUILD)/$(X86_GUEST_DIR)/diff/diff.elf
x86-guest-tests: $(X86_DIFF_ELF)
$(X86_DIFF_ELF): $(X86_GUEST_DIR)/crt.S $(X86_GUEST_DIR)/diff/entry.S $(X86_GUEST_DIR)/diff/harness.c $(X86_GUEST_DIR)/link.ld
	@mkdir -p $(dir $@)
	$(CC) $(X86_GUEST_FLAGS) -o $@ $(X86_GUEST_DIR)/crt.S $(X86_GUEST_DIR)/diff/entry.S $(X86_GUEST_DIR)/diff/harness.c
# --- x86 guest tests end ---
