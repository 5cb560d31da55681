/*
 * Input routing: front ends report keys (Linux codes), buttons and pointer motion; each event
 * kind goes to the newest handler that takes it, or keys to the shown text console.
 */
#include <glib.h>
#include "ui/console.h"
#include "ui/input.h"

#define KEY_CODES 256

struct InputHandlerState {
    const InputHandler *h;
    void *opaque;
};

static GPtrArray *handlers;          /* of InputHandlerState *, oldest first */
static bool key_down[KEY_CODES];     /* as the front ends reported them */
static bool key_sent[KEY_CODES];     /* presses that went to a guest device */
static unsigned sync_mask;           /* kinds sent since the last input_sync */

InputHandlerState *input_handler_register(const InputHandler *h, void *opaque)
{
    InputHandlerState *s = g_new0(InputHandlerState, 1);

    s->h = h;
    s->opaque = opaque;
    if (!handlers) {
        handlers = g_ptr_array_new();
    }
    g_ptr_array_add(handlers, s);
    return s;
}

void input_handler_unregister(InputHandlerState *s)
{
    g_ptr_array_remove(handlers, s);
    g_free(s);
}

static InputHandlerState *input_find(unsigned mask)
{
    for (guint i = handlers ? handlers->len : 0; i-- > 0;) {
        InputHandlerState *s = g_ptr_array_index(handlers, i);

        if (s->h->mask & mask) {
            return s;
        }
    }
    return NULL;
}

static void input_deliver(const InputEvent *evt)
{
    InputHandlerState *s = input_find(1u << evt->kind);

    if (s) {
        s->h->event(s->opaque, evt);
        sync_mask |= 1u << evt->kind;
    }
}

void input_send_key(int code, bool down)
{
    Console *con = console_active();
    InputEvent evt = { .kind = INPUT_EVENT_KEY, .key = { code, down } };

    if (code <= 0 || code >= KEY_CODES) {
        return;
    }
    key_down[code] = down;
    if (con && !console_is_graphic(con) && !(!down && key_sent[code])) {
        if (down) {
            console_text_key(con, code, key_down[42] || key_down[54], key_down[29] || key_down[97]);
        }
        return;
    }
    key_sent[code] = down;
    input_deliver(&evt);
}

void input_send_button(InputButton button, bool down)
{
    InputEvent evt = { .kind = INPUT_EVENT_BTN, .btn = { button, down } };

    input_deliver(&evt);
}

void input_send_rel(InputAxis axis, int delta)
{
    InputEvent evt = { .kind = INPUT_EVENT_REL, .move = { axis, delta } };

    input_deliver(&evt);
}

void input_send_abs(InputAxis axis, int value, int size)
{
    InputEvent evt = { .kind = INPUT_EVENT_ABS };

    evt.move.axis = axis;
    if (size > 1) {
        value = CLAMP(value, 0, size - 1);
        evt.move.value = (int)((int64_t)value * INPUT_ABS_MAX / (size - 1));
    }
    input_deliver(&evt);
}

void input_sync(void)
{
    for (guint i = 0; handlers && i < handlers->len; i++) {
        InputHandlerState *s = g_ptr_array_index(handlers, i);

        if ((s->h->mask & sync_mask) && s->h->sync) {
            s->h->sync(s->opaque);
        }
    }
    sync_mask = 0;
}

bool input_wants_abs(void)
{
    return input_find(INPUT_MASK_ABS) != NULL;
}

void input_release_all_keys(void)
{
    for (int code = 1; code < KEY_CODES; code++) {
        if (key_down[code]) {
            input_send_key(code, false);
            input_sync();
        }
    }
}
