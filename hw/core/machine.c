/* Machine registry, run state, and the shutdown/reset/powerdown requests. */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/core/machine.h"
#include "util/bql.h"
#include "util/mainloop.h"

Machine *current_machine;
void (*machine_powerdown_hook)(Machine *m);

static GPtrArray *machine_classes;
static RunState current_runstate = RUN_STATE_PRELAUNCH;

static const ObjectClass machine_base_class = {
    .name = "machine",
    .instance_size = sizeof(Machine),
    .abstract = true,
};

void machine_class_register(const MachineClass *mc)
{
    if (!machine_classes) {
        machine_classes = g_ptr_array_new();
    }
    g_ptr_array_add(machine_classes, (gpointer)mc);
}

const MachineClass *machine_class_find(const char *name)
{
    for (guint i = 0; machine_classes && i < machine_classes->len; i++) {
        const MachineClass *mc = g_ptr_array_index(machine_classes, i);
        if (strcmp(mc->name, name) == 0) {
            return mc;
        }
    }
    return NULL;
}

const MachineClass *machine_class_default(void)
{
    for (guint i = 0; machine_classes && i < machine_classes->len; i++) {
        const MachineClass *mc = g_ptr_array_index(machine_classes, i);
        if (mc->is_default) {
            return mc;
        }
    }
    return NULL;
}

static gint machine_class_cmp(gconstpointer a, gconstpointer b)
{
    const MachineClass *ma = *(const MachineClass * const *)a;
    const MachineClass *mb = *(const MachineClass * const *)b;
    return strcmp(ma->name, mb->name);
}

GPtrArray *machine_class_list(void)
{
    GPtrArray *list = g_ptr_array_new();
    for (guint i = 0; machine_classes && i < machine_classes->len; i++) {
        g_ptr_array_add(list, g_ptr_array_index(machine_classes, i));
    }
    g_ptr_array_sort(list, machine_class_cmp);
    return list;
}

void machine_print_list(void)
{
    GPtrArray *list = machine_class_list();
    printf("Supported machines are:\n");
    for (guint i = 0; i < list->len; i++) {
        const MachineClass *mc = g_ptr_array_index(list, i);
        printf("%-20s %s%s\n", mc->name, mc->desc, mc->is_default ? " (default)" : "");
    }
    g_ptr_array_free(list, true);
}

Machine *machine_new(const MachineClass *mc)
{
    const ObjectClass *oc = mc->oc.name ? &mc->oc : &machine_base_class;
    size_t size = MAX(oc->instance_size, sizeof(Machine));
    Machine *m = g_malloc0(size);
    object_initialize(OBJECT(m), oc->instance_size >= sizeof(Machine) ? oc : &machine_base_class);
    m->mc = mc;
    m->ram_size = mc->default_ram_size;
    m->smp = 1;
    object_add_child(object_root(), "machine", OBJECT(m), NULL);
    object_unref(OBJECT(m));
    current_machine = m;
    return m;
}

const char *runstate_name(RunState s)
{
    static const char *const names[] = {
        [RUN_STATE_PRELAUNCH] = "prelaunch",
        [RUN_STATE_RUNNING] = "running",
        [RUN_STATE_PAUSED] = "paused",
        [RUN_STATE_SHUTDOWN] = "shutdown",
        [RUN_STATE_INTERNAL_ERROR] = "internal-error",
        [RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    };
    return names[s];
}

RunState runstate_get(void)
{
    return current_runstate;
}

bool runstate_is_running(void)
{
    return current_runstate == RUN_STATE_RUNNING;
}

const char *shutdown_cause_name(ShutdownCause c)
{
    static const char *const names[] = {
        [SHUTDOWN_CAUSE_NONE] = "none",
        [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
        [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
        [SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
        [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
        [SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
        [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
        [SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
        [SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic",
    };
    return names[c];
}

bool shutdown_cause_is_guest(ShutdownCause c)
{
    return c >= SHUTDOWN_CAUSE_GUEST_SHUTDOWN;
}

typedef struct EventListener {
    MachineEventFn *fn;
    void *opaque;
} EventListener;

static GArray *event_listeners;

void machine_add_event_listener(MachineEventFn *fn, void *opaque)
{
    if (!event_listeners) {
        event_listeners = g_array_new(false, false, sizeof(EventListener));
    }
    EventListener l = { fn, opaque };
    g_array_append_val(event_listeners, l);
}

static void machine_emit(const char *event, ShutdownCause cause)
{
    for (guint i = 0; event_listeners && i < event_listeners->len; i++) {
        EventListener *l = &g_array_index(event_listeners, EventListener, i);
        l->fn(event, cause, l->opaque);
    }
}

void vm_stop(RunState state)
{
    if (current_runstate == RUN_STATE_RUNNING) {
        cpus_pause_all();
        current_runstate = state;
        machine_emit("STOP", SHUTDOWN_CAUSE_NONE);
    } else {
        current_runstate = state;
    }
}

void vm_start(void)
{
    if (current_runstate == RUN_STATE_RUNNING) {
        return;
    }
    current_runstate = RUN_STATE_RUNNING;
    cpus_resume_all();
    machine_emit("RESUME", SHUTDOWN_CAUSE_NONE);
}

void machine_reset(Machine *m)
{
    object_reset_tree(object_root());
    cpus_reset_all();
    if (m->mc->reset) {
        m->mc->reset(m);
    }
}

/* Pending requests; set from any thread holding the big lock, handled on the main loop. */
static ShutdownCause shutdown_request;
static int shutdown_status;
static ShutdownCause reset_request;
static bool powerdown_request;
static bool internal_error_request;

static gboolean machine_process_requests(gpointer unused)
{
    Machine *m = current_machine;
    if (internal_error_request) {
        internal_error_request = false;
        vm_stop(RUN_STATE_INTERNAL_ERROR);
    }
    if (reset_request != SHUTDOWN_CAUSE_NONE) {
        ShutdownCause cause = reset_request;
        reset_request = SHUTDOWN_CAUSE_NONE;
        if (m->no_reboot && shutdown_request == SHUTDOWN_CAUSE_NONE) {
            shutdown_request = cause;
            shutdown_status = 0;
        } else if (shutdown_request == SHUTDOWN_CAUSE_NONE) {
            bool was_running = runstate_is_running();
            cpus_pause_all();
            machine_reset(m);
            machine_emit("RESET", cause);
            if (was_running) {
                cpus_resume_all();
            } else if (current_runstate == RUN_STATE_SHUTDOWN ||
                       current_runstate == RUN_STATE_INTERNAL_ERROR ||
                       current_runstate == RUN_STATE_GUEST_PANICKED) {
                /* As QEMU: a reset machine can be started again with cont. */
                current_runstate = RUN_STATE_PRELAUNCH;
            }
        }
    }
    if (shutdown_request != SHUTDOWN_CAUSE_NONE) {
        ShutdownCause cause = shutdown_request;
        shutdown_request = SHUTDOWN_CAUSE_NONE;
        machine_emit("SHUTDOWN", cause);
        if (m->no_shutdown && shutdown_cause_is_guest(cause)) {
            vm_stop(RUN_STATE_SHUTDOWN);
        } else {
            cpus_pause_all();
            current_runstate = RUN_STATE_SHUTDOWN;
            mainloop_quit(shutdown_status);
        }
    }
    if (powerdown_request) {
        powerdown_request = false;
        machine_emit("POWERDOWN", SHUTDOWN_CAUSE_NONE);
        if (machine_powerdown_hook) {
            machine_powerdown_hook(m);
        }
    }
    return G_SOURCE_REMOVE;
}

static void machine_schedule_requests(void)
{
    g_idle_add_full(G_PRIORITY_HIGH, machine_process_requests, NULL, NULL);
}

void machine_request_shutdown(ShutdownCause cause, int exit_status)
{
    if (shutdown_request == SHUTDOWN_CAUSE_NONE) {
        shutdown_request = cause;
        shutdown_status = exit_status;
    }
    machine_schedule_requests();
}

void machine_request_reset(ShutdownCause cause)
{
    reset_request = cause;
    machine_schedule_requests();
}

void machine_request_powerdown(void)
{
    powerdown_request = true;
    machine_schedule_requests();
}

void machine_request_internal_error(void)
{
    internal_error_request = true;
    machine_schedule_requests();
}

void machine_requests_init(void)
{
    current_runstate = RUN_STATE_PRELAUNCH;
}

bool machine_start_cpus(Machine *m, bool paused, Error **errp)
{
    for (unsigned i = 0; i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        cpu->stop = paused;
        if (!cpu_start_thread(cpu, errp)) {
            return false;
        }
    }
    current_runstate = paused ? RUN_STATE_PRELAUNCH : RUN_STATE_RUNNING;
    return true;
}
