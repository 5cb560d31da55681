#ifndef HW_VIRTIO_VIRTIO_BALLOON_H
#define HW_VIRTIO_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/virtio/virtio.h"
#include "util/timer.h"

/*
 * virtio-balloon-device: the traditional memory balloon (virtio 1.2, 5.5). The host sets a
 * target (num_pages); the guest inflates (gives 4 KiB pages back, which the host discards
 * with MADV_DONTNEED) or deflates toward it and reports its progress in `actual`. A stats
 * queue carries the guest's memory statistics; a reporting queue hands over free pages.
 * Transport-independent: virtio-mmio today, a PCI proxy later.
 */

#define VIRTIO_ID_BALLOON                    5

/* Feature bits (5.5.3). */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST      0
#define VIRTIO_BALLOON_F_STATS_VQ            1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM      2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT      3
#define VIRTIO_BALLOON_F_PAGE_POISON         4
#define VIRTIO_BALLOON_F_REPORTING           5

/* Balloon pages are always 4 KiB, whatever the guest or host page size. */
#define VIRTIO_BALLOON_PFN_SHIFT             12

/* Statistics tags (5.5.6.3). */
enum {
    VIRTIO_BALLOON_S_SWAP_IN = 0,
    VIRTIO_BALLOON_S_SWAP_OUT = 1,
    VIRTIO_BALLOON_S_MAJFLT = 2,
    VIRTIO_BALLOON_S_MINFLT = 3,
    VIRTIO_BALLOON_S_MEMFREE = 4,
    VIRTIO_BALLOON_S_MEMTOT = 5,
    VIRTIO_BALLOON_S_AVAIL = 6,
    VIRTIO_BALLOON_S_CACHES = 7,
    VIRTIO_BALLOON_S_HTLB_PGALLOC = 8,
    VIRTIO_BALLOON_S_HTLB_PGFAIL = 9,
    VIRTIO_BALLOON_S_NR = 10,
};

/* Size of one packed statistic: le16 tag, le64 value. */
#define VIRTIO_BALLOON_STAT_SIZE             10

typedef struct VirtIOBalloon {
    VirtIODevice vdev;
    /* Properties. */
    bool deflate_on_oom;             /* "deflate-on-oom" */
    bool free_page_reporting;        /* "free-page-reporting" */
    int64_t stats_poll_interval;     /* "guest-stats-polling-interval", seconds, 0 = off */
    /* Config space (5.5.4), in 4 KiB pages. */
    uint32_t num_pages;              /* target balloon size set by the host */
    uint32_t actual;                 /* balloon size the driver reports */
    VirtQueue *ivq, *dvq, *svq, *rvq;
    /* Statistics: the buffer the driver gave us (returned to ask for fresh ones). */
    VirtQueueElement *stats_elem;
    uint64_t stats[VIRTIO_BALLOON_S_NR];   /* UINT64_MAX: not reported */
    int64_t stats_last_update;             /* wall-clock seconds; 0 = never */
    Timer *stats_timer;
    /* Counters for tests and logs. */
    uint64_t pages_inflated, pages_deflated, pages_bad, bytes_reported;
} VirtIOBalloon;

extern const VirtioDeviceClass virtio_balloon_device_class;

/* The QOM names of the statistics, indexed by tag ("stat-swap-in", ...). */
extern const char *const virtio_balloon_stat_names[VIRTIO_BALLOON_S_NR];

/* The realized balloon device of the machine, or NULL when there is none. */
VirtIOBalloon *virtio_balloon_find(void);
/* Asks the guest to shrink or grow toward target bytes of RAM (clamped to the RAM size). */
void virtio_balloon_set_target(VirtIOBalloon *b, uint64_t target);
/* Guest RAM left to the guest, in bytes: the RAM size minus the balloon (query-balloon). */
uint64_t virtio_balloon_get_actual(const VirtIOBalloon *b);

/* Implemented by monitor/balloon.c: queues BALLOON_CHANGE {"actual": bytes}, sent from the
 * main loop at most once a second (changes within a second merge into one event at its end). */
void monitor_balloon_changed(uint64_t actual);

#endif
