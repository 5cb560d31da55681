/* Property types: how each parses from and prints to text. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <glib.h>
#include "hw/core/object.h"
#include "net/net.h"
#include "block/block-backend.h"
#include "util/chardev.h"
#include "util/option.h"

#define FIELD(obj, prop, type) ((type *)((char *)(obj) + (prop)->offset))

static bool prop_set_bool(Object *obj, const Property *prop, const char *value, Error **errp)
{
    bool v;
    if (!parse_bool(value, &v, NULL)) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    *FIELD(obj, prop, bool) = v;
    return true;
}

static char *prop_get_bool(Object *obj, const Property *prop)
{
    return g_strdup(*FIELD(obj, prop, bool) ? "true" : "false");
}

const PropertyInfo prop_info_bool = {
    .type_name = "bool", .set = prop_set_bool, .get = prop_get_bool,
};

/* Parses an unsigned number (decimal, 0x hex) no larger than max. */
static bool prop_parse_uint(Object *obj, const Property *prop, const char *value, uint64_t max,
                            uint64_t *out, Error **errp)
{
    uint64_t v;
    if (!parse_uint64(value, &v, NULL) || v > max) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    *out = v;
    return true;
}

#define DEFINE_UINT_PROP(NAME, TYPE, MAX)                                                   \
    static bool prop_set_##NAME(Object *obj, const Property *prop, const char *value,       \
                                Error **errp)                                               \
    {                                                                                       \
        uint64_t v;                                                                         \
        if (!prop_parse_uint(obj, prop, value, MAX, &v, errp)) {                            \
            return false;                                                                   \
        }                                                                                   \
        *FIELD(obj, prop, TYPE) = (TYPE)v;                                                  \
        return true;                                                                        \
    }                                                                                       \
    static char *prop_get_##NAME(Object *obj, const Property *prop)                         \
    {                                                                                       \
        return g_strdup_printf("%" PRIu64, (uint64_t)*FIELD(obj, prop, TYPE));              \
    }                                                                                       \
    const PropertyInfo prop_info_##NAME = {                                                 \
        .type_name = #NAME, .set = prop_set_##NAME, .get = prop_get_##NAME,                 \
    };

DEFINE_UINT_PROP(uint8, uint8_t, UINT8_MAX)
DEFINE_UINT_PROP(uint16, uint16_t, UINT16_MAX)
DEFINE_UINT_PROP(uint32, uint32_t, UINT32_MAX)
DEFINE_UINT_PROP(uint64, uint64_t, UINT64_MAX)

static bool prop_set_int32(Object *obj, const Property *prop, const char *value, Error **errp)
{
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 0);
    if (errno || end == value || *end || v < INT32_MIN || v > INT32_MAX) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    *FIELD(obj, prop, int32_t) = (int32_t)v;
    return true;
}

static char *prop_get_int32(Object *obj, const Property *prop)
{
    return g_strdup_printf("%d", *FIELD(obj, prop, int32_t));
}

const PropertyInfo prop_info_int32 = {
    .type_name = "int32", .set = prop_set_int32, .get = prop_get_int32,
};

static bool prop_set_size(Object *obj, const Property *prop, const char *value, Error **errp)
{
    uint64_t v;
    if (!parse_size(value, 0, &v, NULL)) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    *FIELD(obj, prop, uint64_t) = v;
    return true;
}

const PropertyInfo prop_info_size = {
    .type_name = "size", .set = prop_set_size, .get = prop_get_uint64,
};

static bool prop_set_string(Object *obj, const Property *prop, const char *value, Error **errp)
{
    char **field = FIELD(obj, prop, char *);
    g_free(*field);
    *field = g_strdup(value);
    return true;
}

static char *prop_get_string(Object *obj, const Property *prop)
{
    const char *s = *FIELD(obj, prop, char *);
    return g_strdup(s ? s : "");
}

static void prop_release_string(Object *obj, const Property *prop)
{
    char **field = FIELD(obj, prop, char *);
    g_free(*field);
    *field = NULL;
}

const PropertyInfo prop_info_string = {
    .type_name = "str", .set = prop_set_string, .get = prop_get_string,
    .release = prop_release_string,
};

static bool prop_set_chardev(Object *obj, const Property *prop, const char *value, Error **errp)
{
    Chardev *chr = chardev_find(value);
    if (!chr) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    *FIELD(obj, prop, Chardev *) = chr;
    return true;
}

static char *prop_get_chardev(Object *obj, const Property *prop)
{
    Chardev *chr = *FIELD(obj, prop, Chardev *);
    return g_strdup(chr ? chardev_id(chr) : "");
}

const PropertyInfo prop_info_chardev = {
    .type_name = "str", .set = prop_set_chardev, .get = prop_get_chardev,
};

static bool prop_set_netdev(Object *obj, const Property *prop, const char *value, Error **errp)
{
    NetClientState *nc = net_netdev_find(value);

    if (!nc) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    if (nc->peer) {
        error_setg(errp, "Property '%s.%s' can't take value '%s', it's in use",
                   obj->cls->name, prop->name, value);
        return false;
    }
    *FIELD(obj, prop, NetClientState *) = nc;
    return true;
}

static char *prop_get_netdev(Object *obj, const Property *prop)
{
    NetClientState *nc = *FIELD(obj, prop, NetClientState *);
    return g_strdup(nc ? nc->name : "");
}

const PropertyInfo prop_info_netdev = {
    .type_name = "str", .set = prop_set_netdev, .get = prop_get_netdev,
};

static bool prop_set_macaddr(Object *obj, const Property *prop, const char *value,
                             Error **errp)
{
    if (!net_parse_macaddr(value, FIELD(obj, prop, MACAddr))) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    return true;
}

static char *prop_get_macaddr(Object *obj, const Property *prop)
{
    return net_format_macaddr(FIELD(obj, prop, MACAddr));
}

const PropertyInfo prop_info_macaddr = {
    .type_name = "str", .set = prop_set_macaddr, .get = prop_get_macaddr,
};

static bool prop_set_drive(Object *obj, const Property *prop, const char *value, Error **errp)
{
    BlockBackend **field = FIELD(obj, prop, BlockBackend *);
    BlockBackend *blk = blk_by_name(value);
    if (!blk) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    if (blk == *field) {
        return true;
    }
    if (!blk_attach_dev(blk, obj, errp)) {
        return false;
    }
    if (*field) {
        blk_detach_dev(*field, obj);
    }
    *field = blk;
    return true;
}

static char *prop_get_drive(Object *obj, const Property *prop)
{
    BlockBackend *blk = *FIELD(obj, prop, BlockBackend *);
    return g_strdup(blk ? blk_name(blk) : "");
}

static void prop_release_drive(Object *obj, const Property *prop)
{
    BlockBackend **field = FIELD(obj, prop, BlockBackend *);
    if (*field) {
        blk_detach_dev(*field, obj);
        *field = NULL;
    }
}

const PropertyInfo prop_info_drive = {
    .type_name = "str", .set = prop_set_drive, .get = prop_get_drive,
    .release = prop_release_drive,
};
