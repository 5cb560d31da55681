/* Object model: defaults, property parsing, two-phase realize, composition tree, reset. */
#include <string.h>
#include <glib.h>
#include "hw/core/object.h"

typedef struct TestDev {
    Object obj;
    bool flag;
    uint32_t count;
    uint64_t size;
    int32_t level;
    char *label;
    int resets;
    int inits;
} TestDev;

static bool test_dev_realize(Object *obj, Error **errp)
{
    TestDev *d = (TestDev *)obj;
    if (d->count == 0) {
        error_setg(errp, "count must not be zero");
        return false;
    }
    return true;
}

static void test_dev_reset(Object *obj)
{
    ((TestDev *)obj)->resets++;
}

static void test_dev_init(Object *obj)
{
    ((TestDev *)obj)->inits++;
}

static const Property test_dev_props[] = {
    DEFINE_PROP_BOOL("flag", TestDev, flag, true),
    DEFINE_PROP_UINT32("count", TestDev, count, 3),
    DEFINE_PROP_SIZE("size", TestDev, size, 4096),
    DEFINE_PROP_INT32("level", TestDev, level, -2),
    DEFINE_PROP_STRING("label", TestDev, label),
    DEFINE_PROP_END,
};

static const ObjectClass test_dev_class = {
    .name = "test-dev",
    .instance_size = sizeof(TestDev),
    .props = test_dev_props,
    .init = test_dev_init,
    .realize = test_dev_realize,
    .reset = test_dev_reset,
    .user_creatable = true,
};
OBJECT_CLASS_REGISTER(test_dev_class)

typedef struct SubDev {
    TestDev parent;
    uint16_t extra;
} SubDev;

static const Property sub_dev_props[] = {
    DEFINE_PROP_UINT16("extra", SubDev, extra, 7),
    DEFINE_PROP_END,
};

static const ObjectClass sub_dev_class = {
    .name = "sub-dev",
    .parent = &test_dev_class,
    .instance_size = sizeof(SubDev),
    .props = sub_dev_props,
};
OBJECT_CLASS_REGISTER(sub_dev_class)

static void test_defaults_and_props(void)
{
    TestDev *d = (TestDev *)object_new(object_class_by_name("test-dev"));
    g_assert_true(d->flag);
    g_assert_cmpuint(d->count, ==, 3);
    g_assert_cmpuint(d->size, ==, 4096);
    g_assert_cmpint(d->level, ==, -2);
    g_assert_null(d->label);
    g_assert_cmpint(d->inits, ==, 1);

    Error *err = NULL;
    g_assert_true(object_property_set_str(OBJECT(d), "flag", "off", &err));
    g_assert_true(object_property_set_str(OBJECT(d), "count", "0x10", &err));
    g_assert_true(object_property_set_str(OBJECT(d), "size", "2M", &err));
    g_assert_true(object_property_set_str(OBJECT(d), "level", "-9", &err));
    g_assert_true(object_property_set_str(OBJECT(d), "label", "hello", &err));
    g_assert_null(err);
    g_assert_false(d->flag);
    g_assert_cmpuint(d->count, ==, 16);
    g_assert_cmpuint(d->size, ==, 2 * 1024 * 1024);
    g_assert_cmpint(d->level, ==, -9);
    char *s = object_property_get_str(OBJECT(d), "size", NULL);
    g_assert_cmpstr(s, ==, "2097152");
    g_free(s);
    s = object_property_get_str(OBJECT(d), "label", NULL);
    g_assert_cmpstr(s, ==, "hello");
    g_free(s);

    g_assert_false(object_property_set_str(OBJECT(d), "count", "4294967296", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "count"));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(d), "flag", "maybe", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(d), "nosuch", "1", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "not found"));
    error_free(err);
    object_unref(OBJECT(d));
}

static void test_realize(void)
{
    TestDev *d = (TestDev *)object_new(&test_dev_class);
    Error *err = NULL;
    g_assert_true(object_property_set_str(OBJECT(d), "count", "0", NULL));
    g_assert_false(object_realize(OBJECT(d), &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "count must not be zero");
    g_assert_false(OBJECT(d)->realized);
    error_free(err);
    err = NULL;
    g_assert_true(object_property_set_str(OBJECT(d), "count", "1", NULL));
    g_assert_true(object_realize(OBJECT(d), &err));
    g_assert_false(object_property_set_str(OBJECT(d), "count", "2", &err));
    error_free(err);
    object_unref(OBJECT(d));
}

static void test_inheritance(void)
{
    SubDev *s = (SubDev *)object_new(&sub_dev_class);
    g_assert_true(object_is_a(OBJECT(s), &test_dev_class));
    g_assert_false(object_is_a(OBJECT(s), &sub_dev_class) == false);
    g_assert_cmpuint(s->extra, ==, 7);
    g_assert_cmpuint(s->parent.count, ==, 3);
    g_assert_cmpint(s->parent.inits, ==, 1);
    g_assert_true(object_property_set_str(OBJECT(s), "extra", "9", NULL));
    g_assert_true(object_property_set_str(OBJECT(s), "count", "5", NULL));
    g_assert_cmpuint(s->extra, ==, 9);
    g_assert_cmpuint(s->parent.count, ==, 5);
    GPtrArray *list = object_class_list(&test_dev_class, false);
    g_assert_cmpuint(list->len, ==, 2);
    g_ptr_array_free(list, true);
    object_unref(OBJECT(s));
}

static void test_tree_and_reset(void)
{
    Object *top = object_new(&test_dev_class);
    g_assert_true(object_add_child(object_root(), "top", top, NULL));
    Object *a = object_new(&test_dev_class);
    Object *b = object_new(&sub_dev_class);
    char *name = object_child_unique_name(top, "device");
    g_assert_cmpstr(name, ==, "device[0]");
    g_assert_true(object_add_child(top, name, a, NULL));
    g_free(name);
    name = object_child_unique_name(top, "device");
    g_assert_cmpstr(name, ==, "device[1]");
    g_assert_true(object_add_child(top, name, b, NULL));
    g_free(name);
    Error *err = NULL;
    g_assert_false(object_add_child(top, "device[0]", object_new(&test_dev_class), &err));
    error_free(err);

    g_assert_true(object_resolve_path("/top/device[1]") == b);
    g_assert_null(object_resolve_path("/top/device[2]"));
    g_assert_null(object_resolve_path("top"));
    char *path = object_get_path(b);
    g_assert_cmpstr(path, ==, "/top/device[1]");
    g_free(path);

    g_assert_true(object_realize(top, NULL) && object_realize(a, NULL));
    object_reset_tree(top);
    g_assert_cmpint(((TestDev *)top)->resets, ==, 1);
    g_assert_cmpint(((TestDev *)a)->resets, ==, 1);
    g_assert_cmpint(((TestDev *)b)->resets, ==, 0);   /* not realized: not reset */

    object_unref(a);
    object_unref(b);
    object_unparent(top);
    object_unref(top);
    g_assert_null(object_resolve_path("/top"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/object/defaults-and-props", test_defaults_and_props);
    g_test_add_func("/object/realize", test_realize);
    g_test_add_func("/object/inheritance", test_inheritance);
    g_test_add_func("/object/tree-and-reset", test_tree_and_reset);
    return g_test_run();
}
