/*
 * The VNC server (-vnc), on LibVNCServer: it serves the active console's surface directly
 * (no copy), takes the dirty rectangles of the refresh tick, resizes the clients' desktop with
 * the guest mode, and turns RFB key and pointer events into input events. Encodings (raw,
 * copyrect, hextile, zlib, tight, zrle) and VNC authentication are the library's. Everything
 * runs in the refresh tick on the main loop thread with the big lock held.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "ui/console.h"
#include "ui/display.h"
#include "ui/input.h"
#include "util/option.h"

#define VNC_PORT_BASE 5900
#define VNC_PASSWORD_LEN 8

typedef struct VncConfig {
    bool enabled;
    char *host;              /* as given, NULL for every interface */
    in_addr_t addr;
    unsigned display;
    bool password;           /* password=on: VNC authentication */
    bool force_shared;
} VncConfig;

static VncConfig vnc_cfg;

bool vnc_parse(const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "addr", errp);
    const char *addr, *share, *colon;
    uint64_t display;
    bool ok = false;

    if (!opts) {
        return false;
    }
    addr = opts_get(opts, "addr");
    share = opts_get(opts, "share");
    if (!opts_get_bool(opts, "password", false, &vnc_cfg.password, errp) ||
        !opts_check_all_used(opts, NULL, errp)) {
        goto out;
    }
    if (addr && !strcmp(addr, "none")) {
        vnc_cfg.enabled = false;
        ok = true;
        goto out;
    }
    colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) {
        error_setg(errp, "address '%s' is not [HOST]:DISPLAY (e.g. :0)", addr ? addr : "");
        goto out;
    }
    if (!parse_uint64(colon + 1, &display, NULL) || display > 65535 - VNC_PORT_BASE) {
        error_setg(errp, "invalid display number '%s'", colon + 1);
        goto out;
    }
    g_free(vnc_cfg.host);
    vnc_cfg.host = colon > addr ? g_strndup(addr, colon - addr) : NULL;
    vnc_cfg.addr = htonl(INADDR_ANY);
    if (vnc_cfg.host) {
        struct in_addr in;

        if (!strcmp(vnc_cfg.host, "localhost")) {
            in.s_addr = htonl(INADDR_LOOPBACK);
        } else if (inet_pton(AF_INET, vnc_cfg.host, &in) != 1) {
            error_setg(errp, "host '%s' is not an IPv4 address or localhost", vnc_cfg.host);
            goto out;
        }
        vnc_cfg.addr = in.s_addr;
    }
    if (share && !strcmp(share, "force-shared")) {
        vnc_cfg.force_shared = true;
    } else if (share && strcmp(share, "allow-exclusive")) {
        error_setg(errp, "unsupported share mode '%s' (allow-exclusive or force-shared)", share);
        goto out;
    }
    vnc_cfg.display = display;
#if CONFIG_VNC
    vnc_cfg.enabled = true;
    ok = true;
#else
    error_setg(errp, "VNC support is not compiled in (configure found no libvncserver)");
#endif
out:
    opts_free(opts);
    return ok;
}

bool vnc_enabled(void)
{
    return vnc_cfg.enabled;
}

#if CONFIG_VNC
#include <dlfcn.h>
#include <rfb/rfb.h>

/* LibVNCServer is opened when the server starts (dlopen): a VMM without -vnc maps neither it
 * nor its dependencies (GnuTLS, p11-kit, libgcrypt...: about 3 MiB of RSS). */
#define VNC_LIBRARY "libvncserver.so.1"
#define VNC_FUNCS(F) \
    F(rfbCheckPasswordByList) \
    F(rfbClientIteratorNext) \
    F(rfbGetClientIterator) \
    F(rfbGetScreen) \
    F(rfbInitServer) \
    F(rfbMarkRectAsModified) \
    F(rfbNewFramebuffer) \
    F(rfbProcessEvents) \
    F(rfbReleaseClientIterator) \
    F(rfbScreenCleanup)
#define VNC_FUNC_PTR(name) __typeof__(name) *name;
static struct {
    VNC_FUNCS(VNC_FUNC_PTR)
    rfbLogProc *rfbLog;         /* the library's log hooks (variables) */
    rfbLogProc *rfbErr;
} vnc_lib;

/* Opens LibVNCServer and resolves every symbol this file uses, under the names rfb.h maps
 * them to (rfbInitServer is a macro), once. */
static bool vnc_library_load(Error **errp)
{
    static void *handle;
    const char *missing = NULL;

    if (handle) {
        return true;
    }
    handle = dlopen(VNC_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        error_setg(errp, "Failed to start VNC server: %s (Debian package: libvncserver1)",
                   dlerror());
        return false;
    }
#define VNC_FUNC_LOAD(name) \
    if (!missing && !(vnc_lib.name = dlsym(handle, G_STRINGIFY(name)))) { \
        missing = G_STRINGIFY(name); \
    }
    VNC_FUNCS(VNC_FUNC_LOAD)
    VNC_FUNC_LOAD(rfbLog)
    VNC_FUNC_LOAD(rfbErr)
#undef VNC_FUNC_LOAD
    if (missing) {
        error_setg(errp, "Failed to start VNC server: %s lacks %s", VNC_LIBRARY, missing);
        dlclose(handle);
        handle = NULL;
        return false;
    }
    return true;
}

typedef struct VncServer {
    rfbScreenInfoPtr screen;
    DisplayListener dl;
    DisplaySurface *surface;
    char *password_list[2];      /* what rfbCheckPasswordByList reads; [0] NULL until set */
    int last_buttons;
    int last_x, last_y;
} VncServer;

static VncServer *vnc;

static void vnc_log_quiet(const char *fmt, ...)
{
}

static void vnc_set_format(rfbScreenInfoPtr screen)
{
    /* Surfaces are x8r8g8b8 words in host order. */
    screen->serverFormat.redShift = 16;
    screen->serverFormat.greenShift = 8;
    screen->serverFormat.blueShift = 0;
}

static void vnc_dpy_switch(DisplayListener *dl, DisplaySurface *surface)
{
    VncServer *s = dl->opaque;

    s->surface = surface;
    if (s->screen->width != surface->width || s->screen->height != surface->height ||
        s->screen->paddedWidthInBytes != surface_stride(surface)) {
        /* Clients that support it get a desktop resize; the others are dropped by the
         * library, as QEMU does for clients without DesktopSize. */
        vnc_lib.rfbNewFramebuffer(s->screen, (char *)surface_data(surface), surface->width,
                          surface->height, 8, 3, 4);
        vnc_set_format(s->screen);
    } else {
        s->screen->frameBuffer = (char *)surface_data(surface);
    }
    vnc_lib.rfbMarkRectAsModified(s->screen, 0, 0, surface->width, surface->height);
}

static void vnc_dpy_update(DisplayListener *dl, int x, int y, int w, int h)
{
    VncServer *s = dl->opaque;

    vnc_lib.rfbMarkRectAsModified(s->screen, x, y, x + w, y + h);
}

static void vnc_dpy_refresh(DisplayListener *dl)
{
    VncServer *s = dl->opaque;

    /* Reads what clients sent (their events arrive here) and sends pending updates. */
    vnc_lib.rfbProcessEvents(s->screen, 0);
}

static const DisplayListenerOps vnc_listener_ops = {
    .name = "vnc",
    .dpy_switch = vnc_dpy_switch,
    .dpy_update = vnc_dpy_update,
    .dpy_refresh = vnc_dpy_refresh,
};

static void vnc_key_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
    int code = keymap_x11_keysym_to_linux(sym);

    if (code) {
        input_send_key(code, down);
        input_sync();
    }
}

static void vnc_pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
    static const InputButton buttons[5] = {
        INPUT_BUTTON_LEFT, INPUT_BUTTON_MIDDLE, INPUT_BUTTON_RIGHT,
        INPUT_BUTTON_WHEEL_UP, INPUT_BUTTON_WHEEL_DOWN,
    };
    VncServer *s = vnc;
    int changed = mask ^ s->last_buttons;

    if (input_wants_abs()) {
        input_send_abs(INPUT_AXIS_X, x, s->screen->width);
        input_send_abs(INPUT_AXIS_Y, y, s->screen->height);
    } else if (x != s->last_x || y != s->last_y) {
        input_send_rel(INPUT_AXIS_X, x - s->last_x);
        input_send_rel(INPUT_AXIS_Y, y - s->last_y);
    }
    for (int i = 0; i < 5; i++) {
        if (changed & (1 << i)) {
            input_send_button(buttons[i], mask & (1 << i));
        }
    }
    input_sync();
    s->last_buttons = mask;
    s->last_x = x;
    s->last_y = y;
}

/* Without a password set, password=on refuses every client, as QEMU does. */
static rfbBool vnc_check_password(rfbClientPtr cl, const char *response, int len)
{
    return vnc->password_list[0] && vnc_lib.rfbCheckPasswordByList(cl, response, len);
}

bool vnc_display_start(Error **errp)
{
    VncServer *s = g_new0(VncServer, 1);
    rfbScreenInfoPtr screen;

    if (!vnc_library_load(errp)) {
        g_free(s);
        return false;
    }
    *vnc_lib.rfbLog = vnc_log_quiet;
    *vnc_lib.rfbErr = vnc_log_quiet;
    screen = vnc_lib.rfbGetScreen(NULL, NULL, 640, 480, 8, 3, 4);
    if (!screen) {
        error_setg(errp, "Failed to start VNC server: out of memory");
        g_free(s);
        return false;
    }
    vnc_set_format(screen);
    screen->desktopName = "Vessel";
    screen->autoPort = FALSE;
    screen->port = VNC_PORT_BASE + vnc_cfg.display;
    screen->ipv6port = -1;
    screen->listenInterface = vnc_cfg.addr;
    screen->alwaysShared = vnc_cfg.force_shared;
    screen->deferUpdateTime = 0;
    screen->handleEventsEagerly = TRUE;
    screen->kbdAddEvent = vnc_key_event;
    screen->ptrAddEvent = vnc_pointer_event;
    screen->cursor = NULL;
    screen->screenData = s;
    if (vnc_cfg.password) {
        screen->authPasswdData = s->password_list;
        screen->passwordCheck = vnc_check_password;
    }
    s->screen = screen;
    vnc = s;
    vnc_lib.rfbInitServer(screen);
    if (screen->listenSock == RFB_INVALID_SOCKET) {
        error_setg(errp, "Failed to start VNC server: could not listen on %s:%d",
                   vnc_cfg.host ? vnc_cfg.host : "0.0.0.0", screen->port);
        vnc_lib.rfbScreenCleanup(screen);
        g_free(s);
        vnc = NULL;
        return false;
    }
    s->dl.ops = &vnc_listener_ops;
    s->dl.opaque = s;
    display_listener_register(&s->dl);
    return true;
}

bool vnc_set_password(const char *password, Error **errp)
{
    if (!vnc || !vnc_cfg.password) {
        error_setg(errp, "Could not set password");
        return false;
    }
    g_free(vnc->password_list[0]);
    vnc->password_list[0] = g_strndup(password, VNC_PASSWORD_LEN);
    return true;
}

void vnc_server_info(const char **host, char *service, size_t service_len, const char **auth)
{
    *host = vnc_cfg.host && !strcmp(vnc_cfg.host, "localhost") ? "127.0.0.1"
            : vnc_cfg.host ? vnc_cfg.host : "0.0.0.0";
    snprintf(service, service_len, "%u", VNC_PORT_BASE + vnc_cfg.display);
    *auth = vnc_cfg.password ? "vnc" : "none";
}

void vnc_foreach_client(void (*fn)(const char *host, int port, void *opaque), void *opaque)
{
    rfbClientIteratorPtr it;
    rfbClientPtr cl;

    if (!vnc) {
        return;
    }
    it = vnc_lib.rfbGetClientIterator(vnc->screen);
    while ((cl = vnc_lib.rfbClientIteratorNext(it))) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int port = 0;

        if (getpeername(cl->sock, (struct sockaddr *)&peer, &len) == 0 &&
            peer.sin_family == AF_INET) {
            port = ntohs(peer.sin_port);
        }
        fn(cl->host, port, opaque);
    }
    vnc_lib.rfbReleaseClientIterator(it);
}

#else

bool vnc_set_password(const char *password, Error **errp)
{
    error_setg(errp, "Could not set password");
    return false;
}

void vnc_server_info(const char **host, char *service, size_t service_len, const char **auth)
{
    *host = "";
    snprintf(service, service_len, "%s", "");
    *auth = "none";
}

void vnc_foreach_client(void (*fn)(const char *host, int port, void *opaque), void *opaque)
{
}

#endif
