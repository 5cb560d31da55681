/* The object model: class registry, two-phase life cycle, composition tree, properties. */
#include <string.h>
#include <glib.h>
#include "hw/core/object.h"

static GHashTable *class_table;   /* name -> const ObjectClass * */
static Object *root_object;

static const ObjectClass root_class = {
    .name = "container",
    .instance_size = sizeof(Object),
};

void object_class_register(const ObjectClass *cls)
{
    if (!class_table) {
        class_table = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_hash_table_insert(class_table, (gpointer)cls->name, (gpointer)cls);
}

const ObjectClass *object_class_by_name(const char *name)
{
    return class_table ? g_hash_table_lookup(class_table, name) : NULL;
}

bool object_class_is_a(const ObjectClass *cls, const ObjectClass *ancestor)
{
    for (; cls; cls = cls->parent) {
        if (cls == ancestor) {
            return true;
        }
    }
    return false;
}

static gint class_name_cmp(gconstpointer a, gconstpointer b)
{
    const ObjectClass *ca = *(const ObjectClass * const *)a;
    const ObjectClass *cb = *(const ObjectClass * const *)b;
    return strcmp(ca->name, cb->name);
}

GPtrArray *object_class_list(const ObjectClass *base, bool include_abstract)
{
    GPtrArray *list = g_ptr_array_new();
    if (class_table) {
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, class_table);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            const ObjectClass *cls = value;
            if ((!base || object_class_is_a(cls, base)) && (include_abstract || !cls->abstract)) {
                g_ptr_array_add(list, (gpointer)cls);
            }
        }
    }
    g_ptr_array_sort(list, class_name_cmp);
    return list;
}

/* Applies defaults of cls's own properties and its ancestors', base class first. */
static void object_apply_defaults(Object *obj, const ObjectClass *cls)
{
    if (!cls) {
        return;
    }
    object_apply_defaults(obj, cls->parent);
    for (const Property *p = cls->props; p && p->name; p++) {
        void *field = (char *)obj + p->offset;
        if (p->info == &prop_info_bool) {
            *(bool *)field = p->defval != 0;
        } else if (p->info == &prop_info_uint8) {
            *(uint8_t *)field = p->defval;
        } else if (p->info == &prop_info_uint16) {
            *(uint16_t *)field = p->defval;
        } else if (p->info == &prop_info_uint32) {
            *(uint32_t *)field = p->defval;
        } else if (p->info == &prop_info_int32) {
            *(int32_t *)field = (int32_t)p->defval;
        } else if (p->info == &prop_info_uint64 || p->info == &prop_info_size) {
            *(uint64_t *)field = p->defval;
        } else if (p->info == &prop_info_string) {
            *(char **)field = g_strdup(p->defstr);
        }
    }
}

static void object_run_init(Object *obj, const ObjectClass *cls)
{
    if (!cls) {
        return;
    }
    object_run_init(obj, cls->parent);
    if (cls->init) {
        cls->init(obj);
    }
}

void object_initialize(Object *obj, const ObjectClass *cls)
{
    memset(obj, 0, cls->instance_size);
    obj->cls = cls;
    obj->refcount = 1;
    obj->children = g_ptr_array_new();
    object_apply_defaults(obj, cls);
    object_run_init(obj, cls);
}

Object *object_new(const ObjectClass *cls)
{
    Object *obj = g_malloc0(cls->instance_size);
    object_initialize(obj, cls);
    return obj;
}

bool object_is_a(const Object *obj, const ObjectClass *cls)
{
    return obj && object_class_is_a(obj->cls, cls);
}

void object_ref(Object *obj)
{
    obj->refcount++;
}

static void object_release_props(Object *obj)
{
    for (const ObjectClass *cls = obj->cls; cls; cls = cls->parent) {
        for (const Property *p = cls->props; p && p->name; p++) {
            if (p->info->release) {
                p->info->release(obj, p);
            }
        }
    }
}

void object_unref(Object *obj)
{
    if (!obj || --obj->refcount > 0) {
        return;
    }
    if (obj->realized) {
        object_unrealize(obj);
    }
    while (obj->children->len) {
        object_unparent(g_ptr_array_index(obj->children, obj->children->len - 1));
    }
    for (const ObjectClass *cls = obj->cls; cls; cls = cls->parent) {
        if (cls->finalize) {
            cls->finalize(obj);
        }
    }
    object_release_props(obj);
    g_ptr_array_free(obj->children, true);
    g_free(obj->name);
    g_free(obj);
}

Object *object_root(void)
{
    if (!root_object) {
        root_object = object_new(&root_class);
        root_object->name = g_strdup("");
    }
    return root_object;
}

Object *object_child(Object *parent, const char *name)
{
    for (guint i = 0; i < parent->children->len; i++) {
        Object *c = g_ptr_array_index(parent->children, i);
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

bool object_add_child(Object *parent, const char *name, Object *child, Error **errp)
{
    if (object_child(parent, name)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object", name);
        return false;
    }
    if (child->parent) {
        error_setg(errp, "object is already a child of another object");
        return false;
    }
    g_free(child->name);
    child->name = g_strdup(name);
    child->parent = parent;
    object_ref(child);
    g_ptr_array_add(parent->children, child);
    return true;
}

void object_unparent(Object *obj)
{
    Object *parent = obj->parent;
    if (!parent) {
        return;
    }
    g_ptr_array_remove(parent->children, obj);
    obj->parent = NULL;
    object_unref(obj);
}

char *object_child_unique_name(Object *parent, const char *prefix)
{
    for (unsigned i = 0;; i++) {
        char *name = g_strdup_printf("%s[%u]", prefix, i);
        if (!object_child(parent, name)) {
            return name;
        }
        g_free(name);
    }
}

Object *object_resolve_path(const char *path)
{
    if (!path || path[0] != '/') {
        return NULL;
    }
    Object *obj = object_root();
    char **parts = g_strsplit(path + 1, "/", -1);
    for (char **p = parts; obj && *p; p++) {
        if (**p) {
            obj = object_child(obj, *p);
        }
    }
    g_strfreev(parts);
    return obj;
}

char *object_get_path(const Object *obj)
{
    if (!obj->parent) {
        return g_strdup("/");
    }
    GString *s = g_string_new("");
    for (; obj && obj->parent; obj = obj->parent) {
        g_string_prepend(s, obj->name);
        g_string_prepend_c(s, '/');
    }
    return g_string_free(s, false);
}

/* Bounds a chain of delegates (a wrapper of a wrapper is fine, a cycle is not). */
#define OBJECT_DELEGATE_DEPTH 8

/* The object that serves properties obj's classes do not have, or NULL. */
static Object *object_delegate(const Object *obj)
{
    for (const ObjectClass *cls = obj->cls; cls; cls = cls->parent) {
        if (cls->property_delegate) {
            return cls->property_delegate((Object *)obj);
        }
    }
    return NULL;
}

static const Property *object_class_find_property(const ObjectClass *cls, const char *name)
{
    for (; cls; cls = cls->parent) {
        for (const Property *p = cls->props; p && p->name; p++) {
            if (strcmp(p->name, name) == 0) {
                return p;
            }
        }
    }
    return NULL;
}

/* The named property and the object it lives in, following delegates. */
static const Property *object_lookup_property(const Object *obj, const char *name,
                                              Object **owner)
{
    for (unsigned depth = 0; obj && depth < OBJECT_DELEGATE_DEPTH; depth++) {
        const Property *p = object_class_find_property(obj->cls, name);
        if (p) {
            *owner = (Object *)obj;
            return p;
        }
        obj = object_delegate(obj);
    }
    *owner = NULL;
    return NULL;
}

const Property *object_find_property(const Object *obj, const char *name)
{
    Object *owner;
    return object_lookup_property(obj, name, &owner);
}

Object *object_property_owner(Object *obj, const char *name)
{
    Object *owner;
    object_lookup_property(obj, name, &owner);
    return owner;
}

static void object_foreach_class_property(Object *obj, const ObjectClass *cls,
                                          void (*fn)(Object *, const Property *, void *),
                                          void *opaque)
{
    if (!cls) {
        return;
    }
    object_foreach_class_property(obj, cls->parent, fn, opaque);
    for (const Property *p = cls->props; p && p->name; p++) {
        fn(obj, p, opaque);
    }
}

typedef struct DelegateForeach {
    const Object *outer;        /* properties found from here hide the delegate's */
    void (*fn)(Object *, const Property *, void *);
    void *opaque;
} DelegateForeach;

static void object_foreach_unshadowed(Object *obj, const Property *prop, void *opaque)
{
    DelegateForeach *d = opaque;
    Object *owner;
    object_lookup_property(d->outer, prop->name, &owner);
    if (owner == obj) {
        d->fn(obj, prop, d->opaque);
    }
}

void object_foreach_property(const Object *obj,
                             void (*fn)(Object *obj, const Property *prop, void *opaque),
                             void *opaque)
{
    DelegateForeach d = { .outer = obj, .fn = fn, .opaque = opaque };
    object_foreach_class_property((Object *)obj, obj->cls, fn, opaque);
    Object *del = object_delegate(obj);
    for (unsigned depth = 1; del && depth < OBJECT_DELEGATE_DEPTH; depth++) {
        object_foreach_class_property(del, del->cls, object_foreach_unshadowed, &d);
        del = object_delegate(del);
    }
}

bool object_property_set_str(Object *obj, const char *name, const char *value, Error **errp)
{
    Object *owner;
    const Property *p = object_lookup_property(obj, name, &owner);
    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", obj->cls->name, name);
        return false;
    }
    if ((obj->realized || owner->realized) && !p->info->runtime) {
        error_setg(errp, "Attempt to set property '%s' on device '%s' after it was realized",
                   name, obj->cls->name);
        return false;
    }
    return p->info->set(owner, p, value, errp);
}

char *object_property_get_str(Object *obj, const char *name, Error **errp)
{
    Object *owner;
    const Property *p = object_lookup_property(obj, name, &owner);
    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", obj->cls->name, name);
        return NULL;
    }
    if (p->info->get_checked) {
        return p->info->get_checked(owner, p, errp);
    }
    return p->info->get(owner, p);
}

bool object_realize(Object *obj, Error **errp)
{
    if (obj->realized) {
        return true;
    }
    for (const ObjectClass *cls = obj->cls; cls; cls = cls->parent) {
        if (cls->realize) {
            if (!cls->realize(obj, errp)) {
                return false;
            }
            break;
        }
    }
    obj->realized = true;
    return true;
}

void object_unrealize(Object *obj)
{
    if (!obj->realized) {
        return;
    }
    for (const ObjectClass *cls = obj->cls; cls; cls = cls->parent) {
        if (cls->unrealize) {
            cls->unrealize(obj);
            break;
        }
    }
    obj->realized = false;
}

void object_reset_tree(Object *obj)
{
    for (const ObjectClass *cls = obj->cls; cls; cls = cls->parent) {
        if (cls->reset) {
            if (obj->realized) {
                cls->reset(obj);
            }
            break;
        }
    }
    for (guint i = 0; i < obj->children->len; i++) {
        object_reset_tree(g_ptr_array_index(obj->children, i));
    }
}
