#ifndef MONITOR_MONITOR_INTERNAL_H
#define MONITOR_MONITOR_INTERNAL_H

/* Shared between the monitor's files (the .c files under monitor/); not for other subsystems. */

#include <stdbool.h>
#include <stdint.h>
#include <json-glib/json-glib.h>
#include "monitor/monitor.h"

#define QMP_VERSION_MAJOR 7
#define QMP_VERSION_MINOR 2
#define QMP_VERSION_MICRO 0
#define QMP_PACKAGE       "Vessel " VESSEL_VERSION
#define HMP_PROMPT        "(qemu) "

/* Input limits: a message beyond these is refused with an error and skipped. */
#define QMP_MAX_NESTING   64
#define QMP_MAX_MESSAGE   (10 * 1024 * 1024)
#define HMP_MAX_LINE      4096
#define HMP_HISTORY       64

typedef struct Monitor Monitor;

/* Splits a byte stream into top-level JSON texts without parsing them. */
typedef struct JsonStreamer {
    GString *buf;           /* the message being collected */
    int depth;              /* of [ and { */
    bool in_string, escape;
    bool scalar;            /* collecting a top-level scalar */
    bool too_deep, too_big; /* skipping the rest of a refused message */
} JsonStreamer;

/* Line editor state of one HMP session. */
typedef struct ReadLine {
    char line[HMP_MAX_LINE];
    int len, cursor;
    int esc_state;          /* 0 none, 1 after ESC, 2 after ESC [ or ESC O */
    int esc_param;
    bool last_cr;           /* swallow the \n of \r\n */
    char *history[HMP_HISTORY];
    int hist_count;
    int hist_pos;           /* hist_count while editing a new line */
} ReadLine;

struct Monitor {
    bool qmp;
    bool pretty;
    bool negotiated;        /* QMP: qmp_capabilities succeeded */
    bool muxed;             /* HMP on a mux: greets on focus */
    bool greeted;
    bool closed;            /* the transport went away; freed when safe */
    int cpu_index;          /* HMP "cpu N": the CPU of info registers and x */
    /* Transport: exactly one of these. */
    Chardev *chr;           /* a chardev front end */
    struct MonitorConn *conn; /* a client of a monitor-owned listener */
    GString *capture;       /* human-monitor-command: output is collected here */
    JsonStreamer js;
    ReadLine rl;
    /* Last x/xp format, reused when the next one omits parts. */
    char last_format;
    int last_size;
};

/* Result handler of one command; args match the spec. NULL result means failure. */
typedef JsonNode *MonitorHandler(Monitor *mon, JsonObject *args, Error **errp);
/* Prints a successful result for HMP. */
typedef void HmpPrinter(Monitor *mon, JsonNode *result);

/*
 * One command, one line of the table. args is a comma-separated list of "name:T", with T
 * s (string), i (integer), b (boolean), j (any JSON value), R (HMP: rest of the line),
 * F (HMP: optional "/fmt"); a trailing '?' makes it optional; a last entry "*" lets QMP pass
 * further members through (device_add).
 */
typedef struct MonitorCommand {
    const char *name;        /* QMP name; NULL for HMP-only commands */
    const char *hmp;         /* HMP name(s) "cont|c", "info status"; NULL for QMP-only */
    const char *args;
    MonitorHandler *handler;
    HmpPrinter *print;       /* NULL: a string result is printed as is, others not */
    const char *help;        /* HMP help text: "[args] -- what it does" */
} MonitorCommand;

extern const MonitorCommand monitor_commands[];

/* Output, with \n turned into \r\n as terminals and QEMU's monitor expect. */
void monitor_puts(Monitor *mon, const char *s);
void monitor_printf(Monitor *mon, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raw bytes to the transport. */
void monitor_write(Monitor *mon, const char *buf, size_t len);

/* Looks a command up by QMP name or HMP name (either alias). */
const MonitorCommand *monitor_find_qmp(const char *name);
const MonitorCommand *monitor_find_hmp(const char *name);
/* Checks args (may be NULL) against the spec; QEMU's error texts. */
bool monitor_check_args(const MonitorCommand *cmd, JsonObject *args, Error **errp);

/* QMP: greeting, bytes from the client. */
void qmp_greet(Monitor *mon);
void qmp_feed(Monitor *mon, const uint8_t *buf, size_t len);
void qmp_send(Monitor *mon, JsonNode *msg);
void json_streamer_init(JsonStreamer *js);
void json_streamer_destroy(JsonStreamer *js);

/* HMP: banner and prompt, bytes from the client, one command line. */
void hmp_greet(Monitor *mon);
void hmp_show_prompt(Monitor *mon);
void hmp_feed(Monitor *mon, const uint8_t *buf, size_t len);
void hmp_execute(Monitor *mon, const char *line);
void readline_destroy(ReadLine *rl);

/* Runs fn with every vCPU parked, so registers and page tables hold still. */
void monitor_with_cpus_paused(void (*fn)(void *opaque), void *opaque);

/* Typed member access for handlers (the spec guarantees the type). */
const char *monitor_arg_str(JsonObject *args, const char *name, const char *def);
int64_t monitor_arg_int(JsonObject *args, const char *name, int64_t def);
bool monitor_arg_has(JsonObject *args, const char *name);

/* Balloon commands (monitor/balloon.c). */
MonitorHandler qmp_balloon, hmp_balloon, qmp_query_balloon;
/* net/net-monitor.c */
MonitorHandler hmp_info_network, hmp_info_netstats, hmp_info_usernet, qmp_set_link,
               hmp_hostfwd_add, hmp_hostfwd_remove, qmp_netdev_add, qmp_netdev_del;
HmpPrinter hmp_print_balloon;

/* The labels and filenames of monitor-owned listeners, for query-chardev. */
void monitor_foreach_listener(void (*fn)(const char *label, const char *filename,
                                         void *opaque), void *opaque);

#endif
