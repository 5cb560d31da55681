/*
 * stdio back end: output to stdout, input from stdin (a tty in raw mode or any pipe).
 * At the end of piped input reading stops and output goes on. The terminal's original
 * mode is restored by chardev_cleanup_all.
 */
#include <errno.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>
#include "util/chardev-internal.h"

typedef struct StdioChardev {
    Chardev chr;
    bool raw;                 /* the terminal mode was changed and needs restoring */
    struct termios saved;
} StdioChardev;

/* Only one chardev may own the process's stdin/stdout. */
static bool stdio_in_use;

static const char *const stdio_keys[] = { "signal", NULL };

/* Raw input (no echo, no line editing, no CR/LF mapping); keeps ^C etc. when signal. */
static void stdio_set_raw(StdioChardev *s, bool signal)
{
    struct termios t;

    if (tcgetattr(STDIN_FILENO, &s->saved) < 0) {
        return;
    }
    t = s->saved;
    t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    if (!signal) {
        t.c_lflag &= ~ISIG;
    }
    t.c_cflag &= ~(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        s->raw = true;
    }
}

static bool stdio_open(Chardev *chr, Opts *opts, Error **errp)
{
    StdioChardev *s = (StdioChardev *)chr;
    bool signal;

    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    if (!opts_get_bool(opts, "signal", true, &signal, errp)) {
        return false;
    }
    stdio_in_use = true;
    if (isatty(STDIN_FILENO)) {
        stdio_set_raw(s, signal);
    }
    chardev_set_filename(chr, "stdio");
    chardev_input_start(chr, STDIN_FILENO);
    return true;
}

static int stdio_write(Chardev *chr, const uint8_t *buf, int len)
{
    chardev_write_full(STDOUT_FILENO, buf, len);
    return len;
}

static void stdio_cleanup(Chardev *chr)
{
    StdioChardev *s = (StdioChardev *)chr;

    if (s->raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &s->saved);
        s->raw = false;
    }
}

const ChardevDriver chardev_stdio_driver = {
    .name = "stdio",
    .instance_size = sizeof(StdioChardev),
    .keys = stdio_keys,
    .open = stdio_open,
    .write = stdio_write,
    .cleanup = stdio_cleanup,
};
