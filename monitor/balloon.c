/* Monitor commands of the memory balloon (balloon, query-balloon, HMP balloon and
 * info balloon) and the rate-limited BALLOON_CHANGE event. */
#include <inttypes.h>
#include <glib.h>
#include "hw/virtio/virtio-balloon.h"
#include "monitor/monitor-internal.h"
#include "util/option.h"
#include "util/timer.h"

/* BALLOON_CHANGE is sent at most once per this period (QEMU's rate for this event). */
#define BALLOON_EVENT_PERIOD_NS  1000000000LL

/* The event throttle: the latest value not yet sent, and the end of the current period.
 * Events leave from the timer, so on the main loop thread whoever reported the change. */
static struct {
    Timer *timer;
    bool pending;
    uint64_t pending_actual;
    int64_t period_end;          /* clock_ns(); 0 when no period is open */
} balloon_event;

/* Sends the held-back value and opens a period, or closes the period when there is none. */
static void balloon_event_timer(void *opaque)
{
    JsonObject *data;

    if (!balloon_event.pending) {
        balloon_event.period_end = 0;
        return;
    }
    data = json_object_new();
    json_object_set_int_member(data, "actual", (int64_t)balloon_event.pending_actual);
    balloon_event.pending = false;
    monitor_emit_event("BALLOON_CHANGE", data);
    balloon_event.period_end = clock_ns() + BALLOON_EVENT_PERIOD_NS;
    timer_mod(balloon_event.timer, balloon_event.period_end);
}

void monitor_balloon_changed(uint64_t actual)
{
    int64_t now = clock_ns();

    if (!balloon_event.timer) {
        balloon_event.timer = timer_new(balloon_event_timer, NULL);
    }
    balloon_event.pending = true;
    balloon_event.pending_actual = actual;
    if (!timer_pending(balloon_event.timer)) {
        timer_mod(balloon_event.timer, MAX(now, balloon_event.period_end));
    }
}

/* The balloon, or NULL with QEMU's DeviceNotActive error. */
static VirtIOBalloon *balloon_get(Error **errp)
{
    VirtIOBalloon *b = virtio_balloon_find();

    if (!b) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_ACTIVE, "No balloon device has been activated");
    }
    return b;
}

static JsonNode *balloon_set(int64_t target, Error **errp)
{
    VirtIOBalloon *b;
    JsonNode *n;

    b = balloon_get(errp);
    if (!b) {
        return NULL;
    }
    if (target <= 0) {
        error_setg(errp, "Parameter 'target' expects a size");
        return NULL;
    }
    virtio_balloon_set_target(b, (uint64_t)target);
    n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, json_object_new());
    return n;
}

JsonNode *qmp_balloon(Monitor *mon, JsonObject *args, Error **errp)
{
    return balloon_set(monitor_arg_int(args, "value", 0), errp);
}

/* HMP: a bare number is MiB; a suffix (k, M, G, T) gives another unit. */
JsonNode *hmp_balloon(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *text = monitor_arg_str(args, "value", "");
    uint64_t target;

    if (!parse_size(text, 'M', &target, NULL) || target > INT64_MAX) {
        error_setg(errp, "invalid size '%s'", text);
        return NULL;
    }
    return balloon_set((int64_t)target, errp);
}

JsonNode *qmp_query_balloon(Monitor *mon, JsonObject *args, Error **errp)
{
    VirtIOBalloon *b = balloon_get(errp);
    JsonObject *o;
    JsonNode *n;

    if (!b) {
        return NULL;
    }
    o = json_object_new();
    json_object_set_int_member(o, "actual", (int64_t)virtio_balloon_get_actual(b));
    n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

void hmp_print_balloon(Monitor *mon, JsonNode *result)
{
    JsonObject *o = json_node_get_object(result);

    monitor_printf(mon, "balloon: actual=%" PRId64 "\n",
                   json_object_get_int_member(o, "actual") >> 20);
}
