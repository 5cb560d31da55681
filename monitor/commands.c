/*
 * The command table shared by QMP and HMP, the handlers, and the HMP printers of their
 * results. Result and argument shapes follow QEMU 7.2's QAPI schema.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "accel/accel.h"
#include "accel/cpu.h"
#include "block/block-backend.h"
#include "hw/core/machine.h"
#include "hw/core/memory.h"
#include "hw/core/object.h"
#include "hw/core/qdev.h"
#include "monitor/monitor-internal.h"
#include "ui/ui-monitor.h"

/* x/xp dump at most this much per command, so one command cannot flood a session. */
#define HMP_DUMP_MAX  65536
#define SAVE_CHUNK    65536

/* ---- argument helpers ---- */

bool monitor_arg_has(JsonObject *args, const char *name)
{
    return json_object_has_member(args, name);
}

const char *monitor_arg_str(JsonObject *args, const char *name, const char *def)
{
    return json_object_has_member(args, name) ? json_object_get_string_member(args, name) : def;
}

int64_t monitor_arg_int(JsonObject *args, const char *name, int64_t def)
{
    return json_object_has_member(args, name) ? json_object_get_int_member(args, name) : def;
}

static JsonNode *node_empty(void)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, json_object_new());
    return n;
}

static JsonNode *node_object(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, o);
    return n;
}

static JsonNode *node_array(JsonArray *a)
{
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);

    json_node_take_array(n, a);
    return n;
}

static JsonNode *node_string_take(char *s)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);

    json_node_set_string(n, s);
    g_free(s);
    return n;
}

static const char *json_type_name(char type)
{
    switch (type) {
    case 's':
    case 'R':
    case 'F':
        return "string";
    case 'i':
        return "integer";
    case 'b':
        return "boolean";
    default:
        return "any";
    }
}

static bool json_node_has_type(JsonNode *n, char type)
{
    GType t;

    if (type == 'j') {
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(n)) {
        return false;
    }
    t = json_node_get_value_type(n);
    switch (type) {
    case 's':
    case 'R':
    case 'F':
        return t == G_TYPE_STRING;
    case 'i':
        return t == G_TYPE_INT64;
    case 'b':
        return t == G_TYPE_BOOLEAN;
    default:
        return false;
    }
}

/* Finds name in a spec; *type gets its type letter, *optional its '?'. */
static bool spec_find(const char *spec, const char *name, char *type, bool *optional,
                      bool *rest_allowed)
{
    char **items = g_strsplit(spec, ",", -1);
    bool found = false;

    *rest_allowed = false;
    for (int i = 0; items[i]; i++) {
        const char *colon = strchr(items[i], ':');

        if (!strcmp(items[i], "*")) {
            *rest_allowed = true;
        } else if (colon && (size_t)(colon - items[i]) == strlen(name) &&
                   !strncmp(items[i], name, colon - items[i])) {
            *type = colon[1];
            *optional = colon[2] == '?';
            found = true;
        }
    }
    g_strfreev(items);
    return found;
}

bool monitor_check_args(const MonitorCommand *cmd, JsonObject *args, Error **errp)
{
    char **items = g_strsplit(cmd->args, ",", -1);
    GList *members = json_object_get_members(args);
    bool ok = true;

    for (GList *l = members; l && ok; l = l->next) {
        const char *name = l->data;
        char type = 'j';
        bool optional, rest;

        if (!spec_find(cmd->args, name, &type, &optional, &rest)) {
            if (!rest) {
                error_setg(errp, "Parameter '%s' is unexpected", name);
                ok = false;
            }
        } else if (!json_node_has_type(json_object_get_member(args, name), type)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: %s", name,
                       json_type_name(type));
            ok = false;
        }
    }
    for (int i = 0; items[i] && ok; i++) {
        const char *colon = strchr(items[i], ':');
        char *name;

        if (!colon || colon[2] == '?') {
            continue;
        }
        name = g_strndup(items[i], colon - items[i]);
        if (!json_object_has_member(args, name)) {
            error_setg(errp, "Parameter '%s' is missing", name);
            ok = false;
        }
        g_free(name);
    }
    g_list_free(members);
    g_strfreev(items);
    return ok;
}

/* ---- machine and CPUs ---- */

static Machine *machine_or_error(Error **errp)
{
    if (!current_machine) {
        error_setg(errp, "No machine");
    }
    return current_machine;
}

static CPUState *monitor_cpu(Monitor *mon, int64_t index, Error **errp)
{
    Machine *m = machine_or_error(errp);

    if (!m) {
        return NULL;
    }
    if (index < 0 || index >= (int64_t)m->smp || !m->cpus || !m->cpus[index]) {
        error_setg(errp, "Invalid CPU index %" PRId64, index);
        return NULL;
    }
    return m->cpus[index];
}

/* The host thread id of a vCPU, found by the name its thread was given ("CPU 0/tcg"). */
static int64_t cpu_thread_id(CPUState *cpu)
{
    char want[32];
    DIR *dir = opendir("/proc/self/task");
    struct dirent *de;
    int64_t tid = 0;

    if (!dir) {
        return 0;
    }
    snprintf(want, sizeof(want), "CPU %d/%s", cpu->index,
             cpu->machine && cpu->machine->accel ? cpu->machine->accel->name : "");
    want[15] = '\0';
    while (!tid && (de = readdir(dir))) {
        char path[300], comm[32] = "";
        FILE *f;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
        f = fopen(path, "r");
        if (!f) {
            continue;
        }
        if (fgets(comm, sizeof(comm), f)) {
            comm[strcspn(comm, "\n")] = '\0';
            if (!strcmp(comm, want)) {
                tid = strtoll(de->d_name, NULL, 10);
            }
        }
        fclose(f);
    }
    closedir(dir);
    return tid;
}

/* ---- QMP handlers ---- */

static JsonNode *qmp_capabilities(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonNode *enable = json_object_get_member(args, "enable");

    if (enable) {
        if (!JSON_NODE_HOLDS_ARRAY(enable)) {
            error_setg(errp, "Invalid parameter type for 'enable', expected: array");
            return NULL;
        }
        for (guint i = 0; i < json_array_get_length(json_node_get_array(enable)); i++) {
            JsonNode *cap = json_array_get_element(json_node_get_array(enable), i);
            const char *name = JSON_NODE_HOLDS_VALUE(cap) &&
                               json_node_get_value_type(cap) == G_TYPE_STRING
                               ? json_node_get_string(cap) : NULL;

            if (!name) {
                error_setg(errp, "Invalid parameter type for 'enable', expected: string");
                return NULL;
            }
            error_setg(errp, "Capability '%s' not available", name);
            return NULL;
        }
    }
    mon->negotiated = true;
    return node_empty();
}

static JsonObject *version_object(void)
{
    JsonObject *v = json_object_new();
    JsonObject *q = json_object_new();

    json_object_set_int_member(q, "micro", QMP_VERSION_MICRO);
    json_object_set_int_member(q, "minor", QMP_VERSION_MINOR);
    json_object_set_int_member(q, "major", QMP_VERSION_MAJOR);
    json_object_set_object_member(v, "qemu", q);
    json_object_set_string_member(v, "package", QMP_PACKAGE);
    return v;
}

static JsonNode *qmp_query_version(Monitor *mon, JsonObject *args, Error **errp)
{
    return node_object(version_object());
}

static void hmp_print_version(Monitor *mon, JsonNode *r)
{
    monitor_printf(mon, "%d.%d.%d (%s)\n", QMP_VERSION_MAJOR, QMP_VERSION_MINOR,
                   QMP_VERSION_MICRO, QMP_PACKAGE);
}

static JsonNode *qmp_query_commands(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonArray *a = json_array_new();

    for (const MonitorCommand *cmd = monitor_commands; cmd->handler; cmd++) {
        if (cmd->name) {
            JsonObject *o = json_object_new();

            json_object_set_string_member(o, "name", cmd->name);
            json_array_add_object_element(a, o);
        }
    }
    return node_array(a);
}

static JsonNode *qmp_query_status(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "status", runstate_name(runstate_get()));
    json_object_set_boolean_member(o, "singlestep", false);
    json_object_set_boolean_member(o, "running", runstate_is_running());
    return node_object(o);
}

static void hmp_print_status(Monitor *mon, JsonNode *r)
{
    JsonObject *o = json_node_get_object(r);
    const char *status = json_object_get_string_member(o, "status");

    if (json_object_get_boolean_member(o, "running")) {
        monitor_printf(mon, "VM status: running\n");
    } else if (!strcmp(status, "paused")) {
        monitor_printf(mon, "VM status: paused\n");
    } else {
        monitor_printf(mon, "VM status: paused (%s)\n", status);
    }
}

static JsonNode *qmp_stop(Monitor *mon, JsonObject *args, Error **errp)
{
    if (runstate_is_running()) {
        vm_stop(RUN_STATE_PAUSED);
    }
    return node_empty();
}

static bool runstate_needs_reset(void)
{
    RunState s = runstate_get();

    return s == RUN_STATE_SHUTDOWN || s == RUN_STATE_INTERNAL_ERROR ||
           s == RUN_STATE_GUEST_PANICKED;
}

static JsonNode *qmp_cont(Monitor *mon, JsonObject *args, Error **errp)
{
    if (runstate_needs_reset()) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return NULL;
    }
    vm_start();
    return node_empty();
}

static JsonNode *qmp_system_reset(Monitor *mon, JsonObject *args, Error **errp)
{
    machine_request_reset(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    return node_empty();
}

static JsonNode *qmp_system_powerdown(Monitor *mon, JsonObject *args, Error **errp)
{
    machine_request_powerdown();
    return node_empty();
}

static JsonNode *qmp_quit(Monitor *mon, JsonObject *args, Error **errp)
{
    machine_request_shutdown(SHUTDOWN_CAUSE_HOST_QMP_QUIT, 0);
    return node_empty();
}

static JsonNode *qmp_query_cpus_fast(Monitor *mon, JsonObject *args, Error **errp)
{
    Machine *m = machine_or_error(errp);
    JsonArray *a;

    if (!m) {
        return NULL;
    }
    a = json_array_new();
    for (unsigned i = 0; m->cpus && i < m->smp; i++) {
        CPUState *cpu = m->cpus[i];
        JsonObject *o, *props;
        char *path;

        if (!cpu) {
            continue;
        }
        o = json_object_new();
        props = json_object_new();
        path = object_get_path(OBJECT(cpu));
        json_object_set_int_member(o, "thread-id", cpu_thread_id(cpu));
        json_object_set_int_member(props, "core-id", cpu->index);
        json_object_set_object_member(o, "props", props);
        json_object_set_string_member(o, "qom-path", path);
        json_object_set_int_member(o, "cpu-index", cpu->index);
        json_object_set_string_member(o, "target", cpu->ops->arch);
        json_array_add_object_element(a, o);
        g_free(path);
    }
    return node_array(a);
}

static void hmp_print_cpus(Monitor *mon, JsonNode *r)
{
    JsonArray *a = json_node_get_array(r);

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        int64_t idx = json_object_get_int_member(o, "cpu-index");

        monitor_printf(mon, "%c CPU #%" PRId64 ": thread_id=%" PRId64 "\n",
                       idx == mon->cpu_index ? '*' : ' ', idx,
                       json_object_get_int_member(o, "thread-id"));
    }
}

static JsonNode *qmp_query_machines(Monitor *mon, JsonObject *args, Error **errp)
{
    GPtrArray *list = machine_class_list();
    const MachineClass *def = machine_class_default();
    JsonArray *a = json_array_new();

    for (guint i = 0; i < list->len; i++) {
        const MachineClass *mc = g_ptr_array_index(list, i);
        JsonObject *o = json_object_new();

        json_object_set_boolean_member(o, "hotpluggable-cpus", false);
        json_object_set_string_member(o, "name", mc->name);
        json_object_set_boolean_member(o, "numa-mem-supported", false);
        if (mc == def) {
            json_object_set_boolean_member(o, "is-default", true);
        }
        json_object_set_int_member(o, "cpu-max", mc->max_cpus);
        json_object_set_boolean_member(o, "deprecated", false);
        json_array_add_object_element(a, o);
    }
    g_ptr_array_free(list, TRUE);
    return node_array(a);
}

static JsonNode *qmp_query_target(Monitor *mon, JsonObject *args, Error **errp)
{
    Machine *m = machine_or_error(errp);
    JsonObject *o;

    if (!m) {
        return NULL;
    }
    o = json_object_new();
    json_object_set_string_member(o, "arch", m->cpus && m->cpus[0] ? m->cpus[0]->ops->arch
                                                                   : "unknown");
    return node_object(o);
}

static JsonNode *qmp_query_kvm(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    Machine *m = current_machine;
    bool enabled = m && m->accel && !strcmp(m->accel->name, "kvm");

    json_object_set_boolean_member(o, "enabled", enabled);
    json_object_set_boolean_member(o, "present",
                                   accel_find("kvm") && access("/dev/kvm", R_OK | W_OK) == 0);
    return node_object(o);
}

static void hmp_print_kvm(Monitor *mon, JsonNode *r)
{
    JsonObject *o = json_node_get_object(r);

    if (!accel_find("kvm")) {
        monitor_printf(mon, "kvm support: not compiled\n");
    } else {
        monitor_printf(mon, "kvm support: %s\n",
                       json_object_get_boolean_member(o, "enabled") ? "enabled" : "disabled");
    }
}

static JsonNode *qmp_query_name(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();

    if (current_machine && current_machine->name) {
        json_object_set_string_member(o, "name", current_machine->name);
    }
    return node_object(o);
}

static void hmp_print_name(Monitor *mon, JsonNode *r)
{
    JsonObject *o = json_node_get_object(r);

    if (json_object_has_member(o, "name")) {
        monitor_printf(mon, "%s\n", json_object_get_string_member(o, "name"));
    }
}

static JsonNode *qmp_query_uuid(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();

    /* Vessel has no -uuid option: the null UUID, as QEMU reports without one. */
    json_object_set_string_member(o, "UUID", "00000000-0000-0000-0000-000000000000");
    return node_object(o);
}

static void hmp_print_uuid(Monitor *mon, JsonNode *r)
{
    monitor_printf(mon, "%s\n", json_object_get_string_member(json_node_get_object(r), "UUID"));
}

static JsonNode *qmp_query_memory_size_summary(Monitor *mon, JsonObject *args, Error **errp)
{
    Machine *m = machine_or_error(errp);
    JsonObject *o;

    if (!m) {
        return NULL;
    }
    o = json_object_new();
    json_object_set_int_member(o, "base-memory", (int64_t)m->ram_size);
    return node_object(o);
}

static void hmp_print_memory_size_summary(Monitor *mon, JsonNode *r)
{
    monitor_printf(mon, "base memory: %" PRId64 "\n",
                   json_object_get_int_member(json_node_get_object(r), "base-memory"));
}

/* ---- chardevs ---- */

static void chardev_add_entry(const char *label, const char *filename, bool open,
                              JsonArray *a)
{
    JsonObject *o = json_object_new();

    json_object_set_boolean_member(o, "frontend-open", open);
    json_object_set_string_member(o, "filename", filename);
    json_object_set_string_member(o, "label", label);
    json_array_add_object_element(a, o);
}

static void chardev_add_one(Chardev *chr, void *opaque)
{
    chardev_add_entry(chardev_id(chr), chardev_filename(chr), chr_is_connected(chr), opaque);
}

static void chardev_add_listener(const char *label, const char *filename, void *opaque)
{
    chardev_add_entry(label, filename, true, opaque);
}

static JsonNode *qmp_query_chardev(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonArray *a = json_array_new();

    chardev_foreach(chardev_add_one, a);
    monitor_foreach_listener(chardev_add_listener, a);
    return node_array(a);
}

static void hmp_print_chardev(Monitor *mon, JsonNode *r)
{
    JsonArray *a = json_node_get_array(r);

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        monitor_printf(mon, "%s: filename=%s\n", json_object_get_string_member(o, "label"),
                       json_object_get_string_member(o, "filename"));
    }
}

/* ---- block ---- */

static void block_add_info(BlockBackend *blk, void *opaque)
{
    JsonObject *o = json_object_new();
    JsonObject *ins = json_object_new();
    JsonObject *img = json_object_new();
    JsonObject *cache = json_object_new();
    BlockInfo bi = { 0 };

    blk_get_info(blk, &bi);
    json_object_set_string_member(o, "device", bi.device ? bi.device : "");
    json_object_set_boolean_member(o, "locked", false);
    json_object_set_boolean_member(o, "removable", false);
    json_object_set_string_member(o, "type", "unknown");
    json_object_set_boolean_member(ins, "ro", bi.read_only);
    json_object_set_string_member(ins, "drv", bi.format ? bi.format : "");
    json_object_set_boolean_member(ins, "encrypted", bi.encrypted);
    json_object_set_string_member(ins, "file", bi.filename ? bi.filename : "");
    if (bi.node_name) {
        json_object_set_string_member(ins, "node-name", bi.node_name);
    }
    if (bi.backing_file) {
        json_object_set_string_member(ins, "backing_file", bi.backing_file);
    }
    json_object_set_int_member(ins, "backing_file_depth", bi.backing_file ? 1 : 0);
    json_object_set_string_member(ins, "detect_zeroes", "off");
    json_object_set_boolean_member(cache, "writeback", blk_enable_write_cache(blk));
    json_object_set_boolean_member(cache, "direct", bi.cache_mode &&
                                   (!strcmp(bi.cache_mode, "none") ||
                                    !strcmp(bi.cache_mode, "directsync")));
    json_object_set_boolean_member(cache, "no-flush", false);
    json_object_set_object_member(ins, "cache", cache);
    json_object_set_string_member(img, "filename", bi.filename ? bi.filename : "");
    json_object_set_string_member(img, "format", bi.format ? bi.format : "");
    json_object_set_int_member(img, "virtual-size", bi.virtual_size);
    if (bi.backing_file) {
        json_object_set_string_member(img, "backing-filename", bi.backing_file);
    }
    json_object_set_object_member(ins, "image", img);
    json_object_set_object_member(o, "inserted", ins);
    json_array_add_object_element(opaque, o);
}

static JsonNode *qmp_query_block(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonArray *a = json_array_new();

    blk_foreach(block_add_info, a);
    return node_array(a);
}

static void hmp_print_block(Monitor *mon, JsonNode *r)
{
    JsonArray *a = json_node_get_array(r);

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        JsonObject *ins = json_object_get_object_member(o, "inserted");
        JsonObject *cache = json_object_get_object_member(ins, "cache");
        bool wb = json_object_get_boolean_member(cache, "writeback");
        bool direct = json_object_get_boolean_member(cache, "direct");

        if (i) {
            monitor_printf(mon, "\n");
        }
        monitor_printf(mon, "%s", json_object_get_string_member(o, "device"));
        if (json_object_has_member(ins, "node-name")) {
            monitor_printf(mon, " (%s)", json_object_get_string_member(ins, "node-name"));
        }
        monitor_printf(mon, ": %s (%s%s)\n", json_object_get_string_member(ins, "file"),
                       json_object_get_string_member(ins, "drv"),
                       json_object_get_boolean_member(ins, "ro") ? ", read-only" : "");
        monitor_printf(mon, "    Cache mode:       %s%s\n",
                       wb ? "writeback" : "writethrough", direct ? ", direct" : "");
        if (json_object_has_member(ins, "backing_file")) {
            monitor_printf(mon, "    Backing file:     %s (chain depth: %" PRId64 ")\n",
                           json_object_get_string_member(ins, "backing_file"),
                           json_object_get_int_member(ins, "backing_file_depth"));
        }
    }
}

static void block_add_stats(BlockBackend *blk, void *opaque)
{
    const BlockAcctStats *st = blk_get_stats(blk);
    JsonObject *o = json_object_new();
    JsonObject *s = json_object_new();
    BlockInfo bi = { 0 };

    blk_get_info(blk, &bi);
    json_object_set_string_member(o, "device", bi.device ? bi.device : "");
    if (bi.node_name) {
        json_object_set_string_member(o, "node-name", bi.node_name);
    }
    json_object_set_int_member(s, "rd_bytes", st->rd_bytes);
    json_object_set_int_member(s, "wr_bytes", st->wr_bytes);
    json_object_set_int_member(s, "unmap_bytes", st->discard_bytes);
    json_object_set_int_member(s, "rd_operations", st->rd_operations);
    json_object_set_int_member(s, "wr_operations", st->wr_operations);
    json_object_set_int_member(s, "flush_operations", st->flush_operations);
    json_object_set_int_member(s, "unmap_operations", st->discard_operations);
    json_object_set_int_member(s, "rd_total_time_ns", st->rd_total_time_ns);
    json_object_set_int_member(s, "wr_total_time_ns", st->wr_total_time_ns);
    json_object_set_int_member(s, "flush_total_time_ns", st->flush_total_time_ns);
    json_object_set_int_member(s, "unmap_total_time_ns", 0);
    json_object_set_int_member(s, "wr_highest_offset", 0);
    json_object_set_int_member(s, "rd_merged", 0);
    json_object_set_int_member(s, "wr_merged", 0);
    json_object_set_int_member(s, "unmap_merged", 0);
    json_object_set_int_member(s, "failed_rd_operations", st->failed_rd_operations);
    json_object_set_int_member(s, "failed_wr_operations", st->failed_wr_operations);
    json_object_set_int_member(s, "failed_flush_operations", st->failed_flush_operations);
    json_object_set_int_member(s, "failed_unmap_operations", 0);
    json_object_set_int_member(s, "invalid_rd_operations", 0);
    json_object_set_int_member(s, "invalid_wr_operations", 0);
    json_object_set_int_member(s, "invalid_flush_operations", 0);
    json_object_set_int_member(s, "invalid_unmap_operations", 0);
    if (st->idle_time_ns >= 0) {
        json_object_set_int_member(s, "idle_time_ns", st->idle_time_ns);
    }
    json_object_set_boolean_member(s, "account_invalid", true);
    json_object_set_boolean_member(s, "account_failed", true);
    json_object_set_array_member(s, "timed_stats", json_array_new());
    json_object_set_object_member(o, "stats", s);
    json_array_add_object_element(opaque, o);
}

static JsonNode *qmp_query_blockstats(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonArray *a = json_array_new();

    blk_foreach(block_add_stats, a);
    return node_array(a);
}

static void hmp_print_blockstats(Monitor *mon, JsonNode *r)
{
    static const char *const keys[] = {
        "rd_bytes", "wr_bytes", "rd_operations", "wr_operations", "flush_operations",
        "wr_total_time_ns", "rd_total_time_ns", "flush_total_time_ns", "rd_merged",
        "wr_merged", "idle_time_ns", NULL
    };
    JsonArray *a = json_node_get_array(r);

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        JsonObject *s = json_object_get_object_member(o, "stats");
        const char *dev = json_object_get_string_member(o, "device");

        monitor_printf(mon, "%s:", dev[0] || !json_object_has_member(o, "node-name") ? dev
                       : json_object_get_string_member(o, "node-name"));
        for (int k = 0; keys[k]; k++) {
            monitor_printf(mon, " %s=%" PRId64, keys[k],
                           json_object_has_member(s, keys[k])
                           ? json_object_get_int_member(s, keys[k]) : 0);
        }
        monitor_printf(mon, "\n");
    }
}

/* ---- QOM ---- */

static Object *qom_resolve(const char *path, Error **errp)
{
    Object *obj = object_resolve_path(path);

    if (!obj) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", path);
    }
    return obj;
}

/* The QAPI spelling of a property type. */
static const char *qom_type_name(const Property *prop)
{
    return !strcmp(prop->info->type_name, "str") ? "string" : prop->info->type_name;
}

static void qom_list_prop(Object *obj, const Property *prop, void *opaque)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "name", prop->name);
    json_object_set_string_member(o, "type", qom_type_name(prop));
    json_array_add_object_element(opaque, o);
}

static JsonNode *qmp_qom_list(Monitor *mon, JsonObject *args, Error **errp)
{
    Object *obj = qom_resolve(monitor_arg_str(args, "path", ""), errp);
    JsonArray *a;
    JsonObject *o;

    if (!obj) {
        return NULL;
    }
    a = json_array_new();
    o = json_object_new();
    json_object_set_string_member(o, "name", "type");
    json_object_set_string_member(o, "type", "string");
    json_array_add_object_element(a, o);
    object_foreach_property(obj, qom_list_prop, a);
    for (guint i = 0; obj->children && i < obj->children->len; i++) {
        Object *child = g_ptr_array_index(obj->children, i);
        char *type = g_strdup_printf("child<%s>", child->cls->name);

        o = json_object_new();
        json_object_set_string_member(o, "name", child->name);
        json_object_set_string_member(o, "type", type);
        json_array_add_object_element(a, o);
        g_free(type);
    }
    return node_array(a);
}

static void hmp_print_qom_list(Monitor *mon, JsonNode *r)
{
    JsonArray *a = json_node_get_array(r);

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        monitor_printf(mon, "%s (%s)\n", json_object_get_string_member(o, "name"),
                       json_object_get_string_member(o, "type"));
    }
}

static bool prop_is_bool(const Property *prop)
{
    return !strcmp(prop->info->type_name, "bool");
}

static bool prop_is_int(const Property *prop)
{
    const char *t = prop->info->type_name;

    return g_str_has_prefix(t, "uint") || g_str_has_prefix(t, "int") || !strcmp(t, "size");
}

static JsonNode *qmp_qom_get(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *name = monitor_arg_str(args, "property", "");
    Object *obj = qom_resolve(monitor_arg_str(args, "path", ""), errp);
    const Property *prop;
    JsonNode *n;
    char *text;

    if (!obj) {
        return NULL;
    }
    if (!strcmp(name, "type")) {
        return node_string_take(g_strdup(obj->cls->name));
    }
    prop = object_find_property(obj, name);
    if (!prop) {
        Object *child = object_child(obj, name);

        if (child) {
            return node_string_take(object_get_path(child));
        }
        error_setg(errp, "Property '%s.%s' not found", obj->cls->name, name);
        return NULL;
    }
    text = object_property_get_str(obj, name, errp);
    if (!text) {
        return NULL;
    }
    if (prop->info->json) {
        n = json_from_string(text, NULL);
        if (!n) {
            error_setg(errp, "Property '%s.%s' has no valid value", obj->cls->name, name);
        }
        g_free(text);
        return n;
    }
    n = json_node_new(JSON_NODE_VALUE);
    if (prop_is_bool(prop)) {
        json_node_set_boolean(n, !strcmp(text, "true") || !strcmp(text, "on"));
    } else if (prop_is_int(prop)) {
        json_node_set_int(n, g_ascii_strtoll(text, NULL, 0));
        if (g_str_has_prefix(prop->info->type_name, "uint") ||
            !strcmp(prop->info->type_name, "size")) {
            json_node_set_int(n, (int64_t)g_ascii_strtoull(text, NULL, 0));
        }
    } else {
        json_node_set_string(n, text);
    }
    g_free(text);
    return n;
}

static void hmp_print_json(Monitor *mon, JsonNode *r)
{
    char *text = json_to_string(r, TRUE);

    monitor_printf(mon, "%s\n", text);
    g_free(text);
}

static JsonNode *qmp_qom_set(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *name = monitor_arg_str(args, "property", "");
    Object *obj = qom_resolve(monitor_arg_str(args, "path", ""), errp);
    JsonNode *value = json_object_get_member(args, "value");
    const Property *prop;
    GType t = JSON_NODE_HOLDS_VALUE(value) ? json_node_get_value_type(value) : G_TYPE_NONE;
    char *text;
    bool ok;

    if (!obj) {
        return NULL;
    }
    prop = object_find_property(obj, name);
    if (!prop) {
        error_setg(errp, "Property '%s.%s' not found", obj->cls->name, name);
        return NULL;
    }
    if (t == G_TYPE_STRING && (mon->qmp == false || (!prop_is_bool(prop) &&
                                                     !prop_is_int(prop)))) {
        /* HMP passes words: the property parses them as -device would. */
        text = g_strdup(json_node_get_string(value));
    } else if (t == G_TYPE_BOOLEAN && prop_is_bool(prop)) {
        text = g_strdup(json_node_get_boolean(value) ? "on" : "off");
    } else if (t == G_TYPE_INT64 && prop_is_int(prop)) {
        text = g_strdup_printf("%" PRId64, json_node_get_int(value));
    } else {
        error_setg(errp, "Invalid parameter type for '%s', expected: %s", name,
                   prop_is_bool(prop) ? "boolean" : prop_is_int(prop) ? "integer" : "string");
        return NULL;
    }
    ok = object_property_set_str(obj, name, text, errp);
    g_free(text);
    return ok ? node_empty() : NULL;
}

/* ---- devices ---- */

typedef struct OptBuilder {
    GString *s;
    Error **errp;
    bool failed;
} OptBuilder;

/* Appends ",key=value" with commas doubled as -device syntax needs. */
static void opt_append(GString *s, const char *key, const char *value)
{
    g_string_append_printf(s, ",%s=", key);
    for (const char *p = value; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ',');
        }
    }
}

static void opt_member(JsonObject *o, const gchar *key, JsonNode *n, gpointer opaque)
{
    OptBuilder *b = opaque;
    GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_NONE;
    char *text;

    if (b->failed || !strcmp(key, "driver")) {
        return;
    }
    if (t == G_TYPE_STRING) {
        text = g_strdup(json_node_get_string(n));
    } else if (t == G_TYPE_INT64) {
        text = g_strdup_printf("%" PRId64, json_node_get_int(n));
    } else if (t == G_TYPE_BOOLEAN) {
        text = g_strdup(json_node_get_boolean(n) ? "on" : "off");
    } else {
        error_setg(b->errp, "Invalid parameter type for '%s', expected: string", key);
        b->failed = true;
        return;
    }
    opt_append(b->s, key, text);
    g_free(text);
}

static JsonNode *qmp_device_add(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *driver = monitor_arg_str(args, "driver", "");
    OptBuilder b = { .errp = errp };
    Object *dev;

    /* HMP hands over the whole -device string; QMP names one driver. */
    if ((mon->qmp && strchr(driver, ',')) || !driver[0] || !strcmp(driver, "help") ||
        g_str_has_prefix(driver, "help,")) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    b.s = g_string_new(driver);
    json_object_foreach_member(args, opt_member, &b);
    if (b.failed) {
        g_string_free(b.s, TRUE);
        return NULL;
    }
    dev = device_create(b.s->str, errp);
    g_string_free(b.s, TRUE);
    return dev ? node_empty() : NULL;
}

static JsonNode *qmp_device_del(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *id = monitor_arg_str(args, "id", "");
    char *path = g_strdup_printf("/machine/peripheral/%s", id);
    Object *dev = object_resolve_path(path);
    JsonObject *data;

    if (!dev) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        g_free(path);
        return NULL;
    }
    if (!device_delete(id, errp)) {
        g_free(path);
        return NULL;
    }
    /* Unplug is synchronous on Vessel's buses: the device is gone now. */
    data = json_object_new();
    json_object_set_string_member(data, "device", id);
    json_object_set_string_member(data, "path", path);
    monitor_emit_event("DEVICE_DELETED", data);
    g_free(path);
    return node_empty();
}

/* ---- memory ---- */

typedef struct MemRead {
    CPUState *cpu;          /* NULL: physical */
    uint64_t addr;
    uint8_t *buf;
    uint64_t len;
    bool ok;
} MemRead;

/* Reads guest memory through the CPU's page tables (page by page) or physically. */
static void mem_read_locked(void *opaque)
{
    MemRead *r = opaque;
    AddressSpace *as = r->cpu ? r->cpu->as : &address_space_memory;
    uint64_t done = 0;

    if (r->cpu && r->cpu->machine && r->cpu->machine->accel &&
        r->cpu->machine->accel->sync_regs) {
        r->cpu->machine->accel->sync_regs(r->cpu);
    }
    r->ok = true;
    while (done < r->len) {
        uint64_t va = r->addr + done;
        uint64_t n = r->len - done;
        uint64_t pa = va;

        if (r->cpu) {
            int64_t t = r->cpu->ops->debug_translate(r->cpu, va & ~(uint64_t)4095);

            if (t < 0) {
                r->ok = false;
                return;
            }
            pa = (uint64_t)t + (va & 4095);
            n = MIN(n, 4096 - (va & 4095));
        }
        if (address_space_read(as, pa, r->buf + done, n) != MEMTX_OK) {
            r->ok = false;
            return;
        }
        done += n;
    }
}

static bool mem_read(CPUState *cpu, uint64_t addr, uint8_t *buf, uint64_t len)
{
    MemRead r = { cpu, addr, buf, len, false };

    if (len && addr + len - 1 < addr) {
        return false;
    }
    monitor_with_cpus_paused(mem_read_locked, &r);
    return r.ok;
}

/* memsave / pmemsave: writes [val, val+size) to filename. */
static JsonNode *mem_save(Monitor *mon, JsonObject *args, bool virt, Error **errp)
{
    uint64_t addr = (uint64_t)monitor_arg_int(args, "val", 0);
    int64_t size = monitor_arg_int(args, "size", 0);
    const char *filename = monitor_arg_str(args, "filename", "");
    CPUState *cpu = NULL;
    uint8_t *buf;
    FILE *f;
    bool ok = true;

    if (virt) {
        cpu = monitor_cpu(mon, monitor_arg_int(args, "cpu-index", mon->cpu_index), errp);
        if (!cpu) {
            return NULL;
        }
    }
    if (size < 0 || (size && addr + (uint64_t)size - 1 < addr)) {
        error_setg(errp, "Invalid addr 0x%016" PRIx64 "/size %" PRId64 " specified", addr,
                   size);
        return NULL;
    }
    f = fopen(filename, "wb");
    if (!f) {
        error_setg_errno(errp, errno, "Could not open '%s'", filename);
        return NULL;
    }
    buf = g_malloc(SAVE_CHUNK);
    for (int64_t done = 0; done < size && ok; done += SAVE_CHUNK) {
        uint64_t n = MIN((uint64_t)(size - done), SAVE_CHUNK);

        if (!mem_read(cpu, addr + done, buf, n)) {
            error_setg(errp, "Invalid addr 0x%016" PRIx64 "/size %" PRId64 " specified",
                       addr, size);
            ok = false;
        } else if (fwrite(buf, 1, n, f) != n) {
            error_setg_errno(errp, errno, "writing memory to '%s'", filename);
            ok = false;
        }
    }
    g_free(buf);
    if (fclose(f) != 0 && ok) {
        error_setg_errno(errp, errno, "writing memory to '%s'", filename);
        ok = false;
    }
    return ok ? node_empty() : NULL;
}

static JsonNode *qmp_memsave(Monitor *mon, JsonObject *args, Error **errp)
{
    return mem_save(mon, args, true, errp);
}

static JsonNode *qmp_pmemsave(Monitor *mon, JsonObject *args, Error **errp)
{
    return mem_save(mon, args, false, errp);
}

/* x and xp: "/[count][format][size] addr" as QEMU's memory_dump. */
static JsonNode *hmp_dump(Monitor *mon, JsonObject *args, bool virt, Error **errp)
{
    const char *fmt = monitor_arg_str(args, "fmt", "");
    uint64_t addr = (uint64_t)monitor_arg_int(args, "addr", 0);
    char format = mon->last_format;
    int size = mon->last_size, count = 1, max_digits = 0;
    bool size_given = false;
    const char *p = fmt;
    CPUState *cpu = NULL;
    GString *out;
    uint64_t len;
    uint8_t *buf;

    if (g_ascii_isdigit(*p)) {
        char *end;
        unsigned long n = strtoul(p, &end, 10);

        count = (int)MIN(n, (unsigned long)HMP_DUMP_MAX + 1);
        p = end;
    }
    for (; *p; p++) {
        switch (*p) {
        case 'x': case 'd': case 'u': case 'o': case 'c':
            format = *p;
            break;
        case 'i':
            error_setg(errp, "format 'i' (disassembly) is not supported");
            return NULL;
        case 'b':
            size = 1, size_given = true;
            break;
        case 'h':
            size = 2, size_given = true;
            break;
        case 'w':
            size = 4, size_given = true;
            break;
        case 'g':
            size = 8, size_given = true;
            break;
        default:
            error_setg(errp, "invalid char in format: '%c'", *p);
            return NULL;
        }
    }
    if (format == 'c') {
        size = 1;
    } else if (!size_given && mon->last_format == 'c') {
        size = 4;
    }
    mon->last_format = format;
    mon->last_size = size;
    len = (uint64_t)count * size;
    if (len > HMP_DUMP_MAX) {
        error_setg(errp, "at most %d bytes can be dumped at once", HMP_DUMP_MAX);
        return NULL;
    }
    if (virt) {
        cpu = monitor_cpu(mon, mon->cpu_index, errp);
        if (!cpu) {
            return NULL;
        }
    }
    switch (format) {
    case 'o':
        max_digits = (size * 8 + 2) / 3;
        break;
    case 'x':
        max_digits = size * 2;
        break;
    case 'u':
    case 'd':
        max_digits = (size * 8 * 10 + 32) / 33;
        break;
    }
    out = g_string_new(NULL);
    buf = g_malloc(16);
    while (len > 0) {
        uint64_t l = MIN(len, (uint64_t)(size == 1 ? 8 : 16));

        g_string_append_printf(out, "%016" PRIx64 ":", addr);
        if (!mem_read(cpu, addr, buf, l)) {
            g_string_append(out, " Cannot access memory\n");
            break;
        }
        for (uint64_t i = 0; i < l; i += size) {
            uint64_t v = 0;
            int64_t sv;

            memcpy(&v, buf + i, size);   /* little-endian host and guest */
            sv = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
            switch (format) {
            case 'o':
                g_string_append_printf(out, " %#*" PRIo64, max_digits, v);
                break;
            case 'x':
                g_string_append_printf(out, " 0x%0*" PRIx64, max_digits, v);
                break;
            case 'u':
                g_string_append_printf(out, " %*" PRIu64, max_digits, v);
                break;
            case 'd':
                g_string_append_printf(out, " %*" PRId64, max_digits, sv);
                break;
            case 'c':
                if (v >= 0x20 && v < 0x7f && v != '\'' && v != '\\') {
                    g_string_append_printf(out, " '%c'", (int)v);
                } else if (v == '\'' || v == '\\') {
                    g_string_append_printf(out, " '\\%c'", (int)v);
                } else if (v == '\n') {
                    g_string_append(out, " '\\n'");
                } else if (v == '\r') {
                    g_string_append(out, " '\\r'");
                } else {
                    g_string_append_printf(out, " '\\x%02x'", (unsigned)v);
                }
                break;
            }
        }
        g_string_append_c(out, '\n');
        addr += l;
        len -= l;
    }
    g_free(buf);
    return node_string_take(g_string_free(out, FALSE));
}

static JsonNode *hmp_x(Monitor *mon, JsonObject *args, Error **errp)
{
    return hmp_dump(mon, args, true, errp);
}

static JsonNode *hmp_xp(Monitor *mon, JsonObject *args, Error **errp)
{
    return hmp_dump(mon, args, false, errp);
}

/* ---- HMP-only inspection ---- */

typedef struct RegDump {
    Machine *m;
    int first, last;
    GString *out;
} RegDump;

static void regs_dump_locked(void *opaque)
{
    RegDump *d = opaque;

    for (int i = d->first; i <= d->last; i++) {
        CPUState *cpu = d->m->cpus[i];

        if (d->m->accel && d->m->accel->sync_regs) {
            d->m->accel->sync_regs(cpu);
        }
        if (d->first != d->last) {
            g_string_append_printf(d->out, "\nCPU#%d\n", i);
        }
        cpu->ops->dump_state(cpu, d->out);
    }
}

static JsonNode *hmp_info_registers(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *which = monitor_arg_str(args, "cpu", NULL);
    RegDump d = { .m = machine_or_error(errp) };
    uint64_t idx = mon->cpu_index;

    if (!d.m) {
        return NULL;
    }
    if (which && !strcmp(which, "-a")) {
        d.first = 0;
        d.last = (int)d.m->smp - 1;
    } else {
        if (which && (!parse_uint64(which, &idx, NULL) || idx > INT32_MAX)) {
            error_setg(errp, "invalid vcpu '%s' (a CPU index or -a)", which);
            return NULL;
        }
        if (!monitor_cpu(mon, (int64_t)idx, errp)) {
            return NULL;
        }
        d.first = d.last = (int)idx;
    }
    d.out = g_string_new(NULL);
    monitor_with_cpus_paused(regs_dump_locked, &d);
    return node_string_take(g_string_free(d.out, FALSE));
}

static JsonNode *hmp_cpu(Monitor *mon, JsonObject *args, Error **errp)
{
    int64_t idx = monitor_arg_int(args, "index", 0);

    if (!monitor_cpu(mon, idx, errp)) {
        return NULL;
    }
    mon->cpu_index = (int)idx;
    return node_empty();
}

static JsonNode *hmp_info_mtree(Monitor *mon, JsonObject *args, Error **errp)
{
    GString *out = g_string_new(NULL);

    memory_print_mtree(out);
    return node_string_take(g_string_free(out, FALSE));
}

static gint object_name_cmp(gconstpointer a, gconstpointer b)
{
    const Object *x = *(Object *const *)a, *y = *(Object *const *)b;

    return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Children sorted by name (g_ptr_array_free the result). */
static GPtrArray *object_sorted_children(Object *obj)
{
    GPtrArray *a = g_ptr_array_new();

    for (guint i = 0; obj->children && i < obj->children->len; i++) {
        g_ptr_array_add(a, g_ptr_array_index(obj->children, i));
    }
    g_ptr_array_sort(a, object_name_cmp);
    return a;
}

static void qom_tree_print(GString *out, Object *obj, int indent, int depth)
{
    GPtrArray *kids;

    if (depth > 64) {
        return;
    }
    kids = object_sorted_children(obj);
    for (guint i = 0; i < kids->len; i++) {
        Object *child = g_ptr_array_index(kids, i);

        g_string_append_printf(out, "%*s/%s (%s)\n", indent, "", child->name,
                               child->cls->name);
        qom_tree_print(out, child, indent + 2, depth + 1);
    }
    g_ptr_array_free(kids, TRUE);
}

static JsonNode *hmp_info_qom_tree(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *path = monitor_arg_str(args, "path", "/machine");
    Object *obj = qom_resolve(path, errp);
    GString *out;
    char *abs;

    if (!obj) {
        return NULL;
    }
    out = g_string_new(NULL);
    abs = object_get_path(obj);
    g_string_append_printf(out, "%s (%s)\n", abs, obj->cls->name);
    g_free(abs);
    qom_tree_print(out, obj, 2, 0);
    return node_string_take(g_string_free(out, FALSE));
}

typedef struct QtreeCtx {
    GString *out;
    int indent;
} QtreeCtx;

static void qtree_prop(Object *obj, const Property *prop, void *opaque)
{
    QtreeCtx *q = opaque;
    char *v = prop->info->get ? prop->info->get(obj, prop) : NULL;

    g_string_append_printf(q->out, "%*s%s = %s\n", q->indent, "", prop->name,
                           v ? v : "");
    g_free(v);
}

/* Devices (objects with properties or children) under obj, with their property values. */
static void qtree_print(GString *out, Object *obj, int indent, int depth)
{
    GPtrArray *kids;

    if (depth > 64) {
        return;
    }
    kids = object_sorted_children(obj);
    for (guint i = 0; i < kids->len; i++) {
        Object *child = g_ptr_array_index(kids, i);
        QtreeCtx q = { out, indent + 2 };

        g_string_append_printf(out, "%*sdev: %s, id \"%s\"\n", indent, "", child->cls->name,
                               child->name);
        object_foreach_property(child, qtree_prop, &q);
        qtree_print(out, child, indent + 2, depth + 1);
    }
    g_ptr_array_free(kids, TRUE);
}

static JsonNode *hmp_info_qtree(Monitor *mon, JsonObject *args, Error **errp)
{
    GString *out = g_string_new(NULL);
    Object *m = object_resolve_path("/machine");

    if (m) {
        g_string_append_printf(out, "bus: main-system-bus\n  type System\n");
        qtree_print(out, m, 2, 0);
    }
    return node_string_take(g_string_free(out, FALSE));
}

/* ---- human-monitor-command ---- */

static JsonNode *qmp_human_monitor_command(Monitor *mon, JsonObject *args, Error **errp)
{
    Monitor hmp = { .qmp = false, .last_format = 'x', .last_size = 4 };

    hmp.cpu_index = (int)monitor_arg_int(args, "cpu-index", 0);
    if (monitor_arg_has(args, "cpu-index") && !monitor_cpu(mon, hmp.cpu_index, errp)) {
        return NULL;
    }
    hmp.capture = g_string_new(NULL);
    hmp_execute(&hmp, monitor_arg_str(args, "command-line", ""));
    readline_destroy(&hmp.rl);
    return node_string_take(g_string_free(hmp.capture, FALSE));
}

/* ---- the table ---- */

const MonitorCommand monitor_commands[] = {
    { "qmp_capabilities", NULL, "enable:j?", qmp_capabilities, NULL,
      "-- negotiate QMP capabilities" },
    { "query-version", "info version", "", qmp_query_version, hmp_print_version,
      " -- show the version of QEMU" },
    { "query-commands", NULL, "", qmp_query_commands, NULL, "-- list QMP commands" },
    { "query-status", "info status", "", qmp_query_status, hmp_print_status,
      " -- show the current VM status (running|paused)" },
    { "stop", "stop|s", "", qmp_stop, NULL, " -- stop emulation" },
    { "cont", "cont|c", "", qmp_cont, NULL, " -- resume emulation" },
    { "system_reset", "system_reset", "", qmp_system_reset, NULL, " -- reset the system" },
    { "system_powerdown", "system_powerdown", "", qmp_system_powerdown, NULL,
      " -- send system power down event" },
    { "quit", "quit|q", "", qmp_quit, NULL, " -- quit the emulator" },
    { "query-cpus-fast", "info cpus", "", qmp_query_cpus_fast, hmp_print_cpus,
      " -- show infos for each CPU" },
    { "query-machines", NULL, "", qmp_query_machines, NULL, "-- list machine types" },
    { "query-target", NULL, "", qmp_query_target, NULL, "-- show the target architecture" },
    { "query-kvm", "info kvm", "", qmp_query_kvm, hmp_print_kvm,
      " -- show KVM information" },
    { "query-name", "info name", "", qmp_query_name, hmp_print_name,
      " -- show the current VM name" },
    { "query-uuid", "info uuid", "", qmp_query_uuid, hmp_print_uuid,
      " -- show the current VM UUID" },
    { "query-block", "info block", "", qmp_query_block, hmp_print_block,
      " -- show the block devices" },
    { "query-blockstats", "info blockstats", "", qmp_query_blockstats, hmp_print_blockstats,
      " -- show block device statistics" },
    { "query-chardev", "info chardev", "", qmp_query_chardev, hmp_print_chardev,
      " -- show the character devices" },
    { "query-memory-size-summary", "info memory_size_summary", "",
      qmp_query_memory_size_summary, hmp_print_memory_size_summary,
      " -- show the amount of initially allocated memory in bytes" },
    { "qom-list", "qom-list", "path:s", qmp_qom_list, hmp_print_qom_list,
      "path -- list QOM properties" },
    { "qom-get", "qom-get", "path:s,property:s", qmp_qom_get, hmp_print_json,
      "path property -- print QOM property" },
    { "qom-set", "qom-set", "path:s,property:s,value:j", qmp_qom_set, NULL,
      "path property value -- set QOM property" },
    { "balloon", NULL, "value:i", qmp_balloon, NULL,
      "-- request VM to change its memory allocation" },
    { NULL, "balloon", "value:s", hmp_balloon, NULL,
      "target -- request VM to change its memory allocation (in MB)" },
    { "query-balloon", "info balloon", "", qmp_query_balloon, hmp_print_balloon,
      " -- show balloon information" },
    { "device_add", "device_add", "driver:R,*", qmp_device_add, NULL,
      "driver[,prop=value][,...] -- add device, like -device on the command line" },
    { "device_del", "device_del", "id:s", qmp_device_del, NULL, "device -- remove device" },
    { "memsave", "memsave", "val:i,size:i,filename:s,cpu-index:i?", qmp_memsave, NULL,
      "addr size file -- save to disk virtual memory dump starting at 'addr' of size "
      "'size'" },
    { "pmemsave", "pmemsave", "val:i,size:i,filename:s", qmp_pmemsave, NULL,
      "addr size file -- save to disk physical memory dump starting at 'addr' of size "
      "'size'" },
    { "human-monitor-command", NULL, "command-line:s,cpu-index:i?",
      qmp_human_monitor_command, NULL, "-- run an HMP command" },
    { NULL, "x", "fmt:F?,addr:i", hmp_x, NULL,
      "/fmt addr -- virtual memory dump starting at 'addr'" },
    { NULL, "xp", "fmt:F?,addr:i", hmp_xp, NULL,
      "/fmt addr -- physical memory dump starting at 'addr'" },
    { NULL, "cpu", "index:i", hmp_cpu, NULL, "index -- set the default CPU" },
    { NULL, "info registers", "cpu:s?", hmp_info_registers, NULL,
      "[-a|vcpu] -- show the cpu registers (-a: all CPUs)" },
    { NULL, "info mtree", "", hmp_info_mtree, NULL, " -- show memory tree" },
    { NULL, "info qtree", "", hmp_info_qtree, NULL, " -- show device tree" },
    { NULL, "info qom-tree", "path:s?", hmp_info_qom_tree, NULL,
      "[path] -- show QOM composition tree" },
    { NULL, "info network", "", hmp_info_network, NULL, " -- show the network state" },
    { NULL, "info usernet", "", hmp_info_usernet, NULL, " -- show user network stack connection states" },
    { NULL, "info netstats", "", hmp_info_netstats, NULL, " -- show per-netdev packet counters" },
    { "set_link", "set_link", "name:s,up:b", qmp_set_link, NULL, "name on|off -- change the link status of a network adapter" },
    { NULL, "hostfwd_add", "arg1:s,arg2:s?", hmp_hostfwd_add, NULL, "[netdev_id] [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport -- redirect TCP or UDP connections from host to guest (requires -net user)" },
    { NULL, "hostfwd_remove", "arg1:s,arg2:s?", hmp_hostfwd_remove, NULL, "[netdev_id] [tcp|udp]:[hostaddr]:hostport -- remove host-to-guest TCP or UDP redirection" },
    { "netdev_add", "netdev_add", "type:R,*", qmp_netdev_add, NULL, "[user|tap|socket|stream|dgram],id=str[,prop=value][,...] -- add host network device" },
    { "netdev_del", "netdev_del", "id:s", qmp_netdev_del, NULL, "id -- remove host network device" },
    { "screendump", "screendump", "filename:s,device:s?,head:i?,format:s?", qmp_screendump,
      NULL, "filename [device [head [format]]] -- save screen as an image (ppm or png)" },
    { "set_password", "set_password", "protocol:s,password:s,connected:s?", qmp_set_password,
      NULL, "protocol password [action-if-connected] -- set the VNC password" },
    { "query-vnc", "info vnc", "", qmp_query_vnc, hmp_print_vnc,
      " -- show the vnc server status" },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

const MonitorCommand *monitor_find_qmp(const char *name)
{
    for (const MonitorCommand *cmd = monitor_commands; cmd->handler; cmd++) {
        if (cmd->name && !strcmp(cmd->name, name)) {
            return cmd;
        }
    }
    return NULL;
}

const MonitorCommand *monitor_find_hmp(const char *name)
{
    bool info = g_str_has_prefix(name, "info ");

    for (const MonitorCommand *cmd = monitor_commands; cmd->handler; cmd++) {
        const char *names;
        char **alts;
        bool match = false;

        if (!cmd->hmp || info != g_str_has_prefix(cmd->hmp, "info ")) {
            continue;
        }
        names = cmd->hmp + (info ? 5 : 0);
        alts = g_strsplit(names, "|", -1);
        for (int i = 0; alts[i]; i++) {
            match |= !strcmp(alts[i], name + (info ? 5 : 0));
        }
        g_strfreev(alts);
        if (match) {
            return cmd;
        }
    }
    return NULL;
}
