/* Unit tests for the option parser: implied keys, ",,", boolean forms, numbers and sizes. */
#include <glib.h>
#include <string.h>
#include "util/error.h"
#include "util/option.h"

static Opts *parse_ok(const char *str, const char *implied)
{
    Error *err = NULL;
    Opts *opts = opts_parse(str, implied, &err);

    g_assert_null(err);
    g_assert_nonnull(opts);
    return opts;
}

static void test_implied_key(void)
{
    Opts *opts = parse_ok("virt,accel=tcg", "type");

    g_assert_cmpstr(opts_get(opts, "type"), ==, "virt");
    g_assert_cmpstr(opts_get(opts, "accel"), ==, "tcg");
    g_assert_true(opts_check_all_used(opts, NULL, NULL));
    opts_free(opts);

    /* A first element with '=' is an ordinary key even when an implied key exists. */
    opts = parse_ok("size=512M", "size");
    g_assert_cmpstr(opts_get(opts, "size"), ==, "512M");
    opts_free(opts);
}

static void test_no_implied_key(void)
{
    Error *err = NULL;

    g_assert_null(opts_parse("virt,accel=tcg", NULL, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "virt"));
    error_free(err);
}

static void test_double_comma(void)
{
    Opts *opts = parse_ok("path=/tmp/a,,b,,,server", "path");

    g_assert_cmpstr(opts_get(opts, "path"), ==, "/tmp/a,b,");
    g_assert_cmpstr(opts_get(opts, "server"), ==, "on");
    opts_free(opts);

    opts = parse_ok("x,,y", "path");
    g_assert_cmpstr(opts_get(opts, "path"), ==, "x,y");
    opts_free(opts);
}

static void test_bool_forms(void)
{
    Opts *opts = parse_ok("socket,server,nowait,a=yes,b=no,c=true,d=false,e=on,f=off", "backend");
    bool v;

    g_assert_true(opts_get_bool(opts, "server", false, &v, NULL) && v);
    g_assert_true(opts_get_bool(opts, "wait", true, &v, NULL) && !v);
    g_assert_true(opts_get_bool(opts, "a", false, &v, NULL) && v);
    g_assert_true(opts_get_bool(opts, "b", true, &v, NULL) && !v);
    g_assert_true(opts_get_bool(opts, "c", false, &v, NULL) && v);
    g_assert_true(opts_get_bool(opts, "d", true, &v, NULL) && !v);
    g_assert_true(opts_get_bool(opts, "e", false, &v, NULL) && v);
    g_assert_true(opts_get_bool(opts, "f", true, &v, NULL) && !v);
    g_assert_true(opts_get_bool(opts, "absent", true, &v, NULL) && v);
    g_assert_true(opts_get_bool(opts, "absent", false, &v, NULL) && !v);
    opts_get(opts, "backend");
    g_assert_true(opts_check_all_used(opts, NULL, NULL));
    opts_free(opts);
}

static void test_bool_malformed(void)
{
    Opts *opts = parse_ok("wait=maybe", NULL);
    Error *err = NULL;
    bool v;

    g_assert_false(opts_get_bool(opts, "wait", true, &v, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "maybe"));
    error_free(err);
    opts_free(opts);
}

static void test_last_wins(void)
{
    Opts *opts = parse_ok("a=1,b=2,a=3,trailing=x,", NULL);

    g_assert_cmpstr(opts_get(opts, "a"), ==, "3");
    g_assert_true(opts_has(opts, "b"));
    g_assert_false(opts_has(opts, "c"));
    g_assert_cmpstr(opts_get(opts, "trailing"), ==, "x");
    opts_free(opts);
}

static void append_pair(const char *key, const char *value, void *opaque)
{
    g_string_append_printf(opaque, "%s=%s;", key, value);
}

static void test_foreach_order(void)
{
    Opts *opts = parse_ok("tcg,thread=single,,x,flag", "accel");
    GString *seen = g_string_new(NULL);

    opts_foreach(opts, append_pair, seen);
    g_assert_cmpstr(seen->str, ==, "accel=tcg;thread=single,x;flag=on;");
    g_string_free(seen, TRUE);
    opts_free(opts);
}

static void test_unused_key(void)
{
    Opts *opts = parse_ok("256M,slots=2", "size");
    Error *err = NULL;

    opts_get(opts, "size");
    g_assert_false(opts_check_all_used(opts, "-m", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'slots'"));
    error_free(err);
    opts_mark_all_used(opts);
    g_assert_true(opts_check_all_used(opts, "-m", NULL));
    opts_free(opts);
}

static void test_empty_key(void)
{
    Error *err = NULL;

    g_assert_null(opts_parse("a=1,=2", NULL, &err));
    g_assert_nonnull(err);
    error_free(err);
}

static void test_sizes(void)
{
    static const struct {
        const char *str;
        char suffix;
        bool ok;
        uint64_t value;
    } cases[] = {
        { "256", 'M', true, 256ULL << 20 },
        { "256", 0, true, 256 },
        { "256M", 0, true, 256ULL << 20 },
        { "1G", 'M', true, 1ULL << 30 },
        { "1g", 'M', true, 1ULL << 30 },
        { "4k", 'M', true, 4096 },
        { "4K", 'M', true, 4096 },
        { "2T", 'M', true, 2ULL << 40 },
        { "1.5G", 'M', true, 3ULL << 29 },
        { "100B", 'M', true, 100 },
        { "abc", 'M', false, 0 },
        { "", 'M', false, 0 },
        { "-1", 'M', false, 0 },
        { "12Q", 'M', false, 0 },
        { "1GB", 'M', false, 0 },
        { "16E", 'M', false, 0 },
        { "99999999999999999999", 0, false, 0 },
        { " 5", 'M', false, 0 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        Error *err = NULL;
        uint64_t v = 0;
        bool ok = parse_size(cases[i].str, cases[i].suffix, &v, &err);

        g_test_message("size '%s'", cases[i].str);
        g_assert_cmpint(ok, ==, cases[i].ok);
        if (ok) {
            g_assert_cmpuint(v, ==, cases[i].value);
            g_assert_null(err);
        } else {
            g_assert_nonnull(err);
            g_assert_nonnull(strstr(error_get_pretty(err), "invalid size"));
            error_free(err);
        }
    }
}

static void test_opts_size_and_number(void)
{
    Opts *opts = parse_ok("size=64k,n=0x10,bad=12x", NULL);
    Error *err = NULL;
    uint64_t v;

    g_assert_true(opts_get_size(opts, "size", 0, &v, NULL));
    g_assert_cmpuint(v, ==, 65536);
    g_assert_true(opts_get_number(opts, "n", 0, &v, NULL));
    g_assert_cmpuint(v, ==, 16);
    g_assert_true(opts_get_number(opts, "absent", 7, &v, NULL));
    g_assert_cmpuint(v, ==, 7);
    g_assert_false(opts_get_number(opts, "bad", 0, &v, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'bad'"));
    error_free(err);
    opts_free(opts);
}

static void test_numbers_and_bools(void)
{
    uint64_t v;
    bool b;

    g_assert_true(parse_uint64("42", &v, NULL));
    g_assert_cmpuint(v, ==, 42);
    g_assert_true(parse_uint64("18446744073709551615", &v, NULL));
    g_assert_cmpuint(v, ==, UINT64_MAX);
    g_assert_false(parse_uint64("18446744073709551616", &v, NULL));
    g_assert_false(parse_uint64("-1", &v, NULL));
    g_assert_false(parse_uint64("", &v, NULL));
    g_assert_false(parse_uint64("4x", &v, NULL));
    g_assert_true(parse_bool("on", &b, NULL) && b);
    g_assert_true(parse_bool("off", &b, NULL) && !b);
    g_assert_false(parse_bool("1", &b, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/option/implied-key", test_implied_key);
    g_test_add_func("/option/no-implied-key", test_no_implied_key);
    g_test_add_func("/option/double-comma", test_double_comma);
    g_test_add_func("/option/bool-forms", test_bool_forms);
    g_test_add_func("/option/bool-malformed", test_bool_malformed);
    g_test_add_func("/option/last-wins", test_last_wins);
    g_test_add_func("/option/foreach-order", test_foreach_order);
    g_test_add_func("/option/unused-key", test_unused_key);
    g_test_add_func("/option/empty-key", test_empty_key);
    g_test_add_func("/option/sizes", test_sizes);
    g_test_add_func("/option/opts-size-number", test_opts_size_and_number);
    g_test_add_func("/option/numbers-bools", test_numbers_and_bools);
    return g_test_run();
}
