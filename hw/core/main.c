/*
 * The vessel command line: QEMU's options with QEMU's meaning, validated up front, then
 * machine creation, accelerator selection, board init and the main loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <glib.h>
#include <glib-unix.h>
#include "accel/accel.h"
#include "accel/tcg/tcg.h"
#include "target/i386/cpu.h"
#include "block/block-backend.h"
#include "hw/core/machine.h"
#include "hw/core/memory.h"
#include "hw/core/qdev.h"
#include "monitor/monitor.h"
#include "net/net.h"
#include "util/chardev.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mainloop.h"
#include "util/option.h"
#include "ui/console.h"
#include "ui/display.h"

#define QEMU_COMPAT_VERSION "7.2.0"

typedef enum OptId {
    OPT_HELP,
    OPT_VERSION,
    OPT_MACHINE,
    OPT_ACCEL,
    OPT_MEMORY,
    OPT_SMP,
    OPT_BIOS,
    OPT_KERNEL,
    OPT_INITRD,
    OPT_APPEND,
    OPT_DTB,
    OPT_CPU,
    OPT_NOGRAPHIC,
    OPT_DISPLAY,
    OPT_VNC,
    OPT_SERIAL,
    OPT_CHARDEV,
    OPT_DEVICE,
    OPT_QMP,
    OPT_MONITOR,
    OPT_MON,
    OPT_PAUSED,
    OPT_NO_REBOOT,
    OPT_NO_SHUTDOWN,
    OPT_NAME,
    OPT_PIDFILE,
    OPT_DAEMONIZE,
    OPT_LOG_ITEMS,
    OPT_LOG_FILE,
    OPT_DRIVE,
    OPT_BLOCKDEV,
    OPT_NETDEV,
    OPT_NIC,
    OPT_PERFMAP,
    OPT_OBJECT,
} OptId;

typedef struct CmdOption {
    const char *name;
    OptId id;
    const char *arg;          /* argument placeholder; NULL for options without one */
    const char *help;         /* NULL for an alias listed under the previous entry */
} CmdOption;

static const CmdOption cmd_options[] = {
    { "h", OPT_HELP, NULL, "display this help and exit" },
    { "help", OPT_HELP, NULL, NULL },
    { "version", OPT_VERSION, NULL, "display version information and exit" },
    { "M", OPT_MACHINE, "NAME[,accel=A]", "select the board ('-M help' lists them)" },
    { "machine", OPT_MACHINE, "NAME[,accel=A]", NULL },
    { "accel", OPT_ACCEL, "NAME[:NAME...]",
      "accelerators to try in order, e.g. kvm:tcg ('-accel help' lists them)" },
    { "m", OPT_MEMORY, "[size=]SIZE", "guest RAM size; a bare number is MiB (k, M, G, T suffixes)" },
    { "smp", OPT_SMP, "[cpus=]N[,sockets=S,cores=C,threads=T,maxcpus=N]",
      "number of virtual CPUs" },
    { "bios", OPT_BIOS, "FILE|none", "firmware image, or 'none' to boot without firmware" },
    { "kernel", OPT_KERNEL, "FILE", "kernel image to boot (ELF or raw Image)" },
    { "initrd", OPT_INITRD, "FILE", "initial ram disk (needs -kernel)" },
    { "append", OPT_APPEND, "CMDLINE", "kernel command line (needs -kernel)" },
    { "cpu", OPT_CPU, "MODEL", "CPU model of the x86 pc board ('-cpu help' lists them)" },
    { "dtb", OPT_DTB, "FILE", "device tree blob to pass to the guest instead of the built one" },
    { "nographic", OPT_NOGRAPHIC, NULL,
      "no display; serial port and monitor multiplexed on stdio (Ctrl-a h for help)" },
    { "display", OPT_DISPLAY, "sdl[,full-screen=on][,window-close=off]|none",
      "display front end ('-display help' lists them)" },
    { "vnc", OPT_VNC, "[HOST]:DISPLAY[,password=on][,share=force-shared]|none",
      "VNC server on TCP port 5900+DISPLAY (password=on: set it with set_password)" },
    { "serial", OPT_SERIAL, "SPEC",
      "next serial port: stdio, mon:stdio, pty, null, none, file:PATH, unix:PATH[,server=on],\n"
      "tcp:[HOST]:PORT[,server=on,wait=off], chardev:ID" },
    { "chardev", OPT_CHARDEV, "BACKEND,id=ID[,...]",
      "character device: null, stdio, file (path=), pty, socket (path= or host=,port=;\n"
      "server=on, wait=off, reconnect=SECS); mux=on shares it between front ends" },
    { "device", OPT_DEVICE, "DRIVER[,id=ID][,bus=BUS][,PROP=VALUE...]",
      "add a device ('-device help' lists them, '-device DRIVER,help' its properties)" },
    { "qmp", OPT_QMP, "SPEC",
      "QMP monitor on SPEC, e.g. unix:PATH,server=on,wait=off or tcp:HOST:PORT,server=on,\n"
      "wait=off (every client gets its own session), stdio, chardev:ID" },
    { "qmp-pretty", OPT_QMP, "SPEC", "like -qmp, with indented JSON output" },
    { "monitor", OPT_MONITOR, "SPEC", "HMP (human) monitor on SPEC, as for -qmp; none for none" },
    { "mon", OPT_MON, "chardev=ID[,mode=readline|control][,pretty=on|off]",
      "monitor on the -chardev ID (mode=control: QMP)" },
    { "S", OPT_PAUSED, NULL, "do not start the CPUs at startup (use the monitor's 'cont')" },
    { "no-reboot", OPT_NO_REBOOT, NULL, "exit instead of rebooting" },
    { "no-shutdown", OPT_NO_SHUTDOWN, NULL, "stop the guest on shutdown instead of exiting" },
    { "name", OPT_NAME, "[guest=]NAME[,process=NAME]", "name of the guest (and of the process)" },
    { "pidfile", OPT_PIDFILE, "FILE", "write the process id to FILE" },
    { "daemonize", OPT_DAEMONIZE, NULL,
      "detach from the terminal once the machine is set up (needs a non-stdio serial)" },
    { "d", OPT_LOG_ITEMS, "ITEM[,...]", "enable logging of ITEMs ('-d help' lists them)" },
    { "D", OPT_LOG_FILE, "FILE", "write the log to FILE instead of stderr" },
    { "drive", OPT_DRIVE, "[file=]FILE[,format=raw|qcow2][,if=virtio|none][,id=ID][,cache=MODE]"
      "[,aio=threads][,readonly=on|off][,discard=ignore|unmap]", "disk image for the guest" },
    { "blockdev", OPT_BLOCKDEV, "driver=DRV,node-name=NAME[,file.filename=FILE][,...]",
      "block node graph (dotted keys or JSON), used by -device ...,drive=NAME" },
    { "netdev", OPT_NETDEV, "TYPE,id=ID[,...]",
      "network back end: user[,hostfwd=tcp::PORT-:PORT,...], tap[,ifname=,fd=],\n"
      "socket[,listen=|connect=|mcast=|udp=], stream, dgram ('-netdev help' lists them)" },
    { "nic", OPT_NIC, "[TYPE][,model=M][,mac=MAC][,...]",
      "a NIC on a new back end (-netdev TYPE options); none for no NIC" },
    { "perfmap", OPT_PERFMAP, NULL,
      "write /tmp/perf-PID.map naming the JIT's host code, for perf (as in QEMU 8.1 and later)" },
    { "object", OPT_OBJECT, "filter-dump,id=ID,netdev=NETDEV,file=FILE[,maxlen=N]",
      "create an object: filter-dump writes a netdev's traffic to a pcap file" },
    { NULL, OPT_HELP, NULL, NULL },
};

/* Everything the command line asks for, validated before anything is created. */
typedef struct Config {
    const MachineClass *mc;
    char *accel;
    bool has_ram;
    uint64_t ram_size;
    bool has_smp;
    unsigned smp;
    const char *bios, *kernel, *initrd, *append, *dtb;
    const char *cpu;
    bool nographic;
    GPtrArray *serials;       /* of const char * specs */
    GPtrArray *chardevs;      /* of const char * -chardev strings */
    GPtrArray *devices;       /* of const char * -device strings */
    GPtrArray *netdevs;       /* of const char * -netdev strings */
    GPtrArray *nics;          /* of const char * -nic strings */
    GPtrArray *objects;       /* of const char * -object strings */
    GPtrArray *nic_devices;   /* of char * device strings -nic asks for */
    bool paused, no_reboot, no_shutdown;
    char *name, *process_name;
    const char *pidfile;
    bool daemonize;
    int log_mask;
    const char *log_file;
} Config;

/* The pid file to remove at exit; NULL until written. */
static char *pidfile_written;
/* Write end of the pipe that tells the waiting -daemonize parent the child is ready. */
static int daemon_ready_fd = -1;

static void usage(void)
{
    printf("usage: vessel [options]\n\n"
           "Vessel emulator version %s: a small full-system emulator speaking QEMU's "
           "options.\n\n", VESSEL_VERSION);
    for (const CmdOption *o = cmd_options; o->name; o++) {
        GString *line = g_string_new(NULL);
        char **lines;

        if (!o->help) {
            continue;
        }
        /* Aliases follow their main entry: "-M, -machine NAME". */
        g_string_append_printf(line, "-%s", o->name);
        for (const CmdOption *a = o + 1; a->name && !a->help; a++) {
            g_string_append_printf(line, ", -%s", a->name);
        }
        if (o->arg) {
            g_string_append_printf(line, " %s", o->arg);
        }
        printf("%s\n", line->str);
        g_string_free(line, TRUE);
        lines = g_strsplit(o->help, "\n", -1);
        for (int i = 0; lines[i]; i++) {
            printf("        %s\n", lines[i]);
        }
        g_strfreev(lines);
    }
    printf("\nEvery option may also be spelled with two dashes (--kernel).\n");
}

static void version(void)
{
    printf("Vessel emulator version %s (QEMU-compatible " QEMU_COMPAT_VERSION ")\n",
           VESSEL_VERSION);
}

static const CmdOption *cmd_option_find(const char *name)
{
    for (const CmdOption *o = cmd_options; o->name; o++) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}

static bool parse_machine(Config *cfg, const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "type", errp);
    const char *type, *accel;
    bool ok = false;

    if (!opts) {
        return false;
    }
    type = opts_get(opts, "type");
    accel = opts_get(opts, "accel");
    if (!opts_check_all_used(opts, NULL, errp)) {
        goto out;
    }
    if (type && !strcmp(type, "help")) {
        machine_print_list();
        exit(0);
    }
    if (type) {
        cfg->mc = machine_class_find(type);
        if (!cfg->mc) {
            error_setg(errp, "unsupported machine type '%s' (-M help lists them)", type);
            goto out;
        }
    }
    if (accel) {
        g_free(cfg->accel);
        cfg->accel = g_strdup(accel);
    }
    ok = true;
out:
    opts_free(opts);
    return ok;
}

static bool parse_accel(Config *cfg, const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "accel", errp);
    const char *list;
    char **names;
    bool ok = true;

    if (!opts) {
        return false;
    }
    list = opts_get(opts, "accel");
    if (!opts_check_all_used(opts, NULL, errp)) {
        opts_free(opts);
        return false;
    }
    if (list && !strcmp(list, "help")) {
        accel_print_list();
        exit(0);
    }
    if (!list || !list[0]) {
        error_setg(errp, "no accelerator given");
        opts_free(opts);
        return false;
    }
    names = g_strsplit(list, ":", -1);
    for (int i = 0; names[i] && ok; i++) {
        if (!accel_find(names[i])) {
            error_setg(errp, "invalid accelerator '%s' (-accel help lists them)", names[i]);
            ok = false;
        }
    }
    g_strfreev(names);
    if (ok) {
        /* Repeated -accel options are tried in order, like one colon-separated list. */
        char *joined = cfg->accel ? g_strdup_printf("%s:%s", cfg->accel, list)
                                  : g_strdup(list);

        g_free(cfg->accel);
        cfg->accel = joined;
    }
    opts_free(opts);
    return ok;
}

static bool parse_memory(Config *cfg, const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "size", errp);
    const char *size;
    bool ok = false;

    if (!opts) {
        return false;
    }
    size = opts_get(opts, "size");
    if (!opts_check_all_used(opts, NULL, errp)) {
        goto out;
    }
    if (!size) {
        error_setg(errp, "missing size (e.g. -m 512M)");
        goto out;
    }
    if (!parse_size(size, 'M', &cfg->ram_size, errp)) {
        goto out;
    }
    if (cfg->ram_size == 0) {
        error_setg(errp, "ram size must be greater than 0");
        goto out;
    }
    cfg->has_ram = true;
    ok = true;
out:
    opts_free(opts);
    return ok;
}

static bool parse_smp(Config *cfg, const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "cpus", errp);
    uint64_t cpus, sockets, cores, threads, maxcpus;
    bool topo, ok = false;

    if (!opts) {
        return false;
    }
    topo = opts_has(opts, "sockets") || opts_has(opts, "cores") || opts_has(opts, "threads");
    if (!opts_get_number(opts, "cpus", 0, &cpus, errp) ||
        !opts_get_number(opts, "sockets", 1, &sockets, errp) ||
        !opts_get_number(opts, "cores", 1, &cores, errp) ||
        !opts_get_number(opts, "threads", 1, &threads, errp) ||
        !opts_get_number(opts, "maxcpus", 0, &maxcpus, errp) ||
        !opts_check_all_used(opts, NULL, errp)) {
        goto out;
    }
    if (sockets == 0 || cores == 0 || threads == 0 ||
        sockets > 4096 || cores > 4096 || threads > 4096) {
        error_setg(errp, "sockets, cores and threads must be between 1 and 4096");
        goto out;
    }
    if (!opts_has(opts, "cpus") || (cpus == 0 && topo)) {
        cpus = sockets * cores * threads;
    } else if (topo && sockets * cores * threads != cpus) {
        error_setg(errp, "invalid CPU topology: sockets (%" PRIu64 ") * cores (%" PRIu64
                   ") * threads (%" PRIu64 ") != cpus (%" PRIu64 ")",
                   sockets, cores, threads, cpus);
        goto out;
    }
    if (cpus == 0 || cpus > 65536) {
        error_setg(errp, "invalid number of CPUs %" PRIu64, cpus);
        goto out;
    }
    if (maxcpus && maxcpus != cpus) {
        error_setg(errp, "maxcpus=%" PRIu64 " differs from cpus=%" PRIu64
                   ": CPU hotplug is not supported", maxcpus, cpus);
        goto out;
    }
    cfg->smp = cpus;
    cfg->has_smp = true;
    ok = true;
out:
    opts_free(opts);
    return ok;
}

static bool parse_name(Config *cfg, const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "guest", errp);
    bool ok;

    if (!opts) {
        return false;
    }
    g_free(cfg->name);
    g_free(cfg->process_name);
    cfg->name = g_strdup(opts_get(opts, "guest"));
    cfg->process_name = g_strdup(opts_get(opts, "process"));
    ok = opts_check_all_used(opts, NULL, errp);
    opts_free(opts);
    return ok;
}

/* Queues a -device for after board creation; help needs no machine and exits here. */
static bool parse_device(Config *cfg, const char *arg, Error **errp)
{
    Opts *opts = opts_parse(arg, "driver", errp);
    if (!opts) {
        return false;
    }
    const char *driver = opts_get(opts, "driver");
    bool help = opts_has(opts, "help") || (driver && (!strcmp(driver, "help") ||
                                                      !strcmp(driver, "?")));
    opts_free(opts);
    if (help) {
        if (!device_create(arg, errp) && !device_help_printed()) {
            return false;
        }
        exit(0);
    }
    g_ptr_array_add(cfg->devices, (gpointer)arg);
    return true;
}

/* Applies one option; false with *errp when its argument is bad. Help options exit. */
static bool handle_option(Config *cfg, const CmdOption *o, const char *arg, Error **errp)
{
    switch (o->id) {
    case OPT_HELP:
        usage();
        exit(0);
    case OPT_VERSION:
        version();
        exit(0);
    case OPT_MACHINE:
        return parse_machine(cfg, arg, errp);
    case OPT_ACCEL:
        return parse_accel(cfg, arg, errp);
    case OPT_MEMORY:
        return parse_memory(cfg, arg, errp);
    case OPT_SMP:
        return parse_smp(cfg, arg, errp);
    case OPT_BIOS:
        cfg->bios = arg;
        return true;
    case OPT_KERNEL:
        cfg->kernel = arg;
        return true;
    case OPT_INITRD:
        cfg->initrd = arg;
        return true;
    case OPT_APPEND:
        cfg->append = arg;
        return true;
    case OPT_CPU:
        if (strcmp(arg, "help") == 0) {
            x86_cpu_print_list();
            exit(0);
        }
        cfg->cpu = arg;
        return true;
    case OPT_DTB:
        cfg->dtb = arg;
        return true;
    case OPT_NOGRAPHIC:
        cfg->nographic = true;
        return true;
    case OPT_DISPLAY:
        return display_parse(arg, errp);
    case OPT_VNC:
        return vnc_parse(arg, errp);
    case OPT_SERIAL:
        if (cfg->serials->len == MAX_SERIAL_PORTS) {
            error_setg(errp, "too many serial ports (at most %d)", MAX_SERIAL_PORTS);
            return false;
        }
        g_ptr_array_add(cfg->serials, (gpointer)arg);
        return true;
    case OPT_CHARDEV:
        g_ptr_array_add(cfg->chardevs, (gpointer)arg);
        return true;
    case OPT_DEVICE:
        return parse_device(cfg, arg, errp);
    case OPT_DRIVE:
        return drive_new(arg, errp) != NULL;
    case OPT_BLOCKDEV:
        return blockdev_new(arg, errp) != NULL;
    case OPT_NETDEV:
        if (!strcmp(arg, "help")) {
            net_netdev_add_str(arg, errp);
            exit(0);
        }
        g_ptr_array_add(cfg->netdevs, (gpointer)arg);
        return true;
    case OPT_NIC:
        g_ptr_array_add(cfg->nics, (gpointer)arg);
        return true;
    case OPT_OBJECT:
        g_ptr_array_add(cfg->objects, (gpointer)arg);
        return true;
    case OPT_QMP:
    case OPT_MONITOR:
    case OPT_MON:
        return monitor_add_option(o->name, arg, errp);
    case OPT_PAUSED:
        cfg->paused = true;
        return true;
    case OPT_PERFMAP:
        tcg_perfmap_enable();
        return true;
    case OPT_NO_REBOOT:
        cfg->no_reboot = true;
        return true;
    case OPT_NO_SHUTDOWN:
        cfg->no_shutdown = true;
        return true;
    case OPT_NAME:
        return parse_name(cfg, arg, errp);
    case OPT_PIDFILE:
        cfg->pidfile = arg;
        return true;
    case OPT_DAEMONIZE:
        cfg->daemonize = true;
        return true;
    case OPT_LOG_ITEMS:
        if (!strcmp(arg, "help")) {
            log_print_help();
            exit(0);
        }
        return log_parse_items(arg, &cfg->log_mask, errp);
    case OPT_LOG_FILE:
        cfg->log_file = arg;
        return true;
    }
    return true;
}

/* Reports err prefixed with the option it belongs to and exits with status 1. */
static void G_GNUC_NORETURN fail(const char *option, Error *err)
{
    if (option) {
        error_prepend(&err, "%s: ", option);
    }
    error_report_err(err);
    exit(1);
}

static void parse_command_line(Config *cfg, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *name = arg + 1;
        const CmdOption *o;
        Error *err = NULL;

        if (arg[0] != '-' || !arg[1]) {
            error_report("unexpected argument '%s' (give disk images with -drive file=...)",
                         arg);
            exit(1);
        }
        if (name[0] == '-') {
            name++;
        }
        o = cmd_option_find(name);
        if (!o) {
            error_report("%s: invalid option (-h lists the options)", arg);
            exit(1);
        }
        if (o->arg && i + 1 >= argc) {
            error_report("%s: requires an argument", arg);
            exit(1);
        }
        if (!handle_option(cfg, o, o->arg ? argv[++i] : NULL, &err)) {
            fail(arg, err);
        }
    }
}

static bool check_readable(const char *option, const char *path, Error **errp)
{
    if (access(path, R_OK) < 0) {
        error_setg_errno(errp, errno, "%s: could not open '%s'", option, path);
        return false;
    }
    return true;
}

/* True when a -serial spec or -chardev string uses the process's stdio. */
static bool spec_uses_stdio(const char *spec)
{
    if (g_str_has_prefix(spec, "mon:")) {
        spec += 4;
    }
    return !strcmp(spec, "stdio");
}

static bool chardev_string_uses_stdio(const char *str)
{
    Opts *opts = opts_parse(str, "backend", NULL);
    bool stdio = opts && opts_get(opts, "backend") && !strcmp(opts_get(opts, "backend"), "stdio");

    opts_free(opts);
    return stdio;
}

/* Cross-option checks that need the whole command line. */
static bool validate(Config *cfg, Error **errp)
{
    if (!cfg->mc) {
        cfg->mc = machine_class_default();
        if (!cfg->mc) {
            error_setg(errp, "no machine given and there is no default (-M help lists them)");
            return false;
        }
    }
    if (!cfg->kernel) {
        const char *needs = cfg->append ? "-append" : cfg->initrd ? "-initrd" :
                            cfg->dtb ? "-dtb" : NULL;

        if (needs) {
            error_setg(errp, "%s only allowed with -kernel option", needs);
            return false;
        }
    }
    if ((cfg->kernel && !check_readable("-kernel", cfg->kernel, errp)) ||
        (cfg->initrd && !check_readable("-initrd", cfg->initrd, errp)) ||
        (cfg->dtb && !check_readable("-dtb", cfg->dtb, errp)) ||
        (cfg->bios && strcmp(cfg->bios, "none") && strcmp(cfg->bios, "default") &&
         !check_readable("-bios", cfg->bios, errp))) {
        return false;
    }
    if (cfg->has_ram && cfg->mc->max_ram_size && cfg->ram_size > cfg->mc->max_ram_size) {
        char *want = g_format_size_full(cfg->ram_size, G_FORMAT_SIZE_IEC_UNITS);
        char *max = g_format_size_full(cfg->mc->max_ram_size, G_FORMAT_SIZE_IEC_UNITS);

        error_setg(errp, "-m: ram size %s exceeds the maximum of %s for machine '%s'",
                   want, max, cfg->mc->name);
        g_free(want);
        g_free(max);
        return false;
    }
    if (cfg->has_smp && cfg->mc->max_cpus && cfg->smp > cfg->mc->max_cpus) {
        error_setg(errp, "-smp: invalid SMP CPUs %u: the maximum for machine '%s' is %u",
                   cfg->smp, cfg->mc->name, cfg->mc->max_cpus);
        return false;
    }
    if (cfg->daemonize) {
        if (cfg->nographic && cfg->serials->len == 0) {
            error_setg(errp, "-nographic cannot be used with -daemonize "
                       "(its serial port is stdio); give a -serial");
            return false;
        }
        for (guint i = 0; i < cfg->serials->len; i++) {
            if (spec_uses_stdio(g_ptr_array_index(cfg->serials, i))) {
                error_setg(errp, "-daemonize: -serial %s cannot be used with -daemonize",
                           (const char *)g_ptr_array_index(cfg->serials, i));
                return false;
            }
        }
        for (guint i = 0; i < cfg->chardevs->len; i++) {
            if (chardev_string_uses_stdio(g_ptr_array_index(cfg->chardevs, i))) {
                error_setg(errp, "-daemonize: a stdio chardev cannot be used with -daemonize");
                return false;
            }
        }
    }
    log_mask = cfg->log_mask;
    if (cfg->log_file && !log_set_file(cfg->log_file, errp)) {
        error_prepend(errp, "-D: ");
        return false;
    }
    return true;
}

static void pidfile_remove(void)
{
    if (pidfile_written) {
        unlink(pidfile_written);
    }
}

static bool pidfile_write(const char *path, Error **errp)
{
    char buf[32];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

    if (fd < 0 || write(fd, buf, len) != len) {
        error_setg_errno(errp, errno, "-pidfile: cannot write '%s'", path);
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    close(fd);
    pidfile_written = g_strdup(path);
    return true;
}

/*
 * Forks; the parent waits until the child reports that the machine is set up and exits 0,
 * or with the child's error status when the child fails first. Only the child returns.
 */
static void daemonize_start(void)
{
    int fds[2], status;
    pid_t pid;
    char c;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        error_report("-daemonize: pipe: %s", strerror(errno));
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        error_report("-daemonize: fork: %s", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(0);
        }
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status)) {
            _exit(WEXITSTATUS(status));
        }
        _exit(1);
    }
    close(fds[0]);
    daemon_ready_fd = fds[1];
    setsid();
}

/* The child is ready: release the parent and let go of the terminal. */
static void daemonize_finish(void)
{
    int null = open("/dev/null", O_RDWR);
    char c = 0;

    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    if (write(daemon_ready_fd, &c, 1) != 1) {
        exit(1);
    }
    close(daemon_ready_fd);
    daemon_ready_fd = -1;
}

static gboolean on_signal(gpointer opaque)
{
    int sig = GPOINTER_TO_INT(opaque);

    error_report("terminating on signal %d", sig);
    machine_request_shutdown(SHUTDOWN_CAUSE_HOST_SIGNAL, 0);
    return G_SOURCE_CONTINUE;
}

/* -netdev and -nic back ends, then -object filters on them; -nic NICs are queued in
 * cfg->nic_devices for after board creation. */
static bool create_netdevs(Config *cfg, Error **errp)
{
    cfg->nic_devices = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < cfg->netdevs->len; i++) {
        const char *spec = g_ptr_array_index(cfg->netdevs, i);
        if (!net_netdev_add_str(spec, errp)) {
            error_prepend(errp, "-netdev %s: ", spec);
            return false;
        }
    }
    for (guint i = 0; i < cfg->nics->len; i++) {
        const char *spec = g_ptr_array_index(cfg->nics, i);
        char *dev;
        if (!net_nic_option(spec, &dev, errp)) {
            error_prepend(errp, "-nic %s: ", spec);
            return false;
        }
        if (dev) {
            g_ptr_array_add(cfg->nic_devices, dev);
        }
    }
    for (guint i = 0; i < cfg->objects->len; i++) {
        const char *spec = g_ptr_array_index(cfg->objects, i);
        Opts *opts = opts_parse(spec, "qom-type", errp);
        const char *type = opts ? opts_get(opts, "qom-type") : NULL;
        bool ok = opts && type && !strcmp(type, "filter-dump");

        if (opts && !ok) {
            error_setg(errp, "invalid object type: %s", type ? type : "");
        }
        ok = ok && net_filter_dump_add(opts, errp);
        opts_free(opts);
        if (!ok) {
            error_prepend(errp, "-object %s: ", spec);
            return false;
        }
    }
    return true;
}

static bool create_serials(Config *cfg, Machine *m, Error **errp)
{
    if (cfg->serials->len == 0) {
        /* QEMU's defaults: the console on stdio with -nographic (sharing it with the HMP
         * monitor unless a monitor option was given), else a (absent) display's vc, which
         * without a display is a sink. */
        g_ptr_array_add(cfg->serials, (gpointer)(!cfg->nographic ?
                                                 (display_is_graphical() ? "vc" : "null") :
                                                 monitor_options_given() ? "stdio"
                                                                         : "mon:stdio"));
    }
    for (guint i = 0; i < cfg->serials->len; i++) {
        const char *spec = g_ptr_array_index(cfg->serials, i);
        char *id = g_strdup_printf("serial%u", i);
        Error *err = NULL;

        /* vc: a text console of the display (Ctrl-Alt-N). */
        if (!strcmp(spec, "vc") && display_is_graphical()) {
            m->serial[i] = console_vc_new(id, &err);
        } else {
            m->serial[i] = chardev_new_from_spec(spec, id, &err);
        }
        g_free(id);
        if (err) {
            error_propagate(errp, err);
            error_prepend(errp, "-serial %s: ", spec);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    Config cfg = { .smp = 1 };
    Error *err = NULL;
    Machine *m;
    int status;

    cfg.serials = g_ptr_array_new();
    cfg.chardevs = g_ptr_array_new();
    cfg.devices = g_ptr_array_new();
    cfg.netdevs = g_ptr_array_new();
    cfg.nics = g_ptr_array_new();
    cfg.objects = g_ptr_array_new();
    parse_command_line(&cfg, argc, argv);
    if (!validate(&cfg, &err)) {
        fail(NULL, err);
    }
    if (cfg.daemonize) {
        daemonize_start();
    }
    atexit(chardev_cleanup_all);
    atexit(pidfile_remove);
    if (cfg.pidfile && !pidfile_write(cfg.pidfile, &err)) {
        fail(NULL, err);
    }
    if (cfg.process_name) {
        prctl(PR_SET_NAME, cfg.process_name);
    }
    signal(SIGPIPE, SIG_IGN);

    m = machine_new(cfg.mc);
    if (cfg.has_ram) {
        m->ram_size = cfg.ram_size;
    }
    if (cfg.has_smp) {
        m->smp = cfg.smp;
    }
    m->name = g_strdup(cfg.name);
    m->kernel = g_strdup(cfg.kernel);
    m->initrd = g_strdup(cfg.initrd);
    m->append = g_strdup(cfg.append);
    m->dtb = g_strdup(cfg.dtb);
    m->cpu_type = g_strdup(cfg.cpu);
    m->bios = g_strdup(cfg.bios);
    m->no_reboot = cfg.no_reboot;
    m->no_shutdown = cfg.no_shutdown;

    memory_system_init();
    mainloop_init();
    machine_requests_init();
    for (guint i = 0; i < cfg.chardevs->len; i++) {
        if (!chardev_new_from_string(g_ptr_array_index(cfg.chardevs, i), &err)) {
            fail("-chardev", err);
        }
    }
    /* With a display and no monitor option, QEMU puts HMP on a text console (Ctrl-Alt-2). */
    if (display_is_graphical() && !cfg.nographic && !monitor_options_given()) {
        Chardev *vc = console_vc_new("compat_monitor0", &err);
        if (!vc || !monitor_attach_chardev(vc, false, false, false, &err)) {
            fail(NULL, err);
        }
    }
    if (!create_serials(&cfg, m, &err) || !monitor_start_all(&err)) {
        fail(NULL, err);
    }
    /* After the chardevs: a socket waiting for its client (wait=on) stays interruptible. */
    g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
    g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
    g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));
    m->accel = accel_select(m, cfg.accel ? cfg.accel : "tcg", &err);
    if (!m->accel) {
        fail("-accel", err);
    }
    if (!create_netdevs(&cfg, &err)) {
        fail(NULL, err);
    }
    if (!m->mc->init(m, &err)) {
        fail(NULL, err);
    }
    for (guint i = 0; i < cfg.nic_devices->len; i++) {
        const char *spec = g_ptr_array_index(cfg.nic_devices, i);
        if (!device_create(spec, &err)) {
            error_prepend(&err, "-nic: ");
            fail(NULL, err);
        }
    }
    for (guint i = 0; i < cfg.devices->len; i++) {
        const char *spec = g_ptr_array_index(cfg.devices, i);
        if (!device_create(spec, &err)) {
            error_prepend(&err, "-device %s: ", spec);
            fail(NULL, err);
        }
    }
    /* -drive if=virtio: virtio-blk-pci on a board with a PCI bus (pc), as QEMU does;
     * a virtio-mmio board (riscv virt) gets a virtio-blk-device. */
    const char *virtio_blk = bus_find_free("PCI") ? "virtio-blk-pci" : "virtio-blk-device";
    GPtrArray *virtio_drives = drive_list_if_virtio();
    for (guint i = 0; i < virtio_drives->len; i++) {
        char **parts = g_strsplit(blk_name(g_ptr_array_index(virtio_drives, i)), ",", -1);
        char *escaped = g_strjoinv(",,", parts);
        char *spec = g_strdup_printf("%s,drive=%s", virtio_blk, escaped);
        g_strfreev(parts);
        g_free(escaped);
        if (!device_create(spec, &err)) {
            error_prepend(&err, "-drive %s: ", spec);
            fail(NULL, err);
        }
        g_free(spec);
    }
    g_ptr_array_free(virtio_drives, true);
    qdev_machine_creation_done();
    /* -serial mon:...: the HMP monitor is the mux's second front end, after the UART. */
    for (guint i = 0; i < cfg.serials->len; i++) {
        if (g_str_has_prefix(g_ptr_array_index(cfg.serials, i), "mon:") && m->serial[i] &&
            !monitor_attach_chardev(m->serial[i], false, false, true, &err)) {
            fail(NULL, err);
        }
    }
    if (!display_start(&err)) {
        fail(NULL, err);
    }
    if (!machine_start_cpus(m, cfg.paused, &err)) {
        fail(NULL, err);
    }
    if (cfg.daemonize) {
        daemonize_finish();
    }
    status = mainloop_run();
    blk_flush_all();
    chardev_cleanup_all();
    return status;
}
