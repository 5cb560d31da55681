/* Property delegation: a wrapper hands unknown properties to the object it embeds
 * (ObjectClass.property_delegate), as virtio-*-pci do with their "virtio-backend". */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "hw/core/object.h"
#include "hw/virtio/virtio-pci.h"

/* The inner device: plain fields plus a property whose handlers cast obj to Inner. */
typedef struct Inner {
    Object obj;
    uint32_t depth;
    char *label;
    int magic;                   /* set by init: the custom handlers check they got an Inner */
    int doubled;
} Inner;

#define INNER_MAGIC 0x1a2b

static bool inner_set_doubled(Object *obj, const Property *prop, const char *value,
                              Error **errp)
{
    Inner *in = (Inner *)obj;
    if (in->magic != INNER_MAGIC) {
        error_setg(errp, "handler got an object that is not an Inner");
        return false;
    }
    in->doubled = 2 * atoi(value);
    return true;
}

static char *inner_get_doubled(Object *obj, const Property *prop)
{
    Inner *in = (Inner *)obj;
    return in->magic == INNER_MAGIC ? g_strdup_printf("%d", in->doubled) : g_strdup("bad");
}

static const PropertyInfo prop_info_doubled = {
    .type_name = "int",
    .set = inner_set_doubled,
    .get = inner_get_doubled,
    .runtime = true,
};

static const Property inner_props[] = {
    DEFINE_PROP_UINT32("depth", Inner, depth, 7),
    DEFINE_PROP_STRING("label", Inner, label),
    DEFINE_PROP("doubled", Inner, doubled, prop_info_doubled),
    DEFINE_PROP_END,
};

static void inner_init(Object *obj)
{
    ((Inner *)obj)->magic = INNER_MAGIC;
}

static const ObjectClass inner_class = {
    .name = "test-inner",
    .instance_size = sizeof(Inner),
    .props = inner_props,
    .init = inner_init,
};

/* The wrapper: its own "depth" shadows the inner one; "slot" is its own too. */
typedef struct Wrapper {
    Object obj;
    uint32_t slot;
    uint32_t depth;
    Inner *inner;
} Wrapper;

static const Property wrapper_props[] = {
    DEFINE_PROP_UINT32("slot", Wrapper, slot, 1),
    DEFINE_PROP_UINT32("depth", Wrapper, depth, 100),
    DEFINE_PROP_END,
};

static void wrapper_init(Object *obj)
{
    Wrapper *w = (Wrapper *)obj;
    Object *in = object_new(&inner_class);
    g_assert_true(object_add_child(obj, "backend", in, NULL));
    object_unref(in);
    w->inner = (Inner *)in;
}

static Object *wrapper_delegate(Object *obj)
{
    return OBJECT(((Wrapper *)obj)->inner);
}

static const ObjectClass wrapper_class = {
    .name = "test-wrapper",
    .instance_size = sizeof(Wrapper),
    .props = wrapper_props,
    .init = wrapper_init,
    .property_delegate = wrapper_delegate,
};

/* A subclass inherits the hook from its parent. */
static const ObjectClass sub_wrapper_class = {
    .name = "test-sub-wrapper",
    .parent = &wrapper_class,
    .instance_size = sizeof(Wrapper),
};

static char *get(Object *obj, const char *name)
{
    Error *err = NULL;
    char *v = object_property_get_str(obj, name, &err);
    g_assert_null(err);
    g_assert_nonnull(v);
    return v;
}

static void assert_prop(Object *obj, const char *name, const char *expect)
{
    char *v = get(obj, name);
    g_assert_cmpstr(v, ==, expect);
    g_free(v);
}

static void test_set_get_through_delegate(void)
{
    Object *obj = object_new(&wrapper_class);
    Wrapper *w = (Wrapper *)obj;
    Error *err = NULL;

    g_assert_true(object_property_set_str(obj, "label", "disk0", &err));
    g_assert_null(err);
    g_assert_cmpstr(w->inner->label, ==, "disk0");
    assert_prop(obj, "label", "disk0");
    g_assert_true(object_property_set_str(obj, "doubled", "21", &err));
    g_assert_cmpint(w->inner->doubled, ==, 42);
    assert_prop(obj, "doubled", "42");

    /* the wrapper's own property wins; the inner one stays reachable on the child */
    g_assert_true(object_property_set_str(obj, "depth", "5", &err));
    g_assert_cmpuint(w->depth, ==, 5);
    g_assert_cmpuint(w->inner->depth, ==, 7);
    assert_prop(OBJECT(w->inner), "depth", "7");

    g_assert_true(object_find_property(obj, "label") == &inner_props[1]);
    g_assert_true(object_property_owner(obj, "label") == OBJECT(w->inner));
    g_assert_true(object_property_owner(obj, "slot") == obj);
    g_assert_null(object_property_owner(obj, "nonexistent"));

    g_assert_false(object_property_set_str(obj, "nonexistent", "1", &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "test-wrapper.nonexistent"));
    error_free(err);
    err = NULL;
    g_assert_null(object_property_get_str(obj, "nonexistent", &err));
    g_assert_nonnull(err);
    error_free(err);
    object_unref(obj);
}

typedef struct Seen {
    GString *names;
    Object *wrapper, *inner;
    bool wrong_owner;
} Seen;

static void collect(Object *obj, const Property *prop, void *opaque)
{
    Seen *s = opaque;
    Object *expect = strcmp(prop->name, "slot") == 0 || strcmp(prop->name, "depth") == 0
                     ? s->wrapper : s->inner;
    if (obj != expect) {
        s->wrong_owner = true;
    }
    /* callers read values with the object they are handed, as info qtree does */
    char *v = prop->info->get(obj, prop);
    g_string_append_printf(s->names, "%s=%s ", prop->name, v ? v : "");
    g_free(v);
}

static void test_foreach_includes_delegate(void)
{
    Object *obj = object_new(&sub_wrapper_class);
    Seen s = { g_string_new(NULL), obj, OBJECT(((Wrapper *)obj)->inner), false };
    g_assert_true(object_property_set_str(obj, "doubled", "4", NULL));
    object_foreach_property(obj, collect, &s);
    g_assert_false(s.wrong_owner);
    /* the shadowed inner "depth" is not listed twice */
    g_assert_cmpstr(s.names->str, ==, "slot=1 depth=100 label= doubled=8 ");
    g_string_free(s.names, true);
    object_unref(obj);
}

static void test_realized_delegate(void)
{
    Object *obj = object_new(&wrapper_class);
    Wrapper *w = (Wrapper *)obj;
    Error *err = NULL;
    g_assert_true(object_realize(OBJECT(w->inner), NULL));
    g_assert_true(object_realize(obj, NULL));
    /* plain properties are fixed once realized, run-time ones are not */
    g_assert_false(object_property_set_str(obj, "label", "x", &err));
    g_assert_nonnull(err);
    error_free(err);
    g_assert_true(object_property_set_str(obj, "doubled", "3", NULL));
    g_assert_cmpint(w->inner->doubled, ==, 6);
    object_unref(obj);
}

static void test_no_delegate(void)
{
    Object *obj = object_new(&wrapper_class);
    Wrapper *w = (Wrapper *)obj;
    /* a hook that returns NULL means "no further properties" */
    object_unparent(OBJECT(w->inner));
    w->inner = NULL;
    g_assert_null(object_find_property(obj, "label"));
    g_assert_false(object_property_set_str(obj, "label", "x", NULL));
    Seen s = { g_string_new(NULL), obj, NULL, false };
    object_foreach_property(obj, collect, &s);
    g_assert_cmpstr(s.names->str, ==, "slot=1 depth=100 ");
    g_string_free(s.names, true);
    object_unref(obj);
}

/* virtio-balloon-pci: the balloon's own handlers (which cast to VirtIOBalloon) get the
 * balloon, not the PCI wrapper. */
static void test_virtio_balloon_pci(void)
{
    const ObjectClass *cls = object_class_by_name("virtio-balloon-pci");
    g_assert_nonnull(cls);
    Object *obj = object_new(cls);
    Object *backend = object_child(obj, "virtio-backend");
    g_assert_nonnull(backend);
    g_assert_cmpstr(backend->cls->name, ==, "virtio-balloon-device");
    g_assert_true(((VirtioPci *)obj)->vdev == (VirtIODevice *)backend);

    assert_prop(obj, "guest-stats-polling-interval", "0");
    char *stats = get(obj, "guest-stats");
    g_assert_nonnull(strstr(stats, "\"last-update\": 0"));
    g_free(stats);
    g_assert_true(object_property_set_str(obj, "guest-stats-polling-interval", "5", NULL));
    assert_prop(obj, "guest-stats-polling-interval", "5");
    assert_prop(backend, "guest-stats-polling-interval", "5");
    Error *err = NULL;
    g_assert_false(object_property_set_str(obj, "guest-stats-polling-interval", "-1", &err));
    g_assert_nonnull(err);
    error_free(err);
    err = NULL;
    assert_prop(obj, "guest-stats-polling-interval", "5");
    /* polling on and nothing reported yet: the balloon's checked read says so */
    g_assert_null(object_property_get_str(obj, "guest-stats", &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, "guest hasn't updated any stats yet");
    error_free(err);
    object_unref(obj);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/object-delegate/set-get", test_set_get_through_delegate);
    g_test_add_func("/object-delegate/foreach", test_foreach_includes_delegate);
    g_test_add_func("/object-delegate/realized", test_realized_delegate);
    g_test_add_func("/object-delegate/none", test_no_delegate);
    g_test_add_func("/object-delegate/virtio-balloon-pci", test_virtio_balloon_pci);
    return g_test_run();
}
