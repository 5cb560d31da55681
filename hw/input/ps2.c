/* PS/2 keyboard and mouse behind the i8042 (see hw/input/ps2.h). */
#include <string.h>
#include <glib.h>
#include "hw/input/ps2.h"
#include "util/log.h"

/* Linux key codes as ps2 needs them (linux/input-event-codes.h). */
enum { KEY_SYSRQ = 99, KEY_PAUSE = 119, KEY_MAX_PS2 = 144 };

/* Set 1 code of a Linux key code; 0xe0xx for the extended (E0-prefixed) ones. Codes 1..88
 * are the XT scan codes themselves except the few listed. */
static uint16_t ps2_set1_code(int code)
{
    static const struct { uint8_t linux_code; uint16_t set1; } ext[] = {
        { 96, 0xe01c },  /* KPENTER */       { 97, 0xe01d },  /* RIGHTCTRL */
        { 98, 0xe035 },  /* KPSLASH */       { 100, 0xe038 }, /* RIGHTALT */
        { 102, 0xe047 }, /* HOME */          { 103, 0xe048 }, /* UP */
        { 104, 0xe049 }, /* PAGEUP */        { 105, 0xe04b }, /* LEFT */
        { 106, 0xe04d }, /* RIGHT */         { 107, 0xe04f }, /* END */
        { 108, 0xe050 }, /* DOWN */          { 109, 0xe051 }, /* PAGEDOWN */
        { 110, 0xe052 }, /* INSERT */        { 111, 0xe053 }, /* DELETE */
        { 113, 0xe020 }, /* MUTE */          { 114, 0xe02e }, /* VOLUMEDOWN */
        { 115, 0xe030 }, /* VOLUMEUP */      { 116, 0xe05e }, /* POWER */
        { 117, 0x0059 }, /* KPEQUAL */       { 125, 0xe05b }, /* LEFTMETA */
        { 126, 0xe05c }, /* RIGHTMETA */     { 127, 0xe05d }, /* COMPOSE */
        { 89, 0x0073 },  /* RO */            { 92, 0x0079 },  /* HENKAN */
        { 93, 0x0070 },  /* KATAKANAHIRAGANA */ { 94, 0x007b }, /* MUHENKAN */
        { 124, 0x007d }, /* YEN */           { 142, 0xe05f }, /* SLEEP */
        { 143, 0xe063 }, /* WAKEUP */        { 86, 0x0056 },  /* 102ND */
        { 87, 0x0057 },  /* F11 */           { 88, 0x0058 },  /* F12 */
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(ext); i++) {
        if (ext[i].linux_code == code) {
            return ext[i].set1;
        }
    }
    return code >= 1 && code <= 83 ? code : 0;
}

/* Set 2 code of a set 1 code below 0x80: the one the controller's translation maps to it. */
static uint8_t ps2_set2_from_set1(uint8_t set1)
{
    if (set1 == 0x41) {
        return 0x83;                          /* F7 */
    }
    for (unsigned c = 0; c < 0x80; c++) {
        if (i8042_translate(c) == set1) {
            return c;
        }
    }
    return 0;
}

unsigned ps2_scancode(int code, bool down, unsigned set, uint8_t *out)
{
    unsigned n = 0;
    if (code == KEY_PAUSE) {
        /* make only: Ctrl+NumLock with an E1 prefix */
        static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
        static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
        if (!down) {
            return 0;
        }
        const uint8_t *p = set == 1 ? pause1 : pause2;
        n = set == 1 ? sizeof(pause1) : sizeof(pause2);
        memcpy(out, p, n);
        return n;
    }
    if (code == KEY_SYSRQ) {
        /* Print Screen: fake shift E0 2A then E0 37 (reversed on release) */
        uint8_t a = 0x2a, b = 0x37;
        if (set != 1) {
            a = ps2_set2_from_set1(a);
            b = ps2_set2_from_set1(b);
        }
        uint8_t first = down ? a : b, second = down ? b : a;
        out[n++] = 0xe0;
        if (set == 1) {
            out[n++] = first | (down ? 0 : 0x80);
        } else {
            if (!down) {
                out[n++] = 0xf0;
            }
            out[n++] = first;
        }
        out[n++] = 0xe0;
        if (set == 1) {
            out[n++] = second | (down ? 0 : 0x80);
        } else {
            if (!down) {
                out[n++] = 0xf0;
            }
            out[n++] = second;
        }
        return n;
    }
    uint16_t s1 = code > 0 && code < KEY_MAX_PS2 ? ps2_set1_code(code) : 0;
    if (!s1) {
        return 0;
    }
    if (s1 & 0xe000) {
        out[n++] = 0xe0;
    }
    uint8_t base = s1 & 0x7f;
    if (set == 1) {
        out[n++] = base | (down ? 0 : 0x80);
    } else {
        if (!down) {
            out[n++] = 0xf0;
        }
        out[n++] = ps2_set2_from_set1(base);
    }
    return n;
}

/* ---- output queue shared by both devices ---- */

static void ps2_queue_reset(PS2Queue *q)
{
    q->head = q->count = 0;
}

static bool ps2_queue_room(const PS2Queue *q, unsigned n)
{
    return PS2_QUEUE_SIZE - q->count >= n;
}

static void ps2_queue_put(PS2Queue *q, uint8_t byte)
{
    if (q->count < PS2_QUEUE_SIZE) {
        q->data[(q->head + q->count++) % PS2_QUEUE_SIZE] = byte;
    }
}

/* Hands queued bytes to the controller while it takes them. */
static void ps2_queue_flush(PS2Queue *q, I8042State *ctrl, unsigned port)
{
    while (q->count && i8042_can_push(ctrl, port)) {
        uint8_t b = q->data[q->head];
        q->head = (q->head + 1) % PS2_QUEUE_SIZE;
        q->count--;
        i8042_push(ctrl, port, b);
    }
}

/* ---- keyboard ---- */

#define KBD_DEFAULT_TYPEMATIC 0x2b           /* 10.9 characters/s after 500 ms */

static void kbd_send(PS2Kbd *k, uint8_t byte)
{
    k->last = byte;
    ps2_queue_put(&k->q, byte);
}

static void kbd_flush(void *opaque)
{
    PS2Kbd *k = opaque;
    ps2_queue_flush(&k->q, k->ctrl, I8042_PORT_KBD);
}

static void kbd_set_defaults(PS2Kbd *k)
{
    k->scancode_set = 2;
    k->typematic = KBD_DEFAULT_TYPEMATIC;
    k->leds = 0;
}

/* A byte from the guest: a command, or the argument of the pending one. */
static void kbd_write(void *opaque, uint8_t byte)
{
    PS2Kbd *k = opaque;
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd) {
        switch (cmd) {
        case 0xed:                            /* LEDs: scroll, num, caps in bits 0-2 */
            k->leds = byte & 7;
            kbd_send(k, PS2_ACK);
            break;
        case 0xf3:                            /* typematic rate and delay */
            k->typematic = byte & 0x7f;
            kbd_send(k, PS2_ACK);
            break;
        case 0xf0:                            /* scan code set: 0 asks, 1 and 2 select */
            if (byte == 0) {
                kbd_send(k, PS2_ACK);
                kbd_send(k, k->scancode_set);
            } else if (byte == 1 || byte == 2) {
                k->scancode_set = byte;
                kbd_send(k, PS2_ACK);
            } else {
                kbd_send(k, PS2_RESEND);
            }
            break;
        }
        kbd_flush(k);
        return;
    }
    switch (byte) {
    case 0xed:
    case 0xf3:
    case 0xf0:
        k->pending_cmd = byte;
        kbd_send(k, PS2_ACK);
        break;
    case 0xee:
        kbd_send(k, PS2_ECHO);
        break;
    case 0xf2:                                /* identify: MF2 keyboard */
        kbd_send(k, PS2_ACK);
        kbd_send(k, 0xab);
        kbd_send(k, 0x83);
        break;
    case 0xf4:                                /* enable scanning */
        ps2_queue_reset(&k->q);
        k->scanning = true;
        kbd_send(k, PS2_ACK);
        break;
    case 0xf5:                                /* defaults, scanning off */
        kbd_set_defaults(k);
        k->scanning = false;
        kbd_send(k, PS2_ACK);
        break;
    case 0xf6:                                /* defaults, scanning unchanged */
        kbd_set_defaults(k);
        kbd_send(k, PS2_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb:
        /* all keys typematic / make-break / make only: set 3 key types, nothing to do in
         * sets 1 and 2 */
        kbd_send(k, PS2_ACK);
        break;
    case 0xfe:
        ps2_queue_put(&k->q, k->last);
        break;
    case 0xff:                                /* reset: self test passed */
        ps2_queue_reset(&k->q);
        kbd_set_defaults(k);
        k->scanning = true;
        kbd_send(k, PS2_ACK);
        kbd_send(k, PS2_BAT_OK);
        break;
    default:
        kbd_send(k, PS2_RESEND);
        break;
    }
    kbd_flush(k);
}

static void kbd_event(void *opaque, const InputEvent *evt)
{
    PS2Kbd *k = opaque;
    uint8_t codes[8];
    if (evt->kind != INPUT_EVENT_KEY || !k->scanning) {
        return;
    }
    unsigned n = ps2_scancode(evt->key.code, evt->key.down, k->scancode_set, codes);
    if (!ps2_queue_room(&k->q, n)) {
        return;                               /* overrun: the key is lost, as on hardware */
    }
    for (unsigned i = 0; i < n; i++) {
        ps2_queue_put(&k->q, codes[i]);
    }
    kbd_flush(k);
}

static const InputHandler kbd_input = {
    .name = "ps2-kbd",
    .mask = INPUT_MASK_KEY,
    .event = kbd_event,
};

static void kbd_reset(Object *obj)
{
    PS2Kbd *k = (PS2Kbd *)obj;
    ps2_queue_reset(&k->q);
    kbd_set_defaults(k);
    k->pending_cmd = 0;
    k->last = 0;
    k->scanning = true;
}

static bool kbd_realize(Object *obj, Error **errp)
{
    PS2Kbd *k = (PS2Kbd *)obj;
    if (!k->ctrl) {
        error_setg(errp, "ps2-kbd: no keyboard controller");
        return false;
    }
    k->port = (I8042Device){ .write = kbd_write, .pull = kbd_flush, .opaque = k };
    i8042_attach(k->ctrl, I8042_PORT_KBD, &k->port);
    k->handler = input_handler_register(&kbd_input, k);
    kbd_reset(obj);
    return true;
}

static void kbd_unrealize(Object *obj)
{
    PS2Kbd *k = (PS2Kbd *)obj;
    input_handler_unregister(k->handler);
    k->handler = NULL;
    i8042_attach(k->ctrl, I8042_PORT_KBD, NULL);
}

const ObjectClass ps2_kbd_class = {
    .name = "ps2-kbd",
    .instance_size = sizeof(PS2Kbd),
    .desc = "PS/2 keyboard",
    .realize = kbd_realize,
    .unrealize = kbd_unrealize,
    .reset = kbd_reset,
};
OBJECT_CLASS_REGISTER(ps2_kbd_class)

/* ---- mouse ---- */

static void mouse_flush(void *opaque)
{
    PS2Mouse *m = opaque;
    ps2_queue_flush(&m->q, m->ctrl, I8042_PORT_AUX);
}

/* Sends a reply or packet of n bytes, remembered for 0xfe. */
static void mouse_send(PS2Mouse *m, const uint8_t *bytes, unsigned n)
{
    memcpy(m->last, bytes, n);
    m->last_len = n;
    for (unsigned i = 0; i < n; i++) {
        ps2_queue_put(&m->q, bytes[i]);
    }
}

static void mouse_send1(PS2Mouse *m, uint8_t byte)
{
    mouse_send(m, &byte, 1);
}

static void mouse_set_defaults(PS2Mouse *m)
{
    m->rate = 100;
    m->resolution = 2;                        /* 4 counts/mm */
    m->scale21 = false;
    m->remote = false;
    m->reporting = false;
}

/* 2:1 scaling of stream-mode movement (PS/2 mouse specification). */
static int mouse_scale(int d)
{
    static const int table[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int s = a < 6 ? table[a] : 2 * a;
    return d < 0 ? -s : s;
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Builds one movement packet from the accumulated motion (what does not fit stays). */
static unsigned mouse_packet(PS2Mouse *m, uint8_t *p, bool scale)
{
    int dx = clamp_int(m->dx, -256, 255), dy = clamp_int(m->dy, -256, 255);
    int dz = clamp_int(m->dz, -8, 7);
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    if (scale) {
        dx = clamp_int(mouse_scale(dx), -256, 255);
        dy = clamp_int(mouse_scale(dy), -256, 255);
    }
    p[0] = 0x08 | (m->buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    p[1] = dx;
    p[2] = dy;
    if (m->id == 3) {
        p[3] = (uint8_t)dz;
        return 4;
    }
    if (m->id == 4) {
        p[3] = dz & 0x0f;
        return 4;
    }
    m->dz = 0;
    return 3;
}

/* Stream mode: reports pending motion and button changes while there is room. */
static void mouse_report(PS2Mouse *m, bool buttons_changed)
{
    if (!m->reporting || m->remote || m->wrap) {
        m->dx = m->dy = m->dz = 0;
        return;
    }
    if (!m->id) {
        m->dz = 0;                            /* no wheel: its motion is dropped */
    }
    while ((buttons_changed || m->dx || m->dy || m->dz) && ps2_queue_room(&m->q, 4)) {
        uint8_t p[4];
        unsigned n = mouse_packet(m, p, m->scale21);
        mouse_send(m, p, n);
        buttons_changed = false;
    }
    mouse_flush(m);
}

static void mouse_status(PS2Mouse *m)
{
    /* byte 0: remote, enabled, scaling 2:1, then left, middle, right in bits 2, 1, 0 */
    uint8_t b = (m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) | (m->scale21 ? 0x10 : 0) |
                (m->buttons & 1 ? 0x04 : 0) | (m->buttons & 4 ? 0x02 : 0) |
                (m->buttons & 2 ? 0x01 : 0);
    uint8_t r[4] = { PS2_ACK, b, m->resolution, m->rate };
    mouse_send(m, r, 4);
}

/* Sample rate sequences 200,100,80 (IntelliMouse) and 200,200,80 (Explorer) change the ID. */
static void mouse_set_rate(PS2Mouse *m, uint8_t rate)
{
    m->rate = rate;
    m->rate_hist[0] = m->rate_hist[1];
    m->rate_hist[1] = m->rate_hist[2];
    m->rate_hist[2] = rate;
    if (m->rate_hist[0] == 200 && m->rate_hist[1] == 100 && m->rate_hist[2] == 80 &&
        m->id == 0) {
        m->id = 3;
    } else if (m->rate_hist[0] == 200 && m->rate_hist[1] == 200 && m->rate_hist[2] == 80 &&
               m->id == 3) {
        m->id = 4;
    }
}

static void mouse_write(void *opaque, uint8_t byte)
{
    PS2Mouse *m = opaque;
    uint8_t cmd = m->pending_cmd;
    m->pending_cmd = 0;
    if (cmd == 0xf3) {
        mouse_set_rate(m, byte);
        mouse_send1(m, PS2_ACK);
        mouse_flush(m);
        return;
    }
    if (cmd == 0xe8) {
        if (byte > 3) {
            mouse_send1(m, PS2_RESEND);
        } else {
            m->resolution = byte;
            mouse_send1(m, PS2_ACK);
        }
        mouse_flush(m);
        return;
    }
    if (m->wrap && byte != 0xec && byte != 0xff) {
        mouse_send1(m, byte);                 /* wrap mode echoes */
        mouse_flush(m);
        return;
    }
    switch (byte) {
    case 0xe6:
        m->scale21 = false;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xe7:
        m->scale21 = true;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xe8:
    case 0xf3:
        m->pending_cmd = byte;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xe9:
        mouse_status(m);
        break;
    case 0xea:
        m->remote = false;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xeb: {                              /* read data: one packet whatever the mode */
        uint8_t p[5];
        p[0] = PS2_ACK;
        unsigned n = mouse_packet(m, p + 1, false);
        memcpy(m->last, p + 1, n);
        m->last_len = n;
        for (unsigned i = 0; i <= n; i++) {
            ps2_queue_put(&m->q, p[i]);
        }
        break;
    }
    case 0xec:
        m->wrap = false;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xee:
        m->wrap = true;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xf0:
        m->remote = true;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xf2: {
        uint8_t r[2] = { PS2_ACK, m->id };
        mouse_send(m, r, 2);
        break;
    }
    case 0xf4:
        m->reporting = true;
        m->dx = m->dy = m->dz = 0;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xf5:
        m->reporting = false;
        mouse_send1(m, PS2_ACK);
        break;
    case 0xf6:
        mouse_set_defaults(m);
        mouse_send1(m, PS2_ACK);
        break;
    case 0xfe:
        for (unsigned i = 0; i < m->last_len; i++) {
            ps2_queue_put(&m->q, m->last[i]);
        }
        break;
    case 0xff: {                              /* reset: self test passed, ID 0 */
        ps2_queue_reset(&m->q);
        mouse_set_defaults(m);
        m->wrap = false;
        m->id = 0;
        memset(m->rate_hist, 0, sizeof(m->rate_hist));
        m->dx = m->dy = m->dz = 0;
        uint8_t r[3] = { PS2_ACK, PS2_BAT_OK, 0x00 };
        mouse_send(m, r, 3);
        break;
    }
    default:
        mouse_send1(m, PS2_RESEND);
        break;
    }
    mouse_flush(m);
}

static void mouse_event(void *opaque, const InputEvent *evt)
{
    PS2Mouse *m = opaque;
    static const uint8_t bit[INPUT_BUTTON__MAX] = {
        [INPUT_BUTTON_LEFT] = 1, [INPUT_BUTTON_RIGHT] = 2, [INPUT_BUTTON_MIDDLE] = 4,
    };
    switch (evt->kind) {
    case INPUT_EVENT_REL:
        if (evt->move.axis == INPUT_AXIS_X) {
            m->dx += evt->move.value;
        } else {
            m->dy -= evt->move.value;         /* PS/2 counts up as positive */
        }
        break;
    case INPUT_EVENT_BTN:
        if (evt->btn.button == INPUT_BUTTON_WHEEL_UP && evt->btn.down) {
            m->dz--;
        } else if (evt->btn.button == INPUT_BUTTON_WHEEL_DOWN && evt->btn.down) {
            m->dz++;
        } else if (evt->btn.button < INPUT_BUTTON__MAX && bit[evt->btn.button]) {
            uint8_t old = m->buttons;
            m->buttons = evt->btn.down ? m->buttons | bit[evt->btn.button]
                                       : m->buttons & ~bit[evt->btn.button];
            m->buttons_changed |= old != m->buttons;
        }
        break;
    default:
        break;
    }
}

static void mouse_sync(void *opaque)
{
    PS2Mouse *m = opaque;
    bool changed = m->buttons_changed;
    m->buttons_changed = false;
    mouse_report(m, changed);
}

static const InputHandler mouse_input = {
    .name = "ps2-mouse",
    .mask = INPUT_MASK_REL | INPUT_MASK_BTN,
    .event = mouse_event,
    .sync = mouse_sync,
};

static void mouse_reset(Object *obj)
{
    PS2Mouse *m = (PS2Mouse *)obj;
    ps2_queue_reset(&m->q);
    mouse_set_defaults(m);
    m->wrap = false;
    m->id = 0;
    memset(m->rate_hist, 0, sizeof(m->rate_hist));
    m->pending_cmd = 0;
    m->last_len = 0;
    m->buttons = 0;
    m->buttons_changed = false;
    m->dx = m->dy = m->dz = 0;
}

static bool mouse_realize(Object *obj, Error **errp)
{
    PS2Mouse *m = (PS2Mouse *)obj;
    if (!m->ctrl) {
        error_setg(errp, "ps2-mouse: no keyboard controller");
        return false;
    }
    m->port = (I8042Device){ .write = mouse_write, .pull = mouse_flush, .opaque = m };
    i8042_attach(m->ctrl, I8042_PORT_AUX, &m->port);
    m->handler = input_handler_register(&mouse_input, m);
    mouse_reset(obj);
    return true;
}

static void mouse_unrealize(Object *obj)
{
    PS2Mouse *m = (PS2Mouse *)obj;
    input_handler_unregister(m->handler);
    m->handler = NULL;
    i8042_attach(m->ctrl, I8042_PORT_AUX, NULL);
}

const ObjectClass ps2_mouse_class = {
    .name = "ps2-mouse",
    .instance_size = sizeof(PS2Mouse),
    .desc = "PS/2 mouse",
    .realize = mouse_realize,
    .unrealize = mouse_unrealize,
    .reset = mouse_reset,
};
OBJECT_CLASS_REGISTER(ps2_mouse_class)
