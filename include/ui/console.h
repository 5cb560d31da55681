#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <pixman.h>
#include "util/chardev.h"
#include "util/error.h"

/*
 * Consoles: what a display front end (SDL, VNC) shows. A graphic console belongs to a display
 * device (virtio-gpu, ramfb, a VGA); a text console is a 'vc' chardev (serial port, monitor)
 * drawn with an 8x16 font. Each console owns a DisplaySurface (32-bit x8r8g8b8 pixels) and
 * tracks which parts changed. One console at a time is active (Ctrl-Alt-1/2/3 in the front
 * ends); every refresh tick (30 ms, main loop, big lock held) the layer asks the active
 * graphic console's device to update its surface, then hands the dirty rectangles to every
 * registered front end. All functions here need the big lock.
 */

typedef struct Console Console;

typedef struct DisplaySurface {
    pixman_image_t *image;          /* PIXMAN_x8r8g8b8, owned by the surface */
    int width, height;
} DisplaySurface;

static inline uint32_t *surface_data(const DisplaySurface *s)
{
    return pixman_image_get_data(s->image);
}
static inline int surface_stride(const DisplaySurface *s)
{
    return pixman_image_get_stride(s->image);
}

/* What a display device provides to its graphic console. */
typedef struct GraphicHwOps {
    /* Refresh tick while the console is shown: bring the surface up to date and mark what
     * changed (devices that scan guest RAM); NULL when the device pushes its changes. */
    void (*gfx_update)(void *opaque);
} GraphicHwOps;

/* Registers a graphic console (640x480 black until the device resizes it). The first graphic
 * console becomes the active one. */
Console *console_graphic_new(const char *label, const GraphicHwOps *ops, void *opaque);
/* Unregisters and frees con (device unrealize). */
void console_destroy(Console *con);
DisplaySurface *console_surface(Console *con);
/* Replaces the surface with a black width x height one; front ends follow the new size. */
void console_resize(Console *con, int width, int height);
/* The rectangle (clipped to the surface) changed and must reach the front ends. */
void console_mark_dirty(Console *con, int x, int y, int width, int height);

unsigned console_count(void);
/* Console number index (0-based, in creation order), or NULL. */
Console *console_by_index(unsigned index);
Console *console_active(void);
/* Shows console number index (Ctrl-Alt-<index+1>); false when there is none. */
bool console_select(unsigned index);
const char *console_label(const Console *con);
bool console_is_graphic(const Console *con);

/* A text console as a 'vc' chardev (QEMU's -serial vc): output is drawn on the console,
 * keys typed while it is active become the chardev's input. */
Chardev *console_vc_new(const char *id, Error **errp);
/* A key (Linux input code) typed while text console con is active; shift/ctrl state is
 * tracked by the input layer. */
void console_text_key(Console *con, int code, bool shift, bool ctrl);

/* A display front end. */
typedef struct DisplayListener DisplayListener;
typedef struct DisplayListenerOps {
    const char *name;
    /* The shown surface changed (console switch or resize); everything is dirty. */
    void (*dpy_switch)(DisplayListener *dl, DisplaySurface *surface);
    /* Pixels of the shown surface in the rectangle changed. */
    void (*dpy_update)(DisplayListener *dl, int x, int y, int width, int height);
    /* Once per refresh tick after the updates (poll input, present the frame). */
    void (*dpy_refresh)(DisplayListener *dl);
} DisplayListenerOps;

struct DisplayListener {
    const DisplayListenerOps *ops;
    void *opaque;
};

/* Attaches a front end: it gets dpy_switch with the current surface right away and the
 * refresh tick starts. */
void display_listener_register(DisplayListener *dl);
void display_listener_unregister(DisplayListener *dl);

/* Writes the surface of console index (-1: the active one) as a binary PPM (format "ppm")
 * or a PNG ("png"). */
bool console_screendump(const char *filename, const char *format, int index, Error **errp);

/* Window title of the front ends: "Vessel" or "Vessel (name)", plus " [Paused]" when the
 * VM is not running (g_free it). */
char *console_window_title(void);

#endif
