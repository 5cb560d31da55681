/* Unit tests for character devices: file, unix socket server/client, mux escapes, specs. */
#include <glib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "util/chardev.h"
#include "util/error.h"

/* A front end that records what it receives and can refuse input. */
typedef struct TestFe {
    GString *in;
    GString *events;          /* one letter per event: O C I U B */
    int room;                 /* what can_read answers */
} TestFe;

static int fe_can_read(void *opaque)
{
    return ((TestFe *)opaque)->room;
}

static void fe_read(void *opaque, const uint8_t *buf, int len)
{
    TestFe *fe = opaque;

    g_assert_cmpint(len, <=, fe->room);
    g_string_append_len(fe->in, (const char *)buf, len);
}

static void fe_event(void *opaque, ChrEvent event)
{
    static const char letters[] = {
        [CHR_EVENT_OPENED] = 'O', [CHR_EVENT_CLOSED] = 'C', [CHR_EVENT_MUX_IN] = 'I',
        [CHR_EVENT_MUX_OUT] = 'U', [CHR_EVENT_BREAK] = 'B',
    };

    g_string_append_c(((TestFe *)opaque)->events, letters[event]);
}

static void fe_init(TestFe *fe)
{
    fe->in = g_string_new(NULL);
    fe->events = g_string_new(NULL);
    fe->room = 1024;
}

static void fe_attach(Chardev *chr, TestFe *fe)
{
    Error *err = NULL;

    g_assert_true(chr_add_frontend(chr, fe_can_read, fe_read, fe_event, fe, &err));
    g_assert_null(err);
}

/* Runs the main context until *cond holds or 5 s pass. */
static bool pump_until(bool (*cond)(void *), void *opaque)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!cond(opaque) && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    return cond(opaque);
}

static void pump_for(int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;

    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

typedef struct Expect {
    GString *s;
    const char *want;
} Expect;

static bool string_has(void *opaque)
{
    Expect *e = opaque;

    return strstr(e->s->str, e->want) != NULL;
}

static void wait_for(GString *s, const char *want)
{
    Expect e = { s, want };

    if (!pump_until(string_has, &e)) {
        g_error("timed out waiting for '%s', have '%s'", want, s->str);
    }
}

static bool chr_connected(void *opaque)
{
    return chr_is_connected(opaque);
}

static char *tmp_path(const char *name)
{
    return g_strdup_printf("%s/vessel-test-chardev-%d-%s", g_get_tmp_dir(), (int)getpid(),
                           name);
}

static Chardev *new_chardev(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static Chardev *new_chardev(const char *fmt, ...)
{
    Error *err = NULL;
    va_list ap;
    char *str;
    Chardev *chr;

    va_start(ap, fmt);
    str = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    chr = chardev_new_from_string(str, &err);
    if (err) {
        g_error("%s: %s", str, error_get_pretty(err));
    }
    g_free(str);
    return chr;
}

static int raw_connect(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(un.sun_path, path, sizeof(un.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&un, sizeof(un)), ==, 0);
    return fd;
}

/* Reads what arrives on fd within ms milliseconds while pumping the main context. */
static void raw_read_into(int fd, GString *out, const char *want)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    char buf[512];

    while (!strstr(out->str, want) && g_get_monotonic_time() < end) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            g_string_append_len(out, buf, n);
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    if (!strstr(out->str, want)) {
        g_error("timed out waiting for '%s' on the socket, have '%s'", want, out->str);
    }
}

static void test_file(void)
{
    char *path = tmp_path("file");
    Chardev *chr = new_chardev("file,id=file0,path=%s", path);
    Chardev *app;
    char *data;

    g_assert_true(chardev_find("file0") == chr);
    g_assert_cmpstr(chardev_id(chr), ==, "file0");
    g_assert_cmpstr(chardev_filename(chr), ==, "file");
    g_assert_true(chr_is_connected(chr));
    g_assert_cmpint(chr_write(chr, (const uint8_t *)"hello ", 6), ==, 6);
    g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
    g_assert_cmpstr(data, ==, "hello ");
    g_free(data);

    app = new_chardev("file,id=file1,path=%s,append=on", path);
    chr_write(app, (const uint8_t *)"world", 5);
    g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
    g_assert_cmpstr(data, ==, "hello world");
    g_free(data);
    g_unlink(path);
    g_free(path);
}

static void test_bad_strings(void)
{
    static const char *const bad[] = {
        "nosuch,id=x1",                   /* unknown back end */
        "null",                           /* no id */
        "null,id=file0",                  /* duplicate id (test_file created it) */
        "null,id=1abc",                   /* invalid id */
        "null,id=x2,bogus=1",             /* unknown parameter */
        "file,id=x3",                     /* file without path */
        "socket,id=x4",                   /* socket without address */
        "socket,id=x5,path=/nonexistent-dir/sock", /* client that cannot connect */
        "socket,id=x6,path=/tmp/x,port=5",
        "null,id=x7,mux=maybe",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        Error *err = NULL;

        g_test_message("%s", bad[i]);
        g_assert_null(chardev_new_from_string(bad[i], &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), !=, "");
        error_free(err);
    }
    g_assert_null(chardev_find("x1"));
    g_assert_null(chardev_find("x7"));
}

static void test_specs(void)
{
    Error *err = NULL;
    Chardev *chr;
    char *path = tmp_path("spec,file");
    char *spec = g_strdup_printf("file:%s", path);

    g_assert_null(chardev_new_from_spec("none", "spec0", &err));
    g_assert_null(err);

    chr = chardev_new_from_spec("null", "spec1", &err);
    g_assert_nonnull(chr);
    g_assert_cmpstr(chardev_filename(chr), ==, "null");
    g_assert_cmpint(chr_write(chr, (const uint8_t *)"x", 1), ==, 1);

    chr = chardev_new_from_spec(spec, "spec2", &err);
    g_assert_nonnull(chr);
    chr_write(chr, (const uint8_t *)"abc", 3);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    g_unlink(path);

    g_assert_true(chardev_new_from_spec("chardev:spec1", "ignored", &err) ==
                  chardev_find("spec1"));

    chr = chardev_new_from_spec("mon:null", "spec3", &err);
    g_assert_nonnull(chr);
    g_assert_cmpstr(chardev_filename(chr), ==, "mux");
    g_assert_cmpstr(chardev_filename(chardev_find("spec3-base")), ==, "null");

    chr = chardev_new_from_spec("tcp:127.0.0.1:0,server=on,wait=off", "spec4", &err);
    g_assert_nonnull(chr);
    g_assert_true(g_str_has_prefix(chardev_filename(chr), "disconnected:tcp:127.0.0.1:"));
    g_assert_true(g_str_has_suffix(chardev_filename(chr), ",server=on"));
    g_assert_false(chr_is_connected(chr));
    g_assert_cmpint(chr_write(chr, (const uint8_t *)"x", 1), ==, -1);
    {
        int port = atoi(strrchr(chardev_filename(chr), ':') + 1);
        char *srv_name, *cli_name;
        Chardev *cli = new_chardev("socket,id=tcpcli,host=127.0.0.1,port=%d,nodelay=on", port);

        g_assert_true(pump_until(chr_connected, chr));
        srv_name = g_strdup_printf("tcp:127.0.0.1:%d,server=on <-> 127.0.0.1:", port);
        cli_name = g_strdup_printf(" <-> 127.0.0.1:%d", port);
        g_assert_true(g_str_has_prefix(chardev_filename(chr), srv_name));
        g_assert_true(g_str_has_prefix(chardev_filename(cli), "tcp:127.0.0.1:"));
        g_assert_true(g_str_has_suffix(chardev_filename(cli), cli_name));
        g_free(srv_name);
        g_free(cli_name);
    }

    static const char *const bad[] = { "vc", "foo:bar", "chardev:nosuch", "tcp:nohostport" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(chardev_new_from_spec(bad[i], "spec9", &err));
        g_assert_nonnull(err);
        error_free(err);
        err = NULL;
    }
    g_free(spec);
    g_free(path);
}

static void test_socket_pair(void)
{
    char *path = tmp_path("pair.sock");
    Chardev *srv = new_chardev("socket,id=srv,path=%s,server=on,wait=off", path);
    char *want = g_strdup_printf("disconnected:unix:%s,server=on", path);
    TestFe sfe, cfe;
    Chardev *cli;

    fe_init(&sfe);
    fe_init(&cfe);
    g_assert_cmpstr(chardev_filename(srv), ==, want);
    g_assert_false(chr_is_connected(srv));
    fe_attach(srv, &sfe);
    g_assert_cmpint(chr_write(srv, (const uint8_t *)"lost", 4), ==, -1);

    cli = new_chardev("socket,id=cli,path=%s", path);
    g_assert_true(chr_is_connected(cli));
    fe_attach(cli, &cfe);
    g_assert_cmpstr(cfe.events->str, ==, "O");
    g_assert_true(pump_until(chr_connected, srv));
    g_assert_cmpstr(sfe.events->str, ==, "O");
    g_free(want);
    want = g_strdup_printf("unix:%s,server=on", path);
    g_assert_cmpstr(chardev_filename(srv), ==, want);

    g_assert_cmpint(chr_write(cli, (const uint8_t *)"ping", 4), ==, 4);
    wait_for(sfe.in, "ping");
    g_assert_cmpint(chr_write(srv, (const uint8_t *)"pong", 4), ==, 4);
    wait_for(cfe.in, "pong");
    g_assert_cmpstr(sfe.in->str, ==, "ping");

    /* A front end that takes nothing holds input back until it accepts again. */
    cfe.room = 0;
    chr_write(srv, (const uint8_t *)"later", 5);
    pump_for(50);
    g_assert_cmpstr(cfe.in->str, ==, "pong");
    cfe.room = 2;
    chr_accept_input(cli);
    wait_for(cfe.in, "pong" "later");
    g_free(want);
    g_free(path);
}

static void test_socket_reconnect(void)
{
    char *path = tmp_path("reconnect.sock");
    Chardev *srv = new_chardev("socket,id=srv2,path=%s,server,nowait", path);
    GString *got = g_string_new(NULL);
    TestFe fe;
    int fd;

    fe_init(&fe);
    fe_attach(srv, &fe);
    for (int round = 0; round < 2; round++) {
        fd = raw_connect(path);
        g_assert_true(pump_until(chr_connected, srv));
        g_assert_cmpint(write(fd, "hi", 2), ==, 2);
        wait_for(fe.in, round ? "hihi" : "hi");
        chr_write(srv, (const uint8_t *)"back", 4);
        g_string_truncate(got, 0);
        raw_read_into(fd, got, "back");
        close(fd);
        pump_for(50);
        g_assert_false(chr_is_connected(srv));
        g_assert_true(g_str_has_prefix(chardev_filename(srv), "disconnected:unix:"));
        /* Writes while nobody is connected are dropped, not queued. */
        g_assert_cmpint(chr_write(srv, (const uint8_t *)"drop", 4), ==, -1);
    }
    g_assert_cmpstr(fe.events->str, ==, "OCOC");
    g_string_free(got, TRUE);
    g_free(path);
}

static void test_socket_client_reconnect(void)
{
    char *path = tmp_path("client.sock");
    char *want = g_strdup_printf("disconnected:unix:%s", path);
    Chardev *cli = new_chardev("socket,id=recli,path=%s,reconnect=1", path);
    Chardev *srv;
    TestFe fe;

    /* No server yet: the client starts disconnected and retries every second. */
    fe_init(&fe);
    g_assert_false(chr_is_connected(cli));
    g_assert_cmpstr(chardev_filename(cli), ==, want);
    fe_attach(cli, &fe);
    srv = new_chardev("socket,id=resrv,path=%s,server=on,wait=off", path);
    g_assert_true(pump_until(chr_connected, cli));
    g_assert_true(pump_until(chr_connected, srv));
    g_assert_cmpstr(fe.events->str, ==, "O");
    chr_write(srv, (const uint8_t *)"hello", 5);
    wait_for(fe.in, "hello");
    g_free(want);
    g_free(path);
}

static void test_mux_escapes(void)
{
    char *path = tmp_path("mux.sock");
    Chardev *mux = new_chardev("socket,id=mux0,path=%s,server=on,wait=off,mux=on", path);
    GString *out = g_string_new(NULL);
    TestFe a, b;
    int fd;

    g_assert_cmpstr(chardev_filename(mux), ==, "mux");
    g_assert_nonnull(chardev_find("mux0-base"));
    fe_init(&a);
    fe_init(&b);
    fe_attach(mux, &a);
    fe_attach(mux, &b);
    g_assert_cmpstr(a.events->str, ==, "I");
    fd = raw_connect(path);
    g_assert_true(pump_until(chr_connected, chardev_find("mux0-base")));
    g_assert_cmpstr(a.events->str, ==, "IO");
    g_assert_cmpstr(b.events->str, ==, "O");

    /* Plain bytes go to the focused front end; Ctrl-a c moves the focus. */
    g_assert_cmpint(write(fd, "ab\001cxy", 6), ==, 6);
    wait_for(b.in, "xy");
    g_assert_cmpstr(a.in->str, ==, "ab");
    g_assert_cmpstr(a.events->str, ==, "IOU");
    g_assert_cmpstr(b.events->str, ==, "OI");

    /* Ctrl-a Ctrl-a and Ctrl-a a send one Ctrl-a; Ctrl-a b is a break; unknown is dropped. */
    g_assert_cmpint(write(fd, "\001\001z\001a\001b\001q!", 10), ==, 10);
    wait_for(b.in, "!");
    g_assert_cmpstr(b.in->str, ==, "xy\001z\001!");
    g_assert_cmpstr(b.events->str, ==, "OIB");

    /* Ctrl-a h prints the help on the back end; output of both front ends goes through. */
    g_assert_cmpint(write(fd, "\001h", 2), ==, 2);
    raw_read_into(fd, out, "C-a c");
    g_assert_nonnull(strstr(out->str, "C-a x    exit emulator"));
    chr_write(mux, (const uint8_t *)"from-any", 8);
    raw_read_into(fd, out, "from-any");

    /* Ctrl-a t stamps the start of every output line. */
    g_assert_cmpint(write(fd, "\001t", 2), ==, 2);
    pump_for(50);
    g_string_truncate(out, 0);
    chr_write(mux, (const uint8_t *)"l1\nl2", 5);
    raw_read_into(fd, out, "l2");
    g_assert_true(g_regex_match_simple("^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d\\] l1\n"
                                       "\\[\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d\\] l2$",
                                       out->str, 0, 0));

    /* A busy front end keeps its input until it accepts; escapes still work meanwhile. */
    b.room = 0;
    g_assert_cmpint(write(fd, "wait\001c", 6), ==, 6);
    pump_for(50);
    g_assert_cmpstr(b.in->str, ==, "xy\001z\001!");
    g_assert_cmpstr(a.events->str, ==, "IOUI");
    g_assert_cmpint(write(fd, "\001c", 2), ==, 2);
    pump_for(50);
    b.room = 100;
    chr_accept_input(mux);
    g_assert_cmpstr(b.in->str, ==, "xy\001z\001!wait");
    close(fd);
    pump_for(50);
    g_assert_true(g_str_has_suffix(a.events->str, "C"));
    g_assert_true(g_str_has_suffix(b.events->str, "C"));
    g_string_free(out, TRUE);
    g_free(path);
}

static void test_mux_frontend_limit(void)
{
    Chardev *mux = new_chardev("null,id=muxlimit,mux=on");
    TestFe fe[5];
    Error *err = NULL;

    for (int i = 0; i < 4; i++) {
        fe_init(&fe[i]);
        fe_attach(mux, &fe[i]);
    }
    fe_init(&fe[4]);
    g_assert_false(chr_add_frontend(mux, fe_can_read, fe_read, fe_event, &fe[4], &err));
    g_assert_nonnull(err);
    error_free(err);
    /* A plain back end takes one front end only. */
    err = NULL;
    g_assert_false(chr_add_frontend(chardev_find("muxlimit-base"), fe_can_read, fe_read,
                                    fe_event, &fe[4], &err));
    g_assert_nonnull(err);
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chardev/file", test_file);
    g_test_add_func("/chardev/bad-strings", test_bad_strings);
    g_test_add_func("/chardev/specs", test_specs);
    g_test_add_func("/chardev/socket-pair", test_socket_pair);
    g_test_add_func("/chardev/socket-reconnect", test_socket_reconnect);
    g_test_add_func("/chardev/socket-client-reconnect", test_socket_client_reconnect);
    g_test_add_func("/chardev/mux-escapes", test_mux_escapes);
    g_test_add_func("/chardev/mux-frontend-limit", test_mux_frontend_limit);
    int status = g_test_run();

    chardev_cleanup_all();
    return status;
}
