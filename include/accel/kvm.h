#ifndef ACCEL_KVM_H
#define ACCEL_KVM_H

#include <stdbool.h>
#include <stdint.h>
#include "accel/cpu.h"
#include "hw/core/machine.h"

/* The "kvm" accelerator (accel/kvm/kvm-all.c) and the hooks each target supplies
 * (target/<arch>/kvm.c). */

/* True once the kvm accelerator was selected for the machine. */
bool kvm_enabled(void);

/* The in-kernel interrupt controller. kvm_irqchip_set_gsi is an IrqHandler for the board's
 * GSI lines (n = GSI, opaque unused). Big lock held. */
void kvm_irqchip_set_gsi(void *opaque, int gsi, int level);
/* Delivers an MSI (address/data as a device writes them); false when KVM refused it. */
bool kvm_irqchip_send_msi(uint64_t addr, uint32_t data);
/* Signals eventfd fd on guest writes of size bytes at addr (MMIO, or port I/O when pio),
 * matching any value; assign=false removes it. */
bool kvm_ioeventfd_set(int fd, uint64_t addr, unsigned size, bool pio, bool assign,
                       Error **errp);
/* Raises the GSI (edge) whenever eventfd fd is signalled; assign=false removes it. */
bool kvm_irqfd_set(int fd, int gsi, bool assign, Error **errp);

/* Machine reset: the in-kernel interrupt controllers back to their power-on state (x86: PIC
 * pair and IOAPIC; each LAPIC follows at its vCPU's next register load). Big lock held. */
bool kvm_irqchip_reset(Error **errp);

/* ---- target hooks ---- */

/* After KVM_CREATE_VM: machine-wide set-up (x86: TSS, identity map, irqchip, PIT). */
bool kvm_arch_init(int vm_fd, Machine *m, Error **errp);
/* After KVM_CREATE_VCPU: CPUID, MSRs the kernel needs before the first run. */
bool kvm_arch_vcpu_init(CPUState *cpu, int kvm_fd, int vcpu_fd, Error **errp);
/* Copies the CPU state into the vCPU / out of it. */
bool kvm_arch_put_registers(CPUState *cpu, int vcpu_fd, Error **errp);
bool kvm_arch_get_registers(CPUState *cpu, int vcpu_fd, Error **errp);
/* True (and clears the flag) when userspace changed the CPU state since the last put. */
bool kvm_arch_take_dirty(CPUState *cpu);
/* The port I/O address space for KVM_EXIT_IO, or NULL when the target has none. */
AddressSpace *kvm_arch_io_space(void);

#endif
