/*
 * virtio-input (virtio 1.2, section 5.8): virtio-keyboard-device, virtio-mouse-device and
 * virtio-tablet-device. The config space answers the select/subsel queries with names, ids,
 * event-type bitmaps and axis ranges; events from the input layer travel as evdev triples
 * (type, code, value) in the driver's event queue buffers, one group per EV_SYN.
 */
#include <string.h>
#include <glib.h>
#include "hw/core/object.h"
#include "hw/virtio/virtio.h"
#include "ui/input.h"
#include "util/log.h"

#define VIRTIO_ID_INPUT 18
#define VINPUT_CONFIG_SIZE 136
#define VINPUT_QUEUE_SIZE 64
/* Events kept while the driver has no free buffers; older groups are dropped beyond it. */
#define VINPUT_MAX_PENDING 256

enum {
    CFG_UNSET = 0x00,
    CFG_ID_NAME = 0x01,
    CFG_ID_SERIAL = 0x02,
    CFG_ID_DEVIDS = 0x03,
    CFG_PROP_BITS = 0x10,
    CFG_EV_BITS = 0x11,
    CFG_ABS_INFO = 0x12,
};

/* evdev event types and codes (linux/input-event-codes.h). */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define SYN_REPORT 0
#define REL_X 0
#define REL_Y 1
#define REL_WHEEL 8
#define ABS_X 0
#define ABS_Y 1
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BUS_VIRTUAL 0x06
/* Highest keyboard key code offered (KEY_MICMUTE is 248). */
#define VINPUT_KEY_MAX 248

typedef struct VirtioInputEvent {
    uint16_t type;
    uint16_t code;
    uint32_t value;
} VirtioInputEvent;

typedef enum VirtioInputKind { VINPUT_KEYBOARD, VINPUT_MOUSE, VINPUT_TABLET } VirtioInputKind;

typedef struct VirtIOInput {
    VirtIODevice vdev;
    VirtioInputKind kind;
    uint8_t select, subsel;
    InputHandlerState *handler;
    GArray *pending;              /* of VirtioInputEvent, little-endian, complete groups last */
    unsigned group_start;         /* index in pending where the open group starts */
} VirtIOInput;

static void bitmap_set(uint8_t *map, unsigned bit)
{
    map[bit / 8] |= 1u << (bit % 8);
}

static const char *vinput_name(const VirtIOInput *in)
{
    switch (in->kind) {
    case VINPUT_KEYBOARD: return "QEMU Virtio Keyboard";
    case VINPUT_MOUSE: return "QEMU Virtio Mouse";
    default: return "QEMU Virtio Tablet";
    }
}

/* Fills the union part of the config for select/subsel; returns its size (0: no data). */
static uint8_t vinput_config_data(const VirtIOInput *in, uint8_t *u)
{
    unsigned max_bit = 0;

    switch (in->select) {
    case CFG_ID_NAME:
        strcpy((char *)u, vinput_name(in));
        return strlen((char *)u);
    case CFG_ID_DEVIDS: {
        uint16_t ids[4] = { htole16(BUS_VIRTUAL), htole16(0x0627),
                            htole16(in->kind == VINPUT_KEYBOARD ? 1 : in->kind == VINPUT_MOUSE ? 2 : 3),
                            htole16(1) };
        memcpy(u, ids, sizeof(ids));
        return sizeof(ids);
    }
    case CFG_EV_BITS:
        if (in->kind == VINPUT_KEYBOARD) {
            if (in->subsel == EV_KEY) {
                for (unsigned k = 1; k <= VINPUT_KEY_MAX; k++) {
                    bitmap_set(u, k);
                }
                max_bit = VINPUT_KEY_MAX;
            } else if (in->subsel == EV_REP) {
                return 1;            /* present, no codes: the guest repeats keys itself */
            }
        } else if (in->subsel == EV_KEY) {
            bitmap_set(u, BTN_LEFT);
            bitmap_set(u, BTN_RIGHT);
            bitmap_set(u, BTN_MIDDLE);
            max_bit = BTN_MIDDLE;
        } else if (in->subsel == EV_REL) {
            if (in->kind == VINPUT_MOUSE) {
                bitmap_set(u, REL_X);
                bitmap_set(u, REL_Y);
            }
            bitmap_set(u, REL_WHEEL);
            max_bit = REL_WHEEL;
        } else if (in->subsel == EV_ABS && in->kind == VINPUT_TABLET) {
            bitmap_set(u, ABS_X);
            bitmap_set(u, ABS_Y);
            max_bit = ABS_Y;
        } else {
            return 0;
        }
        return max_bit ? max_bit / 8 + 1 : 0;
    case CFG_ABS_INFO:
        if (in->kind == VINPUT_TABLET && (in->subsel == ABS_X || in->subsel == ABS_Y)) {
            uint32_t info[5] = { 0, htole32(INPUT_ABS_MAX), 0, 0, 0 };
            memcpy(u, info, sizeof(info));
            return sizeof(info);
        }
        return 0;
    default:
        return 0;        /* no serial, no properties */
    }
}

static void vinput_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOInput *in = (VirtIOInput *)vdev;

    memset(config, 0, VINPUT_CONFIG_SIZE);
    config[0] = in->select;
    config[1] = in->subsel;
    config[2] = vinput_config_data(in, config + 8);
}

static void vinput_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOInput *in = (VirtIOInput *)vdev;

    in->select = config[0];
    in->subsel = config[1];
}

/* Moves complete groups into driver buffers, a whole group at a time. */
static void vinput_flush(VirtIOInput *in)
{
    VirtQueue *vq = &in->vdev.vq[0];
    unsigned done = 0;
    bool pushed = false;

    if (!(in->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) || !vq->ready) {
        return;
    }
    while (done < in->group_start) {
        VirtQueueElement *elem = virtqueue_pop(vq, sizeof(VirtQueueElement));
        VirtioInputEvent *ev = &g_array_index(in->pending, VirtioInputEvent, done);

        if (!elem) {
            break;
        }
        size_t n = iov_from_buf(elem->in_sg, elem->in_num, 0, ev, sizeof(*ev));
        virtqueue_push(vq, elem, n);
        g_free(elem);
        pushed = true;
        done++;
    }
    if (done) {
        g_array_remove_range(in->pending, 0, done);
        in->group_start -= done;
    }
    if (pushed) {
        virtio_notify(&in->vdev, vq);
    }
}

static void vinput_queue(VirtIOInput *in, uint16_t type, uint16_t code, int32_t value)
{
    VirtioInputEvent ev = { htole16(type), htole16(code), htole32((uint32_t)value) };

    if (in->pending->len >= VINPUT_MAX_PENDING) {
        /* The driver is not taking events: drop the oldest complete groups. */
        unsigned drop = in->group_start ? in->group_start : in->pending->len;
        g_array_remove_range(in->pending, 0, drop);
        in->group_start -= MIN(in->group_start, drop);
    }
    g_array_append_val(in->pending, ev);
}

static void vinput_event(void *opaque, const InputEvent *evt)
{
    VirtIOInput *in = opaque;
    static const uint16_t buttons[] = { BTN_LEFT, BTN_MIDDLE, BTN_RIGHT };

    switch (evt->kind) {
    case INPUT_EVENT_KEY:
        if (evt->key.code > 0 && evt->key.code <= VINPUT_KEY_MAX) {
            vinput_queue(in, EV_KEY, evt->key.code, evt->key.down);
        }
        break;
    case INPUT_EVENT_BTN:
        if (evt->btn.button <= INPUT_BUTTON_RIGHT) {
            vinput_queue(in, EV_KEY, buttons[evt->btn.button], evt->btn.down);
        } else if (evt->btn.down) {
            vinput_queue(in, EV_REL, REL_WHEEL,
                         evt->btn.button == INPUT_BUTTON_WHEEL_UP ? 1 : -1);
        }
        break;
    case INPUT_EVENT_REL:
        vinput_queue(in, EV_REL, evt->move.axis == INPUT_AXIS_X ? REL_X : REL_Y,
                     evt->move.value);
        break;
    case INPUT_EVENT_ABS:
        vinput_queue(in, EV_ABS, evt->move.axis == INPUT_AXIS_X ? ABS_X : ABS_Y,
                     evt->move.value);
        break;
    }
}

static void vinput_sync(void *opaque)
{
    VirtIOInput *in = opaque;

    if (in->pending->len == in->group_start) {
        return;
    }
    vinput_queue(in, EV_SYN, SYN_REPORT, 0);
    in->group_start = in->pending->len;
    vinput_flush(in);
}

static void vinput_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
    vinput_flush((VirtIOInput *)vdev);
}

/* The driver's status events (keyboard LEDs) are taken and have no host-side effect. */
static void vinput_handle_status(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *elem;

    while ((elem = virtqueue_pop(vq, sizeof(VirtQueueElement)))) {
        virtqueue_push(vq, elem, 0);
        g_free(elem);
    }
    virtio_notify(vdev, vq);
}

static void vinput_reset(VirtIODevice *vdev)
{
    VirtIOInput *in = (VirtIOInput *)vdev;

    in->select = in->subsel = 0;
    if (in->pending) {
        g_array_set_size(in->pending, 0);
    }
    in->group_start = 0;
}

static const InputHandler vinput_handlers[] = {
    [VINPUT_KEYBOARD] = { "virtio-keyboard", INPUT_MASK_KEY, vinput_event, vinput_sync },
    [VINPUT_MOUSE] = { "virtio-mouse", INPUT_MASK_BTN | INPUT_MASK_REL, vinput_event,
                       vinput_sync },
    [VINPUT_TABLET] = { "virtio-tablet", INPUT_MASK_BTN | INPUT_MASK_ABS, vinput_event,
                        vinput_sync },
};

static bool vinput_realize(Object *obj, VirtioInputKind kind)
{
    VirtIOInput *in = (VirtIOInput *)obj;

    in->kind = kind;
    virtio_init(&in->vdev, VIRTIO_ID_INPUT, VINPUT_CONFIG_SIZE);
    virtio_add_queue(&in->vdev, VINPUT_QUEUE_SIZE, vinput_handle_event);
    virtio_add_queue(&in->vdev, VINPUT_QUEUE_SIZE, vinput_handle_status);
    in->pending = g_array_new(FALSE, FALSE, sizeof(VirtioInputEvent));
    in->handler = input_handler_register(&vinput_handlers[kind], in);
    return true;
}

static bool vinput_keyboard_realize(Object *obj, Error **errp)
{
    return vinput_realize(obj, VINPUT_KEYBOARD);
}

static bool vinput_mouse_realize(Object *obj, Error **errp)
{
    return vinput_realize(obj, VINPUT_MOUSE);
}

static bool vinput_tablet_realize(Object *obj, Error **errp)
{
    return vinput_realize(obj, VINPUT_TABLET);
}

static void vinput_unrealize(Object *obj)
{
    VirtIOInput *in = (VirtIOInput *)obj;

    input_handler_unregister(in->handler);
    in->handler = NULL;
    g_array_free(in->pending, TRUE);
    in->pending = NULL;
    virtio_cleanup(&in->vdev);
}

#define VIRTIO_INPUT_CLASS(_var, _name, _desc, _realize) \
    static const VirtioDeviceClass _var = { \
        .oc = { \
            .name = _name, \
            .parent = &virtio_device_class.oc, \
            .instance_size = sizeof(VirtIOInput), \
            .desc = _desc, \
            .user_creatable = true, \
            .bus_type = "virtio-bus", \
            .realize = _realize, \
            .unrealize = vinput_unrealize, \
        }, \
        .device_id = VIRTIO_ID_INPUT, \
        .get_config = vinput_get_config, \
        .set_config = vinput_set_config, \
        .reset = vinput_reset, \
    }

VIRTIO_INPUT_CLASS(virtio_keyboard_class, "virtio-keyboard-device", "Virtio keyboard",
                   vinput_keyboard_realize);
VIRTIO_INPUT_CLASS(virtio_mouse_class, "virtio-mouse-device", "Virtio mouse (relative)",
                   vinput_mouse_realize);
VIRTIO_INPUT_CLASS(virtio_tablet_class, "virtio-tablet-device", "Virtio tablet (absolute)",
                   vinput_tablet_realize);

static void __attribute__((constructor)) virtio_input_register(void)
{
    object_class_register(&virtio_keyboard_class.oc);
    object_class_register(&virtio_mouse_class.oc);
    object_class_register(&virtio_tablet_class.oc);
}
