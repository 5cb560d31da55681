/* Buses and user-created devices: the bus registry, -device / device_add parsing and
 * device_del. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/core/qdev.h"

static GPtrArray *buses;              /* of BusState *, in registration order */
static GHashTable *device_buses;      /* Object * -> BusState * for plugged user devices */
static bool help_printed;
static bool creation_done;

static const ObjectClass container_class = {
    .name = "container",
    .instance_size = sizeof(Object),
};

void bus_register(BusState *bus)
{
    if (!buses) {
        buses = g_ptr_array_new();
    }
    g_ptr_array_add(buses, bus);
}

void bus_unregister(BusState *bus)
{
    if (buses) {
        g_ptr_array_remove(buses, bus);
    }
}

GPtrArray *bus_list(void)
{
    if (!buses) {
        buses = g_ptr_array_new();
    }
    return buses;
}

BusState *bus_find(const char *name)
{
    GPtrArray *list = bus_list();
    for (guint i = 0; i < list->len; i++) {
        BusState *bus = g_ptr_array_index(list, i);
        if (strcmp(bus->name, name) == 0) {
            return bus;
        }
    }
    return NULL;
}

static bool bus_has_room(BusState *bus)
{
    return !bus->has_room || bus->has_room(bus);
}

BusState *bus_find_free(const char *type)
{
    GPtrArray *list = bus_list();
    for (guint i = 0; i < list->len; i++) {
        BusState *bus = g_ptr_array_index(list, i);
        if (strcmp(bus->type, type) == 0 && bus_has_room(bus)) {
            return bus;
        }
    }
    return NULL;
}

bool device_help_printed(void)
{
    return help_printed;
}

void qdev_machine_creation_done(void)
{
    creation_done = true;
}

/* Finds or creates the container child called name under parent. */
static Object *qdev_container(Object *parent, const char *name)
{
    Object *c = object_child(parent, name);
    if (!c) {
        c = object_new(&container_class);
        object_add_child(parent, name, c, NULL);
        object_unref(c);
    }
    return c;
}

Object *qdev_peripheral_container(bool anonymous)
{
    Object *machine = qdev_container(object_root(), "machine");
    return qdev_container(machine, anonymous ? "peripheral-anon" : "peripheral");
}

BusState *device_get_bus(Object *dev)
{
    return device_buses ? g_hash_table_lookup(device_buses, dev) : NULL;
}

/* QEMU's identifier rule: letters, digits, '-', '.', '_', starting with a letter. */
static bool qdev_id_wellformed(const char *id)
{
    if (!isalpha((unsigned char)id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static void qdev_print_device_list(void)
{
    GPtrArray *list = object_class_list(NULL, false);
    for (guint i = 0; i < list->len; i++) {
        const ObjectClass *cls = g_ptr_array_index(list, i);
        if (!cls->user_creatable) {
            continue;
        }
        printf("name \"%s\"", cls->name);
        if (cls->bus_type) {
            printf(", bus %s", cls->bus_type);
        }
        if (cls->desc) {
            printf(", desc \"%s\"", cls->desc);
        }
        printf("\n");
    }
    g_ptr_array_free(list, true);
}

static gint qdev_prop_line_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void qdev_collect_prop(Object *obj, const Property *prop, void *opaque)
{
    GPtrArray *lines = opaque;
    bool is_bool = prop->info == &prop_info_bool;
    const char *desc = prop->desc ? prop->desc : (is_bool ? "on/off" : NULL);
    char *left = g_strdup_printf("%s=<%s>", prop->name, prop->info->type_name);
    char *value = prop->info->get(obj, prop);
    bool has_default = value[0] != '\0';
    GString *line = g_string_new(NULL);
    if (desc || has_default) {
        g_string_printf(line, "  %-22s - %s", left, desc ? desc : "");
        if (has_default) {
            g_string_append_printf(line, " (default: %s)", value);
        }
    } else {
        g_string_printf(line, "  %s", left);
    }
    g_ptr_array_add(lines, g_string_free(line, false));
    g_free(left);
    g_free(value);
}

/* Prints "driver options:" and one line per property with its default. */
static void qdev_print_props(const ObjectClass *cls)
{
    Object *obj = object_new(cls);
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    object_foreach_property(obj, qdev_collect_prop, lines);
    g_ptr_array_sort(lines, qdev_prop_line_cmp);
    printf("%s options:\n", cls->name);
    for (guint i = 0; i < lines->len; i++) {
        printf("%s\n", (char *)g_ptr_array_index(lines, i));
    }
    g_ptr_array_free(lines, true);
    object_unref(obj);
}

typedef struct PropSetState {
    Object *dev;
    Error *err;
} PropSetState;

static void qdev_set_one(const char *key, const char *value, void *opaque)
{
    PropSetState *st = opaque;
    if (st->err || !strcmp(key, "driver") || !strcmp(key, "id") || !strcmp(key, "bus")) {
        return;
    }
    /* A bare "key" means key=on, as in QEMU's option syntax. */
    object_property_set_str(st->dev, key, value ? value : "on", &st->err);
}

/* Picks the bus for a device of cls: the named one, or the first free one of its type. */
static BusState *qdev_choose_bus(const ObjectClass *cls, const char *bus_name, Error **errp)
{
    BusState *bus;
    if (bus_name) {
        bus = bus_find(bus_name);
        if (!bus) {
            error_setg(errp, "Bus '%s' not found", bus_name);
            return NULL;
        }
        if (!cls->bus_type || strcmp(bus->type, cls->bus_type) != 0) {
            error_setg(errp, "Device '%s' can't go on %s bus", cls->name, bus->type);
            return NULL;
        }
        if (!bus_has_room(bus)) {
            error_setg(errp, "Bus '%s' is full", bus_name);
            return NULL;
        }
    } else {
        if (!cls->bus_type) {
            error_setg(errp, "Device '%s' cannot be created with -device (it plugs into no "
                       "bus)", cls->name);
            return NULL;
        }
        bus = bus_find_free(cls->bus_type);
        if (!bus) {
            error_setg(errp, "No '%s' bus found for device '%s'", cls->bus_type, cls->name);
            return NULL;
        }
    }
    if (creation_done && !bus->hotpluggable) {
        error_setg(errp, "Bus '%s' does not support hotplugging", bus->name);
        return NULL;
    }
    return bus;
}

Object *device_create_from_opts(Opts *opts, Error **errp)
{
    help_printed = false;
    const char *driver = opts_get(opts, "driver");
    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (strcmp(driver, "help") == 0 || strcmp(driver, "?") == 0) {
        qdev_print_device_list();
        help_printed = true;
        return NULL;
    }
    const ObjectClass *cls = object_class_by_name(driver);
    if (!cls || cls->abstract || !cls->user_creatable) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (opts_has(opts, "help")) {
        qdev_print_props(cls);
        help_printed = true;
        return NULL;
    }
    const char *id = opts_get(opts, "id");
    if (id && !qdev_id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    Object *container = qdev_peripheral_container(id == NULL);
    if (id && object_child(container, id)) {
        error_setg(errp, "Duplicate ID '%s' for device", id);
        return NULL;
    }
    BusState *bus = qdev_choose_bus(cls, opts_get(opts, "bus"), errp);
    if (!bus) {
        return NULL;
    }

    Object *dev = object_new(cls);
    PropSetState st = { .dev = dev };
    opts_foreach(opts, qdev_set_one, &st);
    opts_mark_all_used(opts);
    if (st.err) {
        error_propagate(errp, st.err);
        object_unref(dev);
        return NULL;
    }
    char *name = id ? g_strdup(id) : object_child_unique_name(container, "device");
    bool ok = object_add_child(container, name, dev, errp);
    g_free(name);
    object_unref(dev);
    if (!ok) {
        return NULL;
    }
    if (!bus->plug(bus, dev, errp)) {
        object_unparent(dev);
        return NULL;
    }
    if (!device_buses) {
        device_buses = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    g_hash_table_insert(device_buses, dev, bus);
    return dev;
}

Object *device_create(const char *optstr, Error **errp)
{
    help_printed = false;
    Opts *opts = opts_parse(optstr, "driver", errp);
    if (!opts) {
        return NULL;
    }
    Object *dev = device_create_from_opts(opts, errp);
    opts_free(opts);
    return dev;
}

bool device_delete(const char *id, Error **errp)
{
    Object *dev = object_child(qdev_peripheral_container(false), id);
    BusState *bus = dev ? device_get_bus(dev) : NULL;
    if (!bus) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return false;
    }
    if (!bus->hotpluggable) {
        error_setg(errp, "Bus '%s' does not support hotplugging", bus->name);
        return false;
    }
    bus->unplug(bus, dev);
    g_hash_table_remove(device_buses, dev);
    object_unparent(dev);
    return true;
}
