#ifndef HW_CORE_QDEV_H
#define HW_CORE_QDEV_H

#include <stdbool.h>
#include <glib.h>
#include "hw/core/object.h"
#include "util/option.h"

/*
 * Buses and user-created devices (-device, device_add, device_del). A board registers its
 * buses (virtio-mmio slots, a PCI root); a device class names the bus type it plugs into
 * (ObjectClass.bus_type). User devices live at /machine/peripheral/<id> or
 * /machine/peripheral-anon/device[N].
 */

typedef struct BusState BusState;
struct BusState {
    const char *name;        /* "virtio-mmio-bus.0", "pcie.0" */
    const char *type;        /* what devices ask for: "virtio-bus", "PCI" */
    Object *owner;
    bool hotpluggable;
    /* Plugs dev (properties set, not realized) into the bus; the bus realizes it. */
    bool (*plug)(BusState *bus, Object *dev, Error **errp);
    /* Unrealizes and detaches dev (device_del, board teardown). */
    void (*unplug)(BusState *bus, Object *dev);
    /* True when one more device fits. */
    bool (*has_room)(BusState *bus);
    void *opaque;
};

void bus_register(BusState *bus);
void bus_unregister(BusState *bus);
BusState *bus_find(const char *name);
/* The first registered bus of type with room, or NULL. */
BusState *bus_find_free(const char *type);
/* Registered buses in order (do not free the array). */
GPtrArray *bus_list(void);

/* Creates, configures, plugs and realizes a device from -device syntax
 * ("driver[,id=ID][,bus=BUS][,prop=value...]"); "help" and "driver,help" print lists and
 * return NULL with no error. */
Object *device_create(const char *optstr, Error **errp);
/* As device_create, from parsed options (driver under key "driver"). */
Object *device_create_from_opts(Opts *opts, Error **errp);
/* True when the last device_create call only printed help. */
bool device_help_printed(void);
/* Unplugs the device with this id (device_del); errors if not found or not hot-pluggable. */
bool device_delete(const char *id, Error **errp);
/* The bus a user-created device is plugged into, or NULL. */
BusState *device_get_bus(Object *dev);
/* Marks the end of cold plug (after -device options): from now on a bus must be
 * hot-pluggable to take or lose a device. */
void qdev_machine_creation_done(void);
/* The /machine/peripheral and /machine/peripheral-anon containers (created on demand). */
Object *qdev_peripheral_container(bool anonymous);

#endif
