/*
 * The console layer: graphic consoles registered by display devices, text consoles behind
 * 'vc' chardevs, dirty tracking with pixman regions, the refresh tick that feeds the display
 * front ends, and screendump.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <zlib.h>
#include "hw/core/machine.h"
#include "ui/console.h"
#include "ui/font.h"
#include "ui/input.h"
#include "util/chardev-internal.h"
#include "util/timer.h"

#define REFRESH_INTERVAL_NS (30 * 1000 * 1000)
#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 480
#define TEXT_COLS 80
#define TEXT_ROWS 30
#define TEXT_MAX_PARAMS 8

/* A character cell of a text console. */
typedef struct TextCell {
    uint8_t ch;
    uint8_t fg, bg;          /* indexes into text_palette */
} TextCell;

typedef enum TextState { TEXT_NORMAL, TEXT_ESC, TEXT_CSI } TextState;

struct Console {
    char *label;
    bool graphic;
    const GraphicHwOps *ops;
    void *opaque;
    DisplaySurface surface;
    pixman_region32_t dirty;
    /* Text consoles only. */
    Chardev *chr;
    TextCell *cells;         /* TEXT_ROWS * TEXT_COLS */
    int cx, cy;
    uint8_t fg, bg;
    bool bold;
    TextState state;
    int params[TEXT_MAX_PARAMS];
    int nparams;
};

typedef struct VcChardev {
    Chardev chr;
    Console *con;
} VcChardev;

static GPtrArray *consoles;          /* of Console *, creation order */
static Console *active;
static GPtrArray *listeners;         /* of DisplayListener * */
static Timer *refresh_timer;
static bool switch_pending;

/* Black, red, green, yellow, blue, magenta, cyan, white; then the bright ones. */
static const uint32_t text_palette[16] = {
    0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
    0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

static void surface_alloc(DisplaySurface *s, int width, int height)
{
    if (s->image) {
        pixman_image_unref(s->image);
    }
    s->width = width;
    s->height = height;
    /* pixman zero-fills the bits it allocates: a black screen. */
    s->image = pixman_image_create_bits(PIXMAN_x8r8g8b8, width, height, NULL, width * 4);
}

static void refresh_arm(void)
{
    if (listeners && listeners->len && !timer_pending(refresh_timer)) {
        timer_mod(refresh_timer, clock_ns() + REFRESH_INTERVAL_NS);
    }
}

static Console *console_new(const char *label, bool graphic, int width, int height)
{
    Console *con = g_new0(Console, 1);

    con->label = g_strdup(label);
    con->graphic = graphic;
    surface_alloc(&con->surface, width, height);
    pixman_region32_init(&con->dirty);
    if (!consoles) {
        consoles = g_ptr_array_new();
    }
    /* Graphic consoles come first (Ctrl-Alt-1), text ones after in creation order. */
    guint pos = consoles->len;
    while (graphic && pos > 0 && !((Console *)g_ptr_array_index(consoles, pos - 1))->graphic) {
        pos--;
    }
    g_ptr_array_insert(consoles, pos, con);
    /* The first graphic console is shown; text consoles only until one exists. */
    if (!active || (graphic && !active->graphic)) {
        active = con;
        switch_pending = true;
        refresh_arm();
    }
    return con;
}

Console *console_graphic_new(const char *label, const GraphicHwOps *ops, void *opaque)
{
    Console *con = console_new(label, true, DEFAULT_WIDTH, DEFAULT_HEIGHT);

    con->ops = ops;
    con->opaque = opaque;
    return con;
}

void console_destroy(Console *con)
{
    g_ptr_array_remove(consoles, con);
    if (active == con) {
        active = NULL;
        for (guint i = 0; i < consoles->len && !active; i++) {
            Console *c = g_ptr_array_index(consoles, i);
            if (c->graphic) {
                active = c;
            }
        }
        if (!active && consoles->len) {
            active = g_ptr_array_index(consoles, 0);
        }
        switch_pending = true;
    }
    pixman_region32_fini(&con->dirty);
    pixman_image_unref(con->surface.image);
    g_free(con->cells);
    g_free(con->label);
    g_free(con);
}

DisplaySurface *console_surface(Console *con)
{
    return &con->surface;
}

void console_resize(Console *con, int width, int height)
{
    if (width == con->surface.width && height == con->surface.height) {
        return;
    }
    surface_alloc(&con->surface, width, height);
    pixman_region32_clear(&con->dirty);
    if (con == active) {
        switch_pending = true;
        refresh_arm();
    }
}

void console_mark_dirty(Console *con, int x, int y, int width, int height)
{
    int x2 = MIN(x + width, con->surface.width), y2 = MIN(y + height, con->surface.height);

    x = MAX(x, 0);
    y = MAX(y, 0);
    if (x2 <= x || y2 <= y) {
        return;
    }
    pixman_region32_union_rect(&con->dirty, &con->dirty, x, y, x2 - x, y2 - y);
}

unsigned console_count(void)
{
    return consoles ? consoles->len : 0;
}

Console *console_by_index(unsigned index)
{
    return index < console_count() ? g_ptr_array_index(consoles, index) : NULL;
}

Console *console_active(void)
{
    return active;
}

bool console_select(unsigned index)
{
    Console *con = console_by_index(index);

    if (!con) {
        return false;
    }
    if (con != active) {
        active = con;
        switch_pending = true;
        refresh_arm();
    }
    return true;
}

const char *console_label(const Console *con)
{
    return con->label;
}

bool console_is_graphic(const Console *con)
{
    return con->graphic;
}

/* ---- the refresh tick ---- */

static void console_refresh(void *opaque)
{
    if (active && active->graphic && active->ops && active->ops->gfx_update) {
        active->ops->gfx_update(active->opaque);
    }
    for (guint i = 0; i < listeners->len; i++) {
        DisplayListener *dl = g_ptr_array_index(listeners, i);

        if (switch_pending && active) {
            dl->ops->dpy_switch(dl, &active->surface);
        }
    }
    if (active) {
        if (switch_pending) {
            pixman_region32_clear(&active->dirty);
        } else if (pixman_region32_not_empty(&active->dirty)) {
            int n;
            pixman_box32_t *box = pixman_region32_rectangles(&active->dirty, &n);

            for (guint i = 0; i < listeners->len; i++) {
                DisplayListener *dl = g_ptr_array_index(listeners, i);

                for (int r = 0; r < n; r++) {
                    dl->ops->dpy_update(dl, box[r].x1, box[r].y1, box[r].x2 - box[r].x1,
                                        box[r].y2 - box[r].y1);
                }
            }
            pixman_region32_clear(&active->dirty);
        }
    }
    switch_pending = false;
    /* dpy_refresh may unregister its listener (window closed): walk a copy. */
    GPtrArray *copy = g_ptr_array_copy(listeners, NULL, NULL);
    for (guint i = 0; i < copy->len; i++) {
        DisplayListener *dl = g_ptr_array_index(copy, i);

        if (dl->ops->dpy_refresh) {
            dl->ops->dpy_refresh(dl);
        }
    }
    g_ptr_array_free(copy, TRUE);
    refresh_arm();
}

void display_listener_register(DisplayListener *dl)
{
    if (!listeners) {
        listeners = g_ptr_array_new();
        refresh_timer = timer_new(console_refresh, NULL);
    }
    g_ptr_array_add(listeners, dl);
    if (active) {
        dl->ops->dpy_switch(dl, &active->surface);
    }
    refresh_arm();
}

void display_listener_unregister(DisplayListener *dl)
{
    g_ptr_array_remove(listeners, dl);
    if (!listeners->len) {
        timer_del(refresh_timer);
    }
}

char *console_window_title(void)
{
    const char *name = current_machine ? current_machine->name : NULL;
    const char *paused = runstate_is_running() ? "" : " [Paused]";

    return name ? g_strdup_printf("Vessel (%s)%s", name, paused)
                : g_strdup_printf("Vessel%s", paused);
}

/* ---- text consoles ---- */

static void text_draw_cell(Console *con, int col, int row)
{
    const TextCell *cell = &con->cells[row * TEXT_COLS + col];
    uint32_t *base = surface_data(&con->surface);
    int stride = surface_stride(&con->surface) / 4;
    uint32_t fg = text_palette[cell->fg], bg = text_palette[cell->bg];
    const uint8_t *glyph = NULL;

    if (col == con->cx && row == con->cy) {
        uint32_t t = fg;
        fg = bg;
        bg = t;
    }
    if (cell->ch > FONT_FIRST && cell->ch < FONT_FIRST + FONT_GLYPHS) {
        glyph = font_8x16[cell->ch - FONT_FIRST];
    }
    for (int y = 0; y < FONT_HEIGHT; y++) {
        uint32_t *p = base + (row * FONT_HEIGHT + y) * stride + col * FONT_WIDTH;
        uint8_t bits = glyph ? glyph[y] : 0;

        for (int x = 0; x < FONT_WIDTH; x++) {
            p[x] = (bits & (0x80 >> x)) ? fg : bg;
        }
    }
    console_mark_dirty(con, col * FONT_WIDTH, row * FONT_HEIGHT, FONT_WIDTH, FONT_HEIGHT);
}

static void text_clear_cells(Console *con, int from, int to)
{
    for (int i = from; i < to; i++) {
        con->cells[i] = (TextCell) { ' ', 7, 0 };
        text_draw_cell(con, i % TEXT_COLS, i / TEXT_COLS);
    }
}

static void text_scroll(Console *con)
{
    uint8_t *bits = (uint8_t *)surface_data(&con->surface);
    int stride = surface_stride(&con->surface);
    int row_bytes = stride * FONT_HEIGHT;

    memmove(con->cells, con->cells + TEXT_COLS, (TEXT_ROWS - 1) * TEXT_COLS * sizeof(TextCell));
    memmove(bits, bits + row_bytes, (TEXT_ROWS - 1) * row_bytes);
    console_mark_dirty(con, 0, 0, con->surface.width, con->surface.height);
    text_clear_cells(con, (TEXT_ROWS - 1) * TEXT_COLS, TEXT_ROWS * TEXT_COLS);
}

/* Moves the cursor, redrawing the cells it leaves and enters. */
static void text_move_cursor(Console *con, int cx, int cy)
{
    int ox = con->cx, oy = con->cy;

    con->cx = CLAMP(cx, 0, TEXT_COLS - 1);
    con->cy = CLAMP(cy, 0, TEXT_ROWS - 1);
    text_draw_cell(con, ox, oy);
    text_draw_cell(con, con->cx, con->cy);
}

static void text_newline(Console *con)
{
    if (con->cy == TEXT_ROWS - 1) {
        int cx = con->cx;

        con->cx = -1;        /* keep the old cursor cell out of the scrolled copy */
        text_draw_cell(con, cx, con->cy);
        con->cx = cx;
        text_scroll(con);
        text_draw_cell(con, con->cx, con->cy);
    } else {
        text_move_cursor(con, con->cx, con->cy + 1);
    }
}

static void text_put_char(Console *con, uint8_t ch)
{
    TextCell *cell;

    if (con->cx >= TEXT_COLS) {
        con->cx = TEXT_COLS - 1;
    }
    cell = &con->cells[con->cy * TEXT_COLS + con->cx];
    *cell = (TextCell) { ch, (uint8_t)(con->fg | (con->bold ? 8 : 0)), con->bg };
    if (con->cx == TEXT_COLS - 1) {
        text_draw_cell(con, con->cx, con->cy);
        con->cx = 0;
        text_newline(con);
    } else {
        text_move_cursor(con, con->cx + 1, con->cy);
    }
}

static void text_sgr(Console *con)
{
    if (con->nparams == 0) {
        con->nparams = 1;
        con->params[0] = 0;
    }
    for (int i = 0; i < con->nparams; i++) {
        int p = con->params[i];

        if (p == 0) {
            con->fg = 7;
            con->bg = 0;
            con->bold = false;
        } else if (p == 1) {
            con->bold = true;
        } else if (p == 22) {
            con->bold = false;
        } else if (p >= 30 && p <= 37) {
            con->fg = p - 30;
        } else if (p == 39) {
            con->fg = 7;
        } else if (p >= 40 && p <= 47) {
            con->bg = p - 40;
        } else if (p == 49) {
            con->bg = 0;
        }
    }
}

/* Executes CSI sequence ending in final (the subset Linux and busybox shells emit). */
static void text_csi(Console *con, uint8_t final)
{
    int p0 = con->nparams > 0 ? con->params[0] : 0;
    int n = MAX(p0, 1);
    int pos = con->cy * TEXT_COLS + con->cx;

    switch (final) {
    case 'A':
        text_move_cursor(con, con->cx, con->cy - n);
        break;
    case 'B':
        text_move_cursor(con, con->cx, con->cy + n);
        break;
    case 'C':
        text_move_cursor(con, con->cx + n, con->cy);
        break;
    case 'D':
        text_move_cursor(con, con->cx - n, con->cy);
        break;
    case 'G':
        text_move_cursor(con, n - 1, con->cy);
        break;
    case 'H':
    case 'f':
        text_move_cursor(con, (con->nparams > 1 ? MAX(con->params[1], 1) : 1) - 1, n - 1);
        break;
    case 'J':
        if (p0 == 0) {
            text_clear_cells(con, pos, TEXT_ROWS * TEXT_COLS);
        } else if (p0 == 1) {
            text_clear_cells(con, 0, pos + 1);
        } else {
            text_clear_cells(con, 0, TEXT_ROWS * TEXT_COLS);
        }
        break;
    case 'K':
        if (p0 == 0) {
            text_clear_cells(con, pos, (con->cy + 1) * TEXT_COLS);
        } else if (p0 == 1) {
            text_clear_cells(con, con->cy * TEXT_COLS, pos + 1);
        } else {
            text_clear_cells(con, con->cy * TEXT_COLS, (con->cy + 1) * TEXT_COLS);
        }
        break;
    case 'm':
        text_sgr(con);
        break;
    default:
        break;       /* other sequences are ignored, as a dumb terminal would */
    }
    text_draw_cell(con, con->cx, con->cy);
}

static void text_write_byte(Console *con, uint8_t c)
{
    switch (con->state) {
    case TEXT_ESC:
        if (c == '[') {
            con->state = TEXT_CSI;
            con->nparams = 0;
            memset(con->params, 0, sizeof(con->params));
        } else {
            con->state = TEXT_NORMAL;
        }
        return;
    case TEXT_CSI:
        if (c >= '0' && c <= '9') {
            if (con->nparams == 0) {
                con->nparams = 1;
            }
            int *p = &con->params[con->nparams - 1];
            *p = MIN(*p * 10 + (c - '0'), 9999);
        } else if (c == ';') {
            if (con->nparams == 0) {
                con->nparams = 1;
            }
            if (con->nparams < TEXT_MAX_PARAMS) {
                con->nparams++;
            }
        } else if (c == '?') {
            /* private mode marker: parameters follow as usual */
        } else {
            con->state = TEXT_NORMAL;
            text_csi(con, c);
        }
        return;
    case TEXT_NORMAL:
        break;
    }
    switch (c) {
    case 0x1b:
        con->state = TEXT_ESC;
        break;
    case '\r':
        text_move_cursor(con, 0, con->cy);
        break;
    case '\n':
        text_newline(con);
        break;
    case '\b':
        text_move_cursor(con, con->cx - 1, con->cy);
        break;
    case '\t':
        text_move_cursor(con, (con->cx + 8) & ~7, con->cy);
        break;
    case '\a':
        break;
    default:
        if (c >= 0x20) {
            text_put_char(con, c);
        }
        break;
    }
}

static int vc_write(Chardev *chr, const uint8_t *buf, int len)
{
    Console *con = ((VcChardev *)chr)->con;

    for (int i = 0; i < len; i++) {
        text_write_byte(con, buf[i]);
    }
    return len;
}

static bool vc_open(Chardev *chr, Opts *opts, Error **errp)
{
    VcChardev *vc = (VcChardev *)chr;
    Console *con = console_new(chr->id, false, TEXT_COLS * FONT_WIDTH, TEXT_ROWS * FONT_HEIGHT);

    con->chr = chr;
    con->cells = g_new(TextCell, TEXT_ROWS * TEXT_COLS);
    con->fg = 7;
    text_clear_cells(con, 0, TEXT_ROWS * TEXT_COLS);
    vc->con = con;
    chardev_set_filename(chr, "vc");
    return true;
}

static const ChardevDriver vc_driver = {
    .name = "vc",
    .instance_size = sizeof(VcChardev),
    .open = vc_open,
    .write = vc_write,
};

Chardev *console_vc_new(const char *id, Error **errp)
{
    return chardev_create(&vc_driver, id, NULL, errp);
}

void console_text_key(Console *con, int code, bool shift, bool ctrl)
{
    Chardev *chr = con->chr;
    char seq[4] = { 0 };
    int len = 1;

    switch (code) {
    case 1:                         /* KEY_ESC */
        seq[0] = 0x1b;
        break;
    case 103: case 108: case 106: case 105:   /* KEY_UP, DOWN, RIGHT, LEFT */
        seq[0] = 0x1b;
        seq[1] = '[';
        seq[2] = code == 103 ? 'A' : code == 108 ? 'B' : code == 106 ? 'C' : 'D';
        len = 3;
        break;
    case 96:                        /* KEY_KPENTER */
        seq[0] = '\r';
        break;
    case 14:                        /* KEY_BACKSPACE sends DEL like a terminal */
        seq[0] = 0x7f;
        break;
    default:
        seq[0] = keymap_linux_to_ascii(code, shift);
        if (!seq[0]) {
            return;
        }
        if (ctrl && g_ascii_isalpha(seq[0])) {
            seq[0] = g_ascii_toupper(seq[0]) - '@';
        }
        break;
    }
    if (chr->has_fe && chr->fe.read &&
        (!chr->fe.can_read || chr->fe.can_read(chr->fe.opaque) >= len)) {
        chr->fe.read(chr->fe.opaque, (const uint8_t *)seq, len);
    }
}

/* ---- screendump ---- */

static void png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t hdr[8] = { len >> 24, len >> 16, len >> 8, len, type[0], type[1], type[2], type[3] };
    uLong crc = crc32(0, hdr + 4, 4);
    uint8_t tail[4];

    if (len) {
        crc = crc32(crc, data, len);    /* a NULL buffer would restart the CRC */
    }
    tail[0] = crc >> 24;
    tail[1] = crc >> 16;
    tail[2] = crc >> 8;
    tail[3] = crc;
    fwrite(hdr, 1, 8, f);
    if (len) {
        fwrite(data, 1, len, f);
    }
    fwrite(tail, 1, 4, f);
}

/* Writes the surface as an 8-bit RGB PNG (one IDAT, filter 0 on every row). */
static bool write_png(FILE *f, const DisplaySurface *s, Error **errp)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    size_t row = 1 + (size_t)s->width * 3, raw_len = row * s->height;
    uint8_t *raw = g_malloc(raw_len);
    uLongf zlen = compressBound(raw_len);
    uint8_t *z = g_malloc(zlen);
    uint8_t ihdr[13] = {
        s->width >> 24, s->width >> 16, s->width >> 8, s->width,
        s->height >> 24, s->height >> 16, s->height >> 8, s->height,
        8, 2, 0, 0, 0,
    };
    bool ok = false;

    for (int y = 0; y < s->height; y++) {
        const uint32_t *src = surface_data(s) + y * (surface_stride(s) / 4);
        uint8_t *dst = raw + y * row;

        *dst++ = 0;
        for (int x = 0; x < s->width; x++) {
            *dst++ = src[x] >> 16;
            *dst++ = src[x] >> 8;
            *dst++ = src[x];
        }
    }
    if (compress2(z, &zlen, raw, raw_len, 6) != Z_OK) {
        error_setg(errp, "PNG compression failed");
        goto out;
    }
    fwrite(sig, 1, 8, f);
    png_chunk(f, "IHDR", ihdr, sizeof(ihdr));
    png_chunk(f, "IDAT", z, zlen);
    png_chunk(f, "IEND", NULL, 0);
    ok = true;
out:
    g_free(raw);
    g_free(z);
    return ok;
}

static void write_ppm(FILE *f, const DisplaySurface *s)
{
    uint8_t *line = g_malloc((size_t)s->width * 3);

    fprintf(f, "P6\n%d %d\n255\n", s->width, s->height);
    for (int y = 0; y < s->height; y++) {
        const uint32_t *src = surface_data(s) + y * (surface_stride(s) / 4);

        for (int x = 0; x < s->width; x++) {
            line[x * 3] = src[x] >> 16;
            line[x * 3 + 1] = src[x] >> 8;
            line[x * 3 + 2] = src[x];
        }
        fwrite(line, 1, (size_t)s->width * 3, f);
    }
    g_free(line);
}

bool console_screendump(const char *filename, const char *format, int index, Error **errp)
{
    Console *con = index < 0 ? active : console_by_index(index);
    bool png;
    FILE *f;

    if (!format || !strcmp(format, "ppm")) {
        png = false;
    } else if (!strcmp(format, "png")) {
        png = true;
    } else {
        error_setg(errp, "Parameter 'format' does not accept value '%s' (ppm or png)", format);
        return false;
    }
    if (!con) {
        error_setg(errp, index < 0 ? "There is no console to take a screendump from"
                                   : "There is no console %d", index);
        return false;
    }
    if (con->graphic && con->ops && con->ops->gfx_update) {
        con->ops->gfx_update(con->opaque);
    }
    f = fopen(filename, "wb");
    if (!f) {
        error_setg_errno(errp, errno, "failed to open file '%s'", filename);
        return false;
    }
    if (png) {
        if (!write_png(f, &con->surface, errp)) {
            fclose(f);
            return false;
        }
    } else {
        write_ppm(f, &con->surface);
    }
    if (fclose(f) != 0) {
        error_setg_errno(errp, errno, "failed to write file '%s'", filename);
        return false;
    }
    return true;
}
