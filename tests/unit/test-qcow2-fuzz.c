/* Replays every file of tests/fuzz/corpus-qcow2 through the qcow2 fuzz target's entry point
 * (built here without libFuzzer): malformed images must be refused or handled, never crash. */
#include <glib.h>
#include "../fuzz/fuzz-qcow2.c"

static void replay_one(gconstpointer data)
{
    gchar *buf;
    gsize len;
    g_assert_true(g_file_get_contents(data, &buf, &len, NULL));
    g_assert_cmpint(LLVMFuzzerTestOneInput((const uint8_t *)buf, len), ==, 0);
    g_free(buf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const char *dir = "tests/fuzz/corpus-qcow2";
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_ptr_array_add(names, g_strdup(name));
    }
    g_dir_close(d);
    g_assert_cmpuint(names->len, >, 0);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        char *test = g_strdup_printf("/qcow2-fuzz/corpus/%s", n);
        g_test_add_data_func_full(test, g_build_filename(dir, n, NULL), replay_one, g_free);
        g_free(test);
    }
    int ret = g_test_run();
    g_ptr_array_unref(names);
    return ret;
}
