#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include <stdbool.h>
#include <json-glib/json-glib.h>
#include "util/chardev.h"
#include "util/error.h"

/*
 * The monitors: QMP (JSON, for programs) and HMP (text, for people), both served from one
 * command table (monitor/commands.c). Everything runs on the main loop thread with the big
 * lock held.
 */

/* Checks and queues a monitor command-line option: "qmp", "qmp-pretty" and "monitor" take
 * a -serial style spec, "mon" takes "chardev=ID[,mode=readline|control][,pretty=on|off]".
 * Nothing is created before monitor_start_all. */
bool monitor_add_option(const char *option, const char *arg, Error **errp);
/* True when any -qmp/-monitor/-mon was given (then -nographic does not put a monitor on
 * the serial console). */
bool monitor_options_given(void);
/* Creates the queued monitors; call after -chardev back ends exist and before the vCPUs
 * start (a socket with wait=on blocks here until its first client connects). */
bool monitor_start_all(Error **errp);

/* Puts a monitor on an existing back end, e.g. HMP on the mux of -serial mon:stdio (muxed:
 * it greets when Ctrl-a c gives it the input focus). */
bool monitor_attach_chardev(Chardev *chr, bool qmp, bool pretty, bool muxed, Error **errp);

/* Sends a QMP event to every client in command mode; data (may be NULL) is consumed. */
void monitor_emit_event(const char *name, JsonObject *data);

#endif
