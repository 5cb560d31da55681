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

/* The event throttle: an open period, and the latest value held back during it. */
static struct {
    Timer *timer;
    bool pending;
    uint64_t pending_actual;
} balloon_event;

static void balloon_event_emit(uint64_t actual)
{
    JsonObject *data = json_object_new();

    json_object_set_int_member(data, "actual", (int64_t)actual);
    monitor_emit_event("BALLOON_CHANGE", data);
    timer_mod(balloon_event.timer, clock_ns() + BALLOON_EVENT_PERIOD_NS);
}

/* End of a period: sends what was held back (opening a new period), or closes it. */
static void balloon_event_period_end(void *opaque)
{
    if (balloon_event.pending) {
        balloon_event.pending = false;
        balloon_event_emit(balloon_event.pending_actual);
    }
}

void monitor_balloon_changed(uint64_t actual)
{
    if (!balloon_event.timer) {
        balloon_event.timer = timer_new(balloon_event_period_end, NULL);
    }
    if (timer_pending(balloon_event.timer)) {
        balloon_event.pending = true;
        balloon_event.pending_actual = actual;
        return;
    }
    balloon_event_emit(actual);
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

    if (target <= 0) {
        error_setg(errp, "Parameter 'target' expects a size");
        return NULL;
    }
    b = balloon_get(errp);
    if (!b) {
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
