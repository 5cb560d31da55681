#ifndef HW_CORE_OBJECT_H
#define HW_CORE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"

/*
 * Objects and devices. A class is static const data; an instance embeds `Object obj` as its
 * first member. Life cycle: object_new (cannot fail) -> set properties -> object_realize (can
 * fail, returns an error) -> reset -> ... -> object_unrealize -> object_unref.
 * Objects form a tree (the QOM composition tree: /machine/peripheral/<id>, ...).
 */

typedef struct Object Object;
typedef struct ObjectClass ObjectClass;
typedef struct Property Property;

/* How a property value is parsed from and printed to text (-device, qom-set, info qtree). */
typedef struct PropertyInfo {
    const char *type_name;                 /* "bool", "uint32", "size", "str", "chardev", ... */
    bool (*set)(Object *obj, const Property *prop, const char *value, Error **errp);
    char *(*get)(Object *obj, const Property *prop);   /* g_free the result */
    void (*release)(Object *obj, const Property *prop); /* frees owned storage, may be NULL */
    /* Optional: a read that can fail (NULL with *errp); object_property_get_str prefers it. */
    char *(*get_checked)(Object *obj, const Property *prop, Error **errp);
    bool json;       /* get returns JSON text: qom-get passes it on as a structured value */
    bool runtime;    /* set also works on a realized object (a run-time knob) */
} PropertyInfo;

struct Property {
    const char *name;
    const PropertyInfo *info;
    size_t offset;            /* of the field inside the instance */
    uint64_t defval;          /* for numbers and bool */
    const char *defstr;       /* for strings */
    const char *desc;
};

extern const PropertyInfo prop_info_bool;
extern const PropertyInfo prop_info_uint8;
extern const PropertyInfo prop_info_uint16;
extern const PropertyInfo prop_info_uint32;
extern const PropertyInfo prop_info_uint64;
extern const PropertyInfo prop_info_int32;
extern const PropertyInfo prop_info_size;    /* uint64 with k/M/G/T suffixes */
extern const PropertyInfo prop_info_string;  /* char * owned by the object */
extern const PropertyInfo prop_info_chardev; /* struct Chardev * looked up by id */
/* struct BlockBackend * by -drive id / node-name, claimed with blk_attach_dev. */
extern const PropertyInfo prop_info_drive;
extern const PropertyInfo prop_info_netdev;  /* struct NetClientState * looked up by netdev id */
extern const PropertyInfo prop_info_macaddr; /* MACAddr (net/net.h), "52:54:00:12:34:56" */

#define DEFINE_PROP(_name, _state, _field, _info, ...) \
    { .name = (_name), .info = &(_info), .offset = offsetof(_state, _field), __VA_ARGS__ }
#define DEFINE_PROP_BOOL(n, s, f, d)   DEFINE_PROP(n, s, f, prop_info_bool, .defval = (d))
#define DEFINE_PROP_UINT8(n, s, f, d)  DEFINE_PROP(n, s, f, prop_info_uint8, .defval = (d))
#define DEFINE_PROP_UINT16(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint16, .defval = (d))
#define DEFINE_PROP_UINT32(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint32, .defval = (d))
#define DEFINE_PROP_UINT64(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint64, .defval = (d))
#define DEFINE_PROP_INT32(n, s, f, d)  DEFINE_PROP(n, s, f, prop_info_int32, .defval = (uint64_t)(d))
#define DEFINE_PROP_SIZE(n, s, f, d)   DEFINE_PROP(n, s, f, prop_info_size, .defval = (d))
#define DEFINE_PROP_STRING(n, s, f)    DEFINE_PROP(n, s, f, prop_info_string)
#define DEFINE_PROP_CHR(n, s, f)       DEFINE_PROP(n, s, f, prop_info_chardev)
#define DEFINE_PROP_NETDEV(n, s, f)    DEFINE_PROP(n, s, f, prop_info_netdev)
#define DEFINE_PROP_MACADDR(n, s, f)   DEFINE_PROP(n, s, f, prop_info_macaddr)
#define DEFINE_PROP_END                { .name = NULL }

struct ObjectClass {
    const char *name;                 /* type name as QEMU spells it, e.g. "ns16550a" */
    const ObjectClass *parent;        /* NULL for root classes */
    size_t instance_size;
    const Property *props;            /* NULL or terminated by DEFINE_PROP_END */
    const char *desc;
    bool user_creatable;              /* may be created with -device / device_add */
    const char *bus_type;             /* bus type it plugs into (hw/core/qdev.h), or NULL */
    bool abstract;
    /* Sets up fields beyond property defaults; cannot fail. */
    void (*init)(Object *obj);
    /* Second phase: acquire resources; on failure the object stays unrealized. */
    bool (*realize)(Object *obj, Error **errp);
    /* Brings the object back to its power-on state. */
    void (*reset)(Object *obj);
    void (*unrealize)(Object *obj);
    /* Frees what init allocated. */
    void (*finalize)(Object *obj);
    /* Optional: the object that serves the properties this class chain does not have (a
     * transport wrapper hands them to the device it embeds); may return NULL. */
    Object *(*property_delegate)(Object *obj);
};

struct Object {
    const ObjectClass *cls;
    char *name;                 /* name inside the parent ("uart0", "device[3]") */
    Object *parent;
    GPtrArray *children;        /* of Object * */
    unsigned refcount;
    bool realized;
};

/* Registers a class so that object_class_by_name finds it (call from a constructor). */
void object_class_register(const ObjectClass *cls);
#define OBJECT_CLASS_REGISTER(cls_var) \
    static void __attribute__((constructor)) register_##cls_var(void) \
    { object_class_register(&(cls_var)); }

const ObjectClass *object_class_by_name(const char *name);
/* True when cls is ancestor or cls itself. */
bool object_class_is_a(const ObjectClass *cls, const ObjectClass *ancestor);
/* All registered classes that derive from base, sorted by name (g_ptr_array_free when done). */
GPtrArray *object_class_list(const ObjectClass *base, bool include_abstract);

/* Allocates an instance with property defaults applied and cls->init run. Cannot fail. */
Object *object_new(const ObjectClass *cls);
/* Initialises an instance the caller embeds in a larger structure (not freed on unref). */
void object_initialize(Object *obj, const ObjectClass *cls);
bool object_is_a(const Object *obj, const ObjectClass *cls);
void object_ref(Object *obj);
void object_unref(Object *obj);

/* Attaches child under parent with name (takes a reference); name must be unique. */
bool object_add_child(Object *parent, const char *name, Object *child, Error **errp);
/* Detaches obj from its parent, dropping the parent's reference. */
void object_unparent(Object *obj);
Object *object_child(Object *parent, const char *name);
/* Resolves an absolute path ("/machine/peripheral/net0"); NULL when absent. */
Object *object_resolve_path(const char *path);
/* Absolute path of obj (g_free it). */
char *object_get_path(const Object *obj);
/* The root of the composition tree ("/"). */
Object *object_root(void);
/* Returns an unused child name "prefix[N]" (g_free it). */
char *object_child_unique_name(Object *parent, const char *prefix);

/* The named property of obj's class chain, else of its property delegate (recursively). */
const Property *object_find_property(const Object *obj, const char *name);
/* The object whose instance the named property reads and writes (obj or a delegate), or
 * NULL when there is no such property: pass it to the property's info->get/set. */
Object *object_property_owner(Object *obj, const char *name);
/* Calls fn for every property of obj's class chain, base class first, then for the
 * delegate's properties that obj does not shadow (fn gets the delegate as obj). */
void object_foreach_property(const Object *obj,
                             void (*fn)(Object *obj, const Property *prop, void *opaque),
                             void *opaque);
/* Parses value into the named property; refused once realized unless the class allows it. */
bool object_property_set_str(Object *obj, const char *name, const char *value, Error **errp);
/* Property value as text, or NULL with *errp when there is no such property. */
char *object_property_get_str(Object *obj, const char *name, Error **errp);

bool object_realize(Object *obj, Error **errp);
void object_unrealize(Object *obj);
/* Resets obj and then its children, depth first. */
void object_reset_tree(Object *obj);

/* Casts between an instance and its Object (Object must be the first member, nested for
 * subclasses). */
#define OBJECT(x) ((Object *)(x))
#define OBJECT_CHECK(type, o) ((type *)(o))

#endif
