/* virtio-balloon-device: inflate/deflate queues, statistics with host polling, free page
 * reporting; inflated and reported pages are discarded from the host mapping. */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include "hw/core/machine.h"
#include "hw/virtio/virtio-balloon.h"
#include "util/log.h"

#define BALLOON_QUEUE_SIZE     128
#define BALLOON_PAGE_SIZE      (1ULL << VIRTIO_BALLOON_PFN_SHIFT)
#define BALLOON_CONFIG_SIZE    8      /* num_pages, actual: no hint or poison fields */
#define NS_PER_SEC             1000000000LL

const char *const virtio_balloon_stat_names[VIRTIO_BALLOON_S_NR] = {
    [VIRTIO_BALLOON_S_SWAP_IN] = "stat-swap-in",
    [VIRTIO_BALLOON_S_SWAP_OUT] = "stat-swap-out",
    [VIRTIO_BALLOON_S_MAJFLT] = "stat-major-faults",
    [VIRTIO_BALLOON_S_MINFLT] = "stat-minor-faults",
    [VIRTIO_BALLOON_S_MEMFREE] = "stat-free-memory",
    [VIRTIO_BALLOON_S_MEMTOT] = "stat-total-memory",
    [VIRTIO_BALLOON_S_AVAIL] = "stat-available-memory",
    [VIRTIO_BALLOON_S_CACHES] = "stat-disk-caches",
    [VIRTIO_BALLOON_S_HTLB_PGALLOC] = "stat-htlb-pgalloc",
    [VIRTIO_BALLOON_S_HTLB_PGFAIL] = "stat-htlb-pgfail",
};

static VirtIOBalloon *balloon_of(VirtIODevice *vdev)
{
    return (VirtIOBalloon *)vdev;
}

/* Guest RAM size the target and `actual` are measured against. */
static uint64_t balloon_ram_size(void)
{
    return current_machine ? current_machine->ram_size : 0;
}

/* ---- page discarding ---- */

/* A run of contiguous host memory waiting to be discarded. */
typedef struct DiscardRun {
    uint8_t *start;
    size_t len;
} DiscardRun;

/* Gives [p, p+len) back to the host; only whole host pages inside the range are dropped. */
static void balloon_discard(void *p, size_t len)
{
    uintptr_t host_page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)p + host_page - 1) & ~(host_page - 1);
    uintptr_t end = ((uintptr_t)p + len) & ~(host_page - 1);

    if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) != 0) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-balloon: madvise(DONTNEED) failed for "
                        "%zu bytes\n", (size_t)(end - start));
    }
}

static void discard_run_flush(DiscardRun *run)
{
    if (run->len) {
        balloon_discard(run->start, run->len);
    }
    run->start = NULL;
    run->len = 0;
}

/* Extends the run with one page, or flushes it and starts a new one. */
static void discard_run_add(DiscardRun *run, uint8_t *page, size_t len)
{
    if (run->len && run->start + run->len == page) {
        run->len += len;
        return;
    }
    discard_run_flush(run);
    run->start = page;
    run->len = len;
}

/* ---- inflate and deflate ---- */

/* Processes every PFN of every available buffer on the inflate or deflate queue. */
static void balloon_handle_pfns(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBalloon *b = balloon_of(vdev);
    bool inflate = vq == b->ivq;
    VirtQueueElement *elem;

    while ((elem = virtqueue_pop(vq, sizeof(VirtQueueElement)))) {
        DiscardRun run = { NULL, 0 };
        uint32_t pfn_le;
        size_t offset = 0;

        while (iov_to_buf(elem->out_sg, elem->out_num, offset, &pfn_le, 4) == 4) {
            uint64_t gpa = (uint64_t)le32toh(pfn_le) << VIRTIO_BALLOON_PFN_SHIFT;
            uint8_t *page = address_space_ram_ptr(vdev->as, gpa, BALLOON_PAGE_SIZE, true);

            offset += 4;
            if (!page) {
                b->pages_bad++;
                log_mask_printf(LOG_GUEST_ERROR, "virtio-balloon: %s of PFN 0x%" PRIx64
                                " outside guest RAM ignored\n",
                                inflate ? "inflate" : "deflate",
                                gpa >> VIRTIO_BALLOON_PFN_SHIFT);
                continue;
            }
            if (inflate) {
                b->pages_inflated++;
                discard_run_add(&run, page, BALLOON_PAGE_SIZE);
            } else {
                b->pages_deflated++;
            }
        }
        discard_run_flush(&run);
        virtqueue_push(vq, elem, 0);
        virtio_notify(vdev, vq);
        g_free(elem);
    }
}

/* ---- free page reporting ---- */

/* Each device-writable buffer is a free guest range; its host memory is discarded. */
static void balloon_handle_report(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBalloon *b = balloon_of(vdev);
    VirtQueueElement *elem;

    while ((elem = virtqueue_pop(vq, sizeof(VirtQueueElement)))) {
        if (elem->out_num) {
            virtio_error(vdev, "free page report with %u device-readable buffers",
                         elem->out_num);
            virtqueue_detach_element(vq, elem);
            g_free(elem);
            return;
        }
        for (unsigned i = 0; i < elem->in_num; i++) {
            balloon_discard(elem->in_sg[i].iov_base, elem->in_sg[i].iov_len);
            b->bytes_reported += elem->in_sg[i].iov_len;
        }
        virtqueue_push(vq, elem, 0);
        virtio_notify(vdev, vq);
        g_free(elem);
    }
}

/* ---- statistics ---- */

static bool balloon_stats_enabled(const VirtIOBalloon *b)
{
    return b->stats_poll_interval > 0;
}

static void balloon_stats_arm(VirtIOBalloon *b)
{
    if (b->stats_timer && balloon_stats_enabled(b)) {
        timer_mod(b->stats_timer, clock_ns() + b->stats_poll_interval * NS_PER_SEC);
    }
}

/* Polling tick: hands the buffer back so that the driver refills it with fresh values. */
static void balloon_stats_poll(void *opaque)
{
    VirtIOBalloon *b = opaque;
    VirtIODevice *vdev = &b->vdev;

    if (!b->stats_elem || !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) || vdev->broken) {
        balloon_stats_arm(b);
        return;
    }
    virtqueue_push(b->svq, b->stats_elem, 0);
    virtio_notify(vdev, b->svq);
    g_free(b->stats_elem);
    b->stats_elem = NULL;
}

static void balloon_stats_reset(VirtIOBalloon *b)
{
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        b->stats[i] = UINT64_MAX;
    }
}

/* The driver (re)filled the stats buffer: parse it and keep it for the next poll. */
static void balloon_handle_stats(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBalloon *b = balloon_of(vdev);
    VirtQueueElement *elem = virtqueue_pop(vq, sizeof(VirtQueueElement));
    uint8_t stat[VIRTIO_BALLOON_STAT_SIZE];
    size_t offset = 0;

    if (!elem) {
        return;
    }
    if (b->stats_elem) {
        /* The driver queued a second buffer: the older one goes back unused. */
        virtqueue_push(vq, b->stats_elem, 0);
        virtio_notify(vdev, vq);
        g_free(b->stats_elem);
    }
    b->stats_elem = elem;
    balloon_stats_reset(b);
    while (iov_to_buf(elem->out_sg, elem->out_num, offset, stat, sizeof(stat)) ==
           sizeof(stat)) {
        uint16_t tag;
        uint64_t val;

        memcpy(&tag, stat, 2);
        memcpy(&val, stat + 2, 8);
        tag = le16toh(tag);
        if (tag < VIRTIO_BALLOON_S_NR) {
            b->stats[tag] = le64toh(val);
        }
        offset += sizeof(stat);
    }
    b->stats_last_update = time(NULL);
    balloon_stats_arm(b);
}

/* ---- config space and features ---- */

static void balloon_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOBalloon *b = balloon_of(vdev);
    uint32_t num_pages = htole32(b->num_pages);
    uint32_t actual = htole32(b->actual);

    memcpy(config, &num_pages, 4);
    memcpy(config + 4, &actual, 4);
}

static void balloon_set_actual(VirtIOBalloon *b, uint32_t actual)
{
    if (actual != b->actual) {
        b->actual = actual;
        monitor_balloon_changed(virtio_balloon_get_actual(b));
    }
}

/* The driver may only write `actual`; num_pages stays the host's. */
static void balloon_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    uint32_t actual;

    memcpy(&actual, config + 4, 4);
    balloon_set_actual(balloon_of(vdev), le32toh(actual));
}

static uint64_t balloon_get_features(VirtIODevice *vdev)
{
    VirtIOBalloon *b = balloon_of(vdev);
    uint64_t f = 1ULL << VIRTIO_BALLOON_F_STATS_VQ;

    if (b->deflate_on_oom) {
        f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
    }
    if (b->free_page_reporting) {
        f |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
    }
    return f;
}

/* ---- host interface ---- */

void virtio_balloon_set_target(VirtIOBalloon *b, uint64_t target)
{
    uint64_t ram = balloon_ram_size();

    if (target > ram) {
        target = ram;
    }
    b->num_pages = (uint32_t)MIN((ram - target) >> VIRTIO_BALLOON_PFN_SHIFT, UINT32_MAX);
    if (b->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) {
        virtio_notify_config(&b->vdev);
    }
}

uint64_t virtio_balloon_get_actual(const VirtIOBalloon *b)
{
    uint64_t ram = balloon_ram_size();
    uint64_t balloon = (uint64_t)b->actual << VIRTIO_BALLOON_PFN_SHIFT;

    return balloon < ram ? ram - balloon : 0;
}

/* Depth-first search for the first realized balloon below obj. */
static VirtIOBalloon *balloon_search(Object *obj, unsigned depth)
{
    if (object_is_a(obj, &virtio_balloon_device_class.oc) && obj->realized) {
        return (VirtIOBalloon *)obj;
    }
    for (guint i = 0; depth < 64 && obj->children && i < obj->children->len; i++) {
        VirtIOBalloon *b = balloon_search(g_ptr_array_index(obj->children, i), depth + 1);

        if (b) {
            return b;
        }
    }
    return NULL;
}

VirtIOBalloon *virtio_balloon_find(void)
{
    return balloon_search(object_root(), 0);
}

/* ---- properties ---- */

static bool prop_set_poll_interval(Object *obj, const Property *prop, const char *value,
                                   Error **errp)
{
    VirtIOBalloon *b = (VirtIOBalloon *)obj;
    char *end;
    long long v;

    errno = 0;
    v = strtoll(value, &end, 0);
    if (errno || end == value || *end) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", obj->cls->name,
                   prop->name, value);
        return false;
    }
    if (v < 0) {
        error_setg(errp, "timer value must be greater than zero");
        return false;
    }
    if (v > UINT32_MAX) {
        error_setg(errp, "timer value is too big");
        return false;
    }
    if (v == b->stats_poll_interval) {
        return true;
    }
    b->stats_poll_interval = v;
    if (!b->stats_timer) {
        return true;             /* not realized yet: realize arms the timer */
    }
    if (v == 0) {
        timer_del(b->stats_timer);
    } else {
        balloon_stats_arm(b);
    }
    return true;
}

static char *prop_get_poll_interval(Object *obj, const Property *prop)
{
    return g_strdup_printf("%" PRId64, ((VirtIOBalloon *)obj)->stats_poll_interval);
}

static const PropertyInfo prop_info_poll_interval = {
    .type_name = "int",
    .set = prop_set_poll_interval,
    .get = prop_get_poll_interval,
    .runtime = true,
};

static bool prop_set_guest_stats(Object *obj, const Property *prop, const char *value,
                                 Error **errp)
{
    error_setg(errp, "Property '%s.%s' is read-only", obj->cls->name, prop->name);
    return false;
}

/* {"stats": {"stat-swap-in": N, ...}, "last-update": secs}; -1 for what was not reported. */
static char *balloon_stats_json(const VirtIOBalloon *b)
{
    GString *s = g_string_new("{\"stats\": {");

    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        int64_t v = b->stats[i] > INT64_MAX ? -1 : (int64_t)b->stats[i];

        g_string_append_printf(s, "%s\"%s\": %" PRId64, i ? ", " : "",
                               virtio_balloon_stat_names[i], v);
    }
    g_string_append_printf(s, "}, \"last-update\": %" PRId64 "}", b->stats_last_update);
    return g_string_free(s, FALSE);
}

/* As text (-device help, info qtree): empty until the guest reported something. */
static char *prop_get_guest_stats(Object *obj, const Property *prop)
{
    VirtIOBalloon *b = (VirtIOBalloon *)obj;

    return b->stats_last_update ? balloon_stats_json(b) : g_strdup("");
}

/* As qom-get reads it: always the structure, unless polling waits for a first report. */
static char *prop_get_guest_stats_checked(Object *obj, const Property *prop, Error **errp)
{
    VirtIOBalloon *b = (VirtIOBalloon *)obj;

    if (balloon_stats_enabled(b) && b->stats_last_update == 0) {
        error_setg(errp, "guest hasn't updated any stats yet");
        return NULL;
    }
    return balloon_stats_json(b);
}

static const PropertyInfo prop_info_guest_stats = {
    .type_name = "guest-stats",
    .set = prop_set_guest_stats,
    .get = prop_get_guest_stats,
    .get_checked = prop_get_guest_stats_checked,
    .json = true,
};

static const Property virtio_balloon_props[] = {
    DEFINE_PROP_BOOL("deflate-on-oom", VirtIOBalloon, deflate_on_oom, false),
    DEFINE_PROP_BOOL("free-page-reporting", VirtIOBalloon, free_page_reporting, false),
    DEFINE_PROP("guest-stats-polling-interval", VirtIOBalloon, stats_poll_interval,
                prop_info_poll_interval, .desc = "seconds between statistics requests"),
    DEFINE_PROP("guest-stats", VirtIOBalloon, stats, prop_info_guest_stats,
                .desc = "the guest's last memory statistics (read-only)"),
    DEFINE_PROP_END,
};

/* ---- life cycle ---- */

static void virtio_balloon_init(Object *obj)
{
    VirtIOBalloon *b = (VirtIOBalloon *)obj;

    balloon_stats_reset(b);
}

static bool virtio_balloon_realize(Object *obj, Error **errp)
{
    VirtIOBalloon *b = (VirtIOBalloon *)obj;
    VirtIODevice *vdev = &b->vdev;

    if (virtio_balloon_find()) {
        error_setg(errp, "Only one balloon device is supported");
        return false;
    }
    virtio_init(vdev, VIRTIO_ID_BALLOON, BALLOON_CONFIG_SIZE);
    /* Queue numbers follow the offered features, as the drivers count them. */
    virtio_add_queue(vdev, BALLOON_QUEUE_SIZE, balloon_handle_pfns);
    virtio_add_queue(vdev, BALLOON_QUEUE_SIZE, balloon_handle_pfns);
    virtio_add_queue(vdev, BALLOON_QUEUE_SIZE, balloon_handle_stats);
    if (b->free_page_reporting) {
        virtio_add_queue(vdev, BALLOON_QUEUE_SIZE, balloon_handle_report);
    }
    /* The queue array is final only now (virtio_add_queue grows it). */
    b->ivq = &vdev->vq[0];
    b->dvq = &vdev->vq[1];
    b->svq = &vdev->vq[2];
    b->rvq = b->free_page_reporting ? &vdev->vq[3] : NULL;
    b->stats_timer = timer_new(balloon_stats_poll, b);
    balloon_stats_arm(b);
    return true;
}

/* Device reset: the driver lost its balloon and its stats buffer; the target stays. */
static void virtio_balloon_reset(VirtIODevice *vdev)
{
    VirtIOBalloon *b = balloon_of(vdev);

    if (b->stats_elem) {
        virtqueue_detach_element(b->svq, b->stats_elem);
        g_free(b->stats_elem);
        b->stats_elem = NULL;
    }
    balloon_set_actual(b, 0);
}

static void virtio_balloon_unrealize(Object *obj)
{
    VirtIOBalloon *b = (VirtIOBalloon *)obj;

    if (b->stats_elem) {
        virtqueue_detach_element(b->svq, b->stats_elem);
        g_free(b->stats_elem);
        b->stats_elem = NULL;
    }
    timer_free(b->stats_timer);
    b->stats_timer = NULL;
    virtio_cleanup(&b->vdev);
    b->ivq = b->dvq = b->svq = b->rvq = NULL;
}

const VirtioDeviceClass virtio_balloon_device_class = {
    .oc = {
        .name = "virtio-balloon-device",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(VirtIOBalloon),
        .props = virtio_balloon_props,
        .desc = "virtio memory balloon",
        .user_creatable = true,
        .bus_type = "virtio-bus",
        .init = virtio_balloon_init,
        .realize = virtio_balloon_realize,
        .unrealize = virtio_balloon_unrealize,
    },
    .device_id = VIRTIO_ID_BALLOON,
    .get_features = balloon_get_features,
    .get_config = balloon_get_config,
    .set_config = balloon_set_config,
    .reset = virtio_balloon_reset,
};

static void __attribute__((constructor)) virtio_balloon_register(void)
{
    object_class_register(&virtio_balloon_device_class.oc);
}
