/*
 * Front-end selection: -display and -vnc are checked while the command line is parsed and
 * started once the board and its display devices exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "ui/display.h"
#include "util/option.h"

typedef enum DisplayType { DISPLAY_NONE, DISPLAY_SDL } DisplayType;

static DisplayType display_type = DISPLAY_NONE;
static bool full_screen;
static bool window_close = true;

bool display_parse(const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "type", errp);
    const char *type;
    bool ok = false;

    if (!opts) {
        return false;
    }
    type = opts_get(opts, "type");
    if (type && !strcmp(type, "help")) {
        printf("Available display backend types:\nnone\n%s", CONFIG_SDL ? "sdl\n" : "");
        exit(0);
    }
    if (!type) {
        error_setg(errp, "no display type given (-display help lists them)");
    } else if (!strcmp(type, "none")) {
        display_type = DISPLAY_NONE;
        ok = opts_check_all_used(opts, NULL, errp);
    } else if (!strcmp(type, "sdl")) {
        if (!CONFIG_SDL) {
            error_setg(errp, "SDL support is not compiled in (configure found no sdl2)");
        } else if (opts_get_bool(opts, "full-screen", false, &full_screen, errp) &&
                   opts_get_bool(opts, "window-close", true, &window_close, errp) &&
                   opts_check_all_used(opts, NULL, errp)) {
            display_type = DISPLAY_SDL;
            ok = true;
        }
    } else {
        error_setg(errp, "Parameter 'type' does not accept value '%s' (-display help lists "
                   "the types)", type);
    }
    opts_free(opts);
    return ok;
}

bool display_is_graphical(void)
{
    return display_type != DISPLAY_NONE || vnc_enabled();
}

bool display_start(Error **errp)
{
#if CONFIG_VNC
    if (vnc_enabled() && !vnc_display_start(errp)) {
        return false;
    }
#endif
#if CONFIG_SDL
    if (display_type == DISPLAY_SDL && !sdl_display_start(full_screen, window_close, errp)) {
        return false;
    }
#endif
    return true;
}
