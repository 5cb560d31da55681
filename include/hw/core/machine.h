#ifndef HW_CORE_MACHINE_H
#define HW_CORE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "accel/accel.h"
#include "util/chardev.h"

#define MAX_SERIAL_PORTS 4

typedef struct Machine Machine;

/* A board type: -M <name>. */
typedef struct MachineClass {
    ObjectClass oc;                   /* oc.name is "<name>-machine" */
    const char *name;                 /* as typed after -M */
    const char *desc;
    bool is_default;
    unsigned max_cpus;
    uint64_t default_ram_size;
    uint64_t max_ram_size;            /* largest -m the board can hold */
    /* Builds the board: RAM, devices, CPUs, firmware and kernel loading. */
    bool (*init)(Machine *m, Error **errp);
    /* Board part of a reset (after devices and CPUs are reset): reloads boot state. */
    void (*reset)(Machine *m);
} MachineClass;

/* The one machine instance, at /machine in the composition tree. */
struct Machine {
    Object obj;
    const MachineClass *mc;
    uint64_t ram_size;
    unsigned smp;
    char *name;                       /* -name */
    char *kernel, *initrd, *append, *dtb, *bios;
    char *cpu_type;                   /* -cpu model name; NULL: the board's default */
    bool no_reboot, no_shutdown;
    const AccelOps *accel;
    CPUState **cpus;                  /* smp entries, created by the board */
    Chardev *serial[MAX_SERIAL_PORTS]; /* -serial in order; NULL entries are unconnected */
    void *board;                      /* the board's own state */
};

extern Machine *current_machine;

/* Creates the machine object (/machine) with the class defaults; sets current_machine. */
Machine *machine_new(const MachineClass *mc);

void machine_class_register(const MachineClass *mc);
#define MACHINE_REGISTER(mc_var) \
    static void __attribute__((constructor)) register_##mc_var(void) \
    { machine_class_register(&(mc_var)); }
const MachineClass *machine_class_find(const char *name);
const MachineClass *machine_class_default(void);
/* Prints the "-M help" list. */
void machine_print_list(void);
/* All machine classes sorted by name (g_ptr_array_free when done). */
GPtrArray *machine_class_list(void);

/* Run states with QMP's names. */
typedef enum RunState {
    RUN_STATE_PRELAUNCH,
    RUN_STATE_RUNNING,
    RUN_STATE_PAUSED,
    RUN_STATE_SHUTDOWN,
    RUN_STATE_INTERNAL_ERROR,
    RUN_STATE_GUEST_PANICKED,
} RunState;
const char *runstate_name(RunState s);
RunState runstate_get(void);
bool runstate_is_running(void);

/* Why the machine shuts down or resets, with QEMU's QAPI names. */
typedef enum ShutdownCause {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,
    SHUTDOWN_CAUSE_HOST_UI,
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    SHUTDOWN_CAUSE_GUEST_RESET,
    SHUTDOWN_CAUSE_GUEST_PANIC,
} ShutdownCause;
const char *shutdown_cause_name(ShutdownCause c);
bool shutdown_cause_is_guest(ShutdownCause c);

/* Requests processed on the main loop; safe from device code on vCPU threads.
 * Shutdown ends the process (or pauses with -no-shutdown); reset resets the machine
 * (or shuts down with -no-reboot). */
void machine_request_shutdown(ShutdownCause cause, int exit_status);
void machine_request_reset(ShutdownCause cause);
/* A vCPU hit an unrecoverable accelerator error: the VM stops in internal-error. */
void machine_request_internal_error(void);
/* Guest-triggered power button (system_powerdown): the board signals its guest. */
void machine_request_powerdown(void);
/* Pauses the VM (stop) or resumes it (cont); main thread with the big lock. */
void vm_stop(RunState state);
void vm_start(void);
/* Listeners for the monitor's events (STOP, RESUME, RESET, SHUTDOWN, POWERDOWN). */
typedef void MachineEventFn(const char *event, ShutdownCause cause, void *opaque);
void machine_add_event_listener(MachineEventFn *fn, void *opaque);
/* Powerdown hook set by the board (e.g. ACPI power button); NULL when it has none. */
extern void (*machine_powerdown_hook)(Machine *m);

/* Sets up the main loop hooks that act on the requests above. */
void machine_requests_init(void);
/* Starts the vCPU threads after the board is built; paused (-S) leaves them parked in
 * RUN_STATE_PRELAUNCH until vm_start. */
bool machine_start_cpus(Machine *m, bool paused, Error **errp);
/* Resets devices, CPUs and the board as a guest or monitor reset does (vCPUs paused). */
void machine_reset(Machine *m);

#endif
