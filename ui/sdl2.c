/*
 * The SDL2 window (-display sdl): shows the active console, follows the guest mode, sends
 * keys (SDL scancodes translated to Linux codes) and the mouse (absolute when a tablet takes
 * it, else relative while grabbed) to the input layer. Hot keys as in QEMU: Ctrl-Alt-G grabs
 * and releases, Ctrl-Alt-F toggles full screen, Ctrl-Alt-1..9 switch consoles. Closing the
 * window asks the guest to power down. Runs in the refresh tick on the main loop thread.
 */
#include "config.h"

#if CONFIG_SDL
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <SDL.h>
#include <glib.h>
#include "hw/core/machine.h"
#include "ui/console.h"
#include "ui/display.h"
#include "ui/input.h"

/* libSDL2 is opened when the window starts (dlopen): a VMM without -display sdl maps none of
 * SDL's dependencies (X11, Wayland, audio codecs: some 40 libraries and 6 MiB of RSS). */
#define SDL_LIBRARY "libSDL2-2.0.so.0"
#define SDL_FUNCS(F) \
    F(SDL_CreateRenderer) \
    F(SDL_CreateTexture) \
    F(SDL_CreateWindow) \
    F(SDL_DestroyTexture) \
    F(SDL_DestroyWindow) \
    F(SDL_GetError) \
    F(SDL_GetNumVideoDrivers) \
    F(SDL_GetVideoDriver) \
    F(SDL_Init) \
    F(SDL_PollEvent) \
    F(SDL_Quit) \
    F(SDL_QuitSubSystem) \
    F(SDL_RenderClear) \
    F(SDL_RenderCopy) \
    F(SDL_RenderPresent) \
    F(SDL_RenderSetLogicalSize) \
    F(SDL_SetHint) \
    F(SDL_SetRelativeMouseMode) \
    F(SDL_SetWindowFullscreen) \
    F(SDL_SetWindowGrab) \
    F(SDL_SetWindowSize) \
    F(SDL_SetWindowTitle) \
    F(SDL_UpdateTexture)
#define SDL_FUNC_PTR(name) __typeof__(name) *name;
static struct { SDL_FUNCS(SDL_FUNC_PTR) } sdl_lib;

/* Opens libSDL2 and resolves every function this file calls (once). */
static bool sdl_library_load(Error **errp)
{
    static void *handle;
    const char *missing = NULL;

    if (handle) {
        return true;
    }
    handle = dlopen(SDL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        error_setg(errp, "Could not load SDL: %s (Debian package: libsdl2-2.0-0)", dlerror());
        return false;
    }
#define SDL_FUNC_LOAD(name) \
    if (!missing && !(sdl_lib.name = dlsym(handle, G_STRINGIFY(name)))) { \
        missing = G_STRINGIFY(name); \
    }
    SDL_FUNCS(SDL_FUNC_LOAD)
#undef SDL_FUNC_LOAD
    if (missing) {
        error_setg(errp, "Could not load SDL: %s lacks %s", SDL_LIBRARY, missing);
        dlclose(handle);
        handle = NULL;
        return false;
    }
    return true;
}

typedef struct SdlDisplay {
    DisplayListener dl;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    DisplaySurface *surface;
    bool full_screen;
    bool window_close;
    bool grabbed;
    bool present;             /* the texture changed since the last frame */
    bool ctrl, alt;           /* left or right, for the hot keys */
    bool hotkey_used;         /* a hot key fired: swallow the modifiers' releases */
    char *title;
} SdlDisplay;

static void sdl_update_title(SdlDisplay *s)
{
    char *base = console_window_title();
    char *title = s->grabbed ? g_strdup_printf("%s - Press Ctrl-Alt-G to exit grab", base)
                             : g_strdup(base);

    if (!s->title || strcmp(title, s->title)) {
        sdl_lib.SDL_SetWindowTitle(s->window, title);
        g_free(s->title);
        s->title = title;
    } else {
        g_free(title);
    }
    g_free(base);
}

static void sdl_set_grab(SdlDisplay *s, bool grab)
{
    s->grabbed = grab;
    sdl_lib.SDL_SetWindowGrab(s->window, grab ? SDL_TRUE : SDL_FALSE);
    /* Relative mode hides the cursor and reports motion deltas. */
    sdl_lib.SDL_SetRelativeMouseMode(grab && !input_wants_abs() ? SDL_TRUE : SDL_FALSE);
    sdl_update_title(s);
}

static void sdl_dpy_switch(DisplayListener *dl, DisplaySurface *surface)
{
    SdlDisplay *s = dl->opaque;

    s->surface = surface;
    if (s->texture) {
        sdl_lib.SDL_DestroyTexture(s->texture);
    }
    s->texture = sdl_lib.SDL_CreateTexture(s->renderer, SDL_PIXELFORMAT_RGB888,
                                   SDL_TEXTUREACCESS_STREAMING, surface->width, surface->height);
    sdl_lib.SDL_RenderSetLogicalSize(s->renderer, surface->width, surface->height);
    if (!s->full_screen) {
        sdl_lib.SDL_SetWindowSize(s->window, surface->width, surface->height);
    }
    if (s->texture) {
        sdl_lib.SDL_UpdateTexture(s->texture, NULL, surface_data(surface), surface_stride(surface));
    }
    s->present = true;
}

static void sdl_dpy_update(DisplayListener *dl, int x, int y, int w, int h)
{
    SdlDisplay *s = dl->opaque;
    SDL_Rect r = { x, y, w, h };
    const uint8_t *pixels = (const uint8_t *)surface_data(s->surface) +
                            y * surface_stride(s->surface) + x * 4;

    if (s->texture) {
        sdl_lib.SDL_UpdateTexture(s->texture, &r, pixels, surface_stride(s->surface));
        s->present = true;
    }
}

/* Ctrl-Alt-<key> hot keys; true when the key was one. */
static bool sdl_hotkey(SdlDisplay *s, SDL_Scancode sc)
{
    if (sc == SDL_SCANCODE_G) {
        sdl_set_grab(s, !s->grabbed);
    } else if (sc == SDL_SCANCODE_F) {
        s->full_screen = !s->full_screen;
        sdl_lib.SDL_SetWindowFullscreen(s->window, s->full_screen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        if (!s->full_screen && s->surface) {
            sdl_lib.SDL_SetWindowSize(s->window, s->surface->width, s->surface->height);
        }
    } else if (sc >= SDL_SCANCODE_1 && sc <= SDL_SCANCODE_9) {
        input_release_all_keys();
        console_select(sc - SDL_SCANCODE_1);
    } else {
        return false;
    }
    return true;
}

static void sdl_key(SdlDisplay *s, const SDL_KeyboardEvent *ev)
{
    SDL_Scancode sc = ev->keysym.scancode;
    bool down = ev->type == SDL_KEYDOWN;
    int code = keymap_sdl_scancode_to_linux(sc);

    if (sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL) {
        s->ctrl = down;
    } else if (sc == SDL_SCANCODE_LALT || sc == SDL_SCANCODE_RALT) {
        s->alt = down;
    } else if (down && s->ctrl && s->alt && sdl_hotkey(s, sc)) {
        s->hotkey_used = true;
        return;
    }
    if (!s->ctrl && !s->alt) {
        s->hotkey_used = false;
    }
    if (code && !(s->hotkey_used && !down)) {
        input_send_key(code, down);
        input_sync();
    }
}

static void sdl_button(SdlDisplay *s, const SDL_MouseButtonEvent *ev)
{
    bool down = ev->type == SDL_MOUSEBUTTONDOWN;

    if (!s->grabbed && !input_wants_abs()) {
        /* In relative mode a click first grabs the pointer. */
        if (down && ev->button == SDL_BUTTON_LEFT) {
            sdl_set_grab(s, true);
        }
        return;
    }
    if (ev->button == SDL_BUTTON_LEFT || ev->button == SDL_BUTTON_MIDDLE ||
        ev->button == SDL_BUTTON_RIGHT) {
        input_send_button(ev->button == SDL_BUTTON_LEFT ? INPUT_BUTTON_LEFT :
                          ev->button == SDL_BUTTON_MIDDLE ? INPUT_BUTTON_MIDDLE
                                                          : INPUT_BUTTON_RIGHT, down);
        input_sync();
    }
}

static void sdl_motion(SdlDisplay *s, const SDL_MouseMotionEvent *ev)
{
    if (input_wants_abs() && s->surface) {
        input_send_abs(INPUT_AXIS_X, ev->x, s->surface->width);
        input_send_abs(INPUT_AXIS_Y, ev->y, s->surface->height);
        input_sync();
    } else if (s->grabbed) {
        input_send_rel(INPUT_AXIS_X, ev->xrel);
        input_send_rel(INPUT_AXIS_Y, ev->yrel);
        input_sync();
    }
}

static void sdl_wheel(SdlDisplay *s, const SDL_MouseWheelEvent *ev)
{
    InputButton b = ev->y > 0 ? INPUT_BUTTON_WHEEL_UP : INPUT_BUTTON_WHEEL_DOWN;

    if (ev->y == 0 || (!s->grabbed && !input_wants_abs())) {
        return;
    }
    input_send_button(b, true);
    input_send_button(b, false);
    input_sync();
}

static void sdl_window_event(SdlDisplay *s, const SDL_WindowEvent *ev)
{
    switch (ev->event) {
    case SDL_WINDOWEVENT_CLOSE:
        if (s->window_close) {
            machine_request_powerdown();
        }
        break;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        input_release_all_keys();
        s->ctrl = s->alt = false;
        break;
    case SDL_WINDOWEVENT_EXPOSED:
    case SDL_WINDOWEVENT_SIZE_CHANGED:
        s->present = true;
        break;
    default:
        break;
    }
}

static void sdl_dpy_refresh(DisplayListener *dl)
{
    SdlDisplay *s = dl->opaque;
    SDL_Event ev;

    while (sdl_lib.SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            sdl_key(s, &ev.key);
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            sdl_button(s, &ev.button);
            break;
        case SDL_MOUSEMOTION:
            sdl_motion(s, &ev.motion);
            break;
        case SDL_MOUSEWHEEL:
            sdl_wheel(s, &ev.wheel);
            break;
        case SDL_WINDOWEVENT:
            sdl_window_event(s, &ev.window);
            break;
        case SDL_QUIT:
            if (s->window_close) {
                machine_request_powerdown();
            }
            break;
        default:
            break;
        }
    }
    sdl_update_title(s);
    if (s->present && s->texture) {
        sdl_lib.SDL_RenderClear(s->renderer);
        sdl_lib.SDL_RenderCopy(s->renderer, s->texture, NULL, NULL);
        sdl_lib.SDL_RenderPresent(s->renderer);
        s->present = false;
    }
}

static const DisplayListenerOps sdl_listener_ops = {
    .name = "sdl",
    .dpy_switch = sdl_dpy_switch,
    .dpy_update = sdl_dpy_update,
    .dpy_refresh = sdl_dpy_refresh,
};

/* True when SDL's video driver `name` may show a window here: its display server is named in
 * the environment (so probing it prints nothing), and it is not a driver that draws nowhere. */
static bool sdl_driver_usable(const char *name)
{
    if (!strcmp(name, "x11")) {
        return getenv("DISPLAY") != NULL;
    }
    if (!strcmp(name, "wayland")) {
        return getenv("WAYLAND_DISPLAY") != NULL && getenv("XDG_RUNTIME_DIR") != NULL;
    }
    return strcmp(name, "offscreen") && strcmp(name, "dummy") && strcmp(name, "evdev");
}

/* Starts SDL's video with the driver $SDL_VIDEODRIVER names, else the first driver that shows
 * a window on this host; fails when there is none (never falls back to an invisible one). */
static bool sdl_video_init(Error **errp)
{
    GString *tried;

    if (getenv("SDL_VIDEODRIVER")) {
        if (sdl_lib.SDL_Init(SDL_INIT_VIDEO) < 0) {
            error_setg(errp, "Could not initialize SDL (%s)", sdl_lib.SDL_GetError());
            return false;
        }
        return true;
    }
    tried = g_string_new(NULL);
    for (int i = 0; i < sdl_lib.SDL_GetNumVideoDrivers(); i++) {
        const char *name = sdl_lib.SDL_GetVideoDriver(i);

        if (!sdl_driver_usable(name)) {
            continue;
        }
        sdl_lib.SDL_SetHint(SDL_HINT_VIDEODRIVER, name);
        if (sdl_lib.SDL_Init(SDL_INIT_VIDEO) == 0) {
            g_string_free(tried, true);
            return true;
        }
        g_string_append_printf(tried, "%s%s: %s", tried->len ? "; " : "", name,
                               sdl_lib.SDL_GetError());
        sdl_lib.SDL_QuitSubSystem(SDL_INIT_VIDEO);
    }
    error_setg(errp, "Could not initialize SDL: no usable display (DISPLAY and WAYLAND_DISPLAY "
               "are not set or not reachable%s%s)", tried->len ? "; " : "", tried->str);
    g_string_free(tried, true);
    return false;
}

bool sdl_display_start(bool full_screen, bool window_close, Error **errp)
{
    SdlDisplay *s;
    char *title;

    if (!sdl_library_load(errp)) {
        return false;
    }
    /* Vessel's own handlers deal with SIGINT and SIGTERM. */
    sdl_lib.SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (!sdl_video_init(errp)) {
        return false;
    }
    s = g_new0(SdlDisplay, 1);
    title = console_window_title();
    s->full_screen = full_screen;
    s->window_close = window_close;
    s->window = sdl_lib.SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                                 640, 480, full_screen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    g_free(title);
    if (s->window) {
        s->renderer = sdl_lib.SDL_CreateRenderer(s->window, -1, 0);
    }
    if (!s->renderer) {
        error_setg(errp, "Could not open the SDL window (%s)", sdl_lib.SDL_GetError());
        if (s->window) {
            sdl_lib.SDL_DestroyWindow(s->window);
        }
        sdl_lib.SDL_Quit();
        g_free(s);
        return false;
    }
    s->dl.ops = &sdl_listener_ops;
    s->dl.opaque = s;
    sdl_update_title(s);
    display_listener_register(&s->dl);
    return true;
}

#endif
