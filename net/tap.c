/* -netdev tap: a Linux TAP device (ifname=, fd=, script=, downscript=, vnet_hdr=). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <glib.h>
#include <glib-unix.h>
#include "net/net.h"
#include "net/backends.h"
#include "util/bql.h"
#include "util/mainloop.h"

#define TAP_VNET_HDR_LEN 12
#define TAP_BUF_SIZE (65536 + TAP_VNET_HDR_LEN)
/* Frames read per wake-up; pure ACKs made redundant within a batch are dropped. */
#define TAP_BATCH 32
#define TAP_DEFAULT_SCRIPT "/etc/qemu-ifup"
#define TAP_DEFAULT_DOWNSCRIPT "/etc/qemu-ifdown"

typedef struct TapState {
    NetClientState nc;
    int fd;
    char ifname[IFNAMSIZ];
    char *downscript;
    bool vnet_hdr;
    guint read_watch;         /* reading frames from the device (0 while paused) */
    guint write_watch;        /* waiting for room to write queued frames */
    uint8_t *buf[TAP_BATCH];
    size_t len[TAP_BATCH];
    uint64_t acks_coalesced;  /* pure ACKs replaced by a later one of the same batch */
} TapState;

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque);

static void tap_read_resume(TapState *s)
{
    if (!s->read_watch) {
        s->read_watch = g_unix_fd_add(s->fd, G_IO_IN, tap_readable, s);
    }
}

static void tap_sent(NetClientState *nc, ssize_t len)
{
    if (net_client_queued(nc->peer) == 0) {
        tap_read_resume((TapState *)nc);
    }
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    TapState *s = opaque;
    size_t off = s->vnet_hdr ? TAP_VNET_HDR_LEN : 0;
    bool paused = false;
    int n = 0;

    /* A bounded batch per wake-up, so the rest of the main loop keeps running. */
    while (n < TAP_BATCH) {
        ssize_t r = read(s->fd, s->buf[n], TAP_BUF_SIZE);

        if (r <= (ssize_t)off) {
            break;
        }
        s->len[n++] = r;
    }
    for (int i = 0; i < n; i++) {
        bool superseded = false;

        for (int j = i + 1; j < n && !superseded; j++) {
            superseded = net_frame_ack_superseded(s->buf[i] + off, s->len[i] - off,
                                                  s->buf[j] + off, s->len[j] - off);
        }
        if (superseded) {
            s->acks_coalesced++;
        } else if (net_send(&s->nc, s->buf[i], s->len[i], tap_sent) == 0) {
            paused = true;
        }
    }
    if (paused) {
        /* The NIC cannot take more: stop reading until it drained its queue. */
        s->read_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean tap_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    TapState *s = opaque;

    s->write_watch = 0;
    net_client_flush(&s->nc);
    return G_SOURCE_REMOVE;
}

static ssize_t tap_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    TapState *s = (TapState *)nc;
    /* The host's receive path runs inside the write: vCPUs need not wait for it. */
    bool unlock = mainloop_is_main_thread() && bql_locked();
    ssize_t n;

    if (unlock) {
        bql_unlock();
    }
    do {
        n = writev(s->fd, iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    if (unlock) {
        bql_lock();
    }
    if (n < 0 && errno == EAGAIN) {
        if (!s->write_watch) {
            s->write_watch = g_unix_fd_add(s->fd, G_IO_OUT, tap_writable, s);
        }
        return 0;
    }
    return n < 0 ? -1 : n;
}

static bool tap_has_vnet_hdr(NetClientState *nc)
{
    return ((TapState *)nc)->vnet_hdr;
}

static void tap_set_offload(NetClientState *nc, bool csum, bool tso4, bool tso6, bool ecn)
{
    TapState *s = (TapState *)nc;
    unsigned flags = 0;

    if (csum) {
        flags |= TUN_F_CSUM;
        flags |= tso4 ? TUN_F_TSO4 : 0;
        flags |= tso6 ? TUN_F_TSO6 : 0;
        flags |= ecn ? TUN_F_TSO_ECN : 0;
    }
    ioctl(s->fd, TUNSETOFFLOAD, flags);
}

/* Runs an up/down script with the interface name; false when it fails. */
static bool tap_run_script(const char *script, const char *ifname, Error **errp)
{
    char *argv[] = { (char *)script, (char *)ifname, NULL };
    gint status;
    GError *gerr = NULL;

    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                      &gerr)) {
        error_setg(errp, "could not launch network script %s: %s", script, gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        error_setg(errp, "network script %s failed with status %d", script, status);
        return false;
    }
    return true;
}

static void tap_cleanup(NetClientState *nc)
{
    TapState *s = (TapState *)nc;

    if (s->read_watch) {
        g_source_remove(s->read_watch);
    }
    if (s->write_watch) {
        g_source_remove(s->write_watch);
    }
    if (s->downscript) {
        tap_run_script(s->downscript, s->ifname, NULL);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    g_free(s->downscript);
    for (int i = 0; i < TAP_BATCH; i++) {
        g_free(s->buf[i]);
    }
}

static const NetClientInfo net_tap_info = {
    .type = "tap",
    .size = sizeof(TapState),
    .receive_iov = tap_receive,
    .has_vnet_hdr = tap_has_vnet_hdr,
    .set_offload = tap_set_offload,
    .cleanup = tap_cleanup,
};

/* Opens /dev/net/tun as a TAP interface; *ifname (may be empty) gets the kernel's name. */
static int tap_open(char *ifname, bool *vnet_hdr, bool vnet_required, Error **errp)
{
    struct ifreq ifr = { 0 };
    unsigned features = 0;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "could not open /dev/net/tun");
        return -1;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR) && *vnet_hdr) {
        ifr.ifr_flags |= IFF_VNET_HDR;
    } else if (vnet_required) {
        error_setg(errp, "vnet_hdr=1 requested, but no kernel support for IFF_VNET_HDR "
                   "available");
        close(fd);
        return -1;
    }
    *vnet_hdr = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error_setg_errno(errp, errno, "could not configure /dev/net/tun (%s)",
                         ifname[0] ? ifname : "tap%d");
        close(fd);
        return -1;
    }
    g_strlcpy(ifname, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

bool net_init_tap(Opts *opts, const char *id, Error **errp)
{
    const char *ifname = opts_get(opts, "ifname");
    const char *fdstr = opts_get(opts, "fd");
    const char *script = opts_get(opts, "script");
    const char *downscript = opts_get(opts, "downscript");
    const char *vnet = opts_get(opts, "vnet_hdr");
    bool vhost, vnet_hdr = true, vnet_required = false;
    char name[IFNAMSIZ] = "";
    TapState *s;
    int fd;

    if (!opts_get_bool(opts, "vhost", false, &vhost, errp)) {
        return false;
    }
    if (vhost) {
        error_setg(errp, "vhost-net is not supported; use vhost=off");
        return false;
    }
    if (vnet && !parse_bool(vnet, &vnet_hdr, NULL)) {
        error_setg(errp, "Parameter 'vnet_hdr' expects 'on' or 'off'");
        return false;
    }
    vnet_required = vnet && vnet_hdr;
    if (fdstr) {
        uint64_t v;
        unsigned features = 0;
        struct ifreq ifr = { 0 };

        if (ifname || script || downscript) {
            error_setg(errp, "ifname=, script= and downscript= are invalid with fd=");
            return false;
        }
        if (!parse_uint64(fdstr, &v, NULL) || v > INT32_MAX || fcntl((int)v, F_GETFD) < 0) {
            error_setg(errp, "Invalid file descriptor '%s'", fdstr);
            return false;
        }
        fd = (int)v;
        /* An inherited descriptor keeps its flags: ask it whether it has the header. */
        vnet_hdr = ioctl(fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
        if (vnet_hdr && ioctl(fd, TUNGETFEATURES, &features) < 0) {
            vnet_hdr = false;
        }
        g_strlcpy(name, ifr.ifr_name, IFNAMSIZ);
    } else {
        if (ifname && strlen(ifname) >= IFNAMSIZ) {
            error_setg(errp, "interface name '%s' is too long", ifname);
            return false;
        }
        g_strlcpy(name, ifname ? ifname : "", IFNAMSIZ);
        fd = tap_open(name, &vnet_hdr, vnet_required, errp);
        if (fd < 0) {
            return false;
        }
        if (!script) {
            /* QEMU's default; skipped when the host has no such script. */
            script = access(TAP_DEFAULT_SCRIPT, X_OK) == 0 ? TAP_DEFAULT_SCRIPT : "no";
        }
        if (!downscript) {
            downscript = access(TAP_DEFAULT_DOWNSCRIPT, X_OK) == 0 ? TAP_DEFAULT_DOWNSCRIPT
                                                                    : "no";
        }
        if (strcmp(script, "no") && !tap_run_script(script, name, errp)) {
            close(fd);
            return false;
        }
    }
    if (vnet_hdr) {
        int len = TAP_VNET_HDR_LEN;

        if (ioctl(fd, TUNSETVNETHDRSZ, &len) < 0) {
            vnet_hdr = false;
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s = (TapState *)net_client_new(&net_tap_info, NULL, "tap", id);
    s->nc.is_netdev = true;
    s->fd = fd;
    s->vnet_hdr = vnet_hdr;
    for (int i = 0; i < TAP_BATCH; i++) {
        s->buf[i] = g_malloc(TAP_BUF_SIZE);
    }
    g_strlcpy(s->ifname, name, IFNAMSIZ);
    if (!fdstr && downscript && strcmp(downscript, "no")) {
        s->downscript = g_strdup(downscript);
    }
    if (fdstr) {
        net_client_set_info_str(&s->nc, "fd=%d", fd);
    } else {
        net_client_set_info_str(&s->nc, "ifname=%s,script=%s,downscript=%s", name, script,
                                downscript ? downscript : "no");
    }
    tap_read_resume(s);
    return true;
}
