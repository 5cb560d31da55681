#ifndef UI_DISPLAY_H
#define UI_DISPLAY_H

#include <stdbool.h>
#include "config.h"
#include "util/error.h"

/*
 * Display front ends chosen on the command line: -display sdl|none and -vnc. Options are
 * checked while the command line is parsed; the front ends start after the board and the
 * -device display devices exist (display_start).
 */

/* -display TYPE[,full-screen=on|off][,window-close=on|off]; "help" lists the types and exits. */
bool display_parse(const char *arg, Error **errp);
/* -vnc [HOST]:DISPLAY[,password=on|off][,share=allow-exclusive|force-shared] or "none". */
bool vnc_parse(const char *arg, Error **errp);
/* True when a window or a VNC server will show the consoles (serial then defaults to vc). */
bool display_is_graphical(void);
/* Starts the chosen front ends (main loop thread, big lock held). */
bool display_start(Error **errp);

/* VNC state for the monitor. */
bool vnc_enabled(void);
/* Sets the VNC password (8 characters count); fails unless -vnc has password=on. */
bool vnc_set_password(const char *password, Error **errp);
/* Listening address: host ("0.0.0.0"), service ("5900"), auth ("none" or "vnc"). */
void vnc_server_info(const char **host, char *service, size_t service_len, const char **auth);
/* Calls fn for every connected client with its address and port. */
void vnc_foreach_client(void (*fn)(const char *host, int port, void *opaque), void *opaque);

#if CONFIG_SDL
/* The SDL window (ui/sdl2.c). */
bool sdl_display_start(bool full_screen, bool window_close, Error **errp);
#endif
#if CONFIG_VNC
bool vnc_display_start(Error **errp);
#endif

#endif
