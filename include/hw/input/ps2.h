#ifndef HW_INPUT_PS2_H
#define HW_INPUT_PS2_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/input/i8042.h"
#include "ui/input.h"

/*
 * PS/2 keyboard ("ps2-kbd") and mouse ("ps2-mouse") behind an i8042 port. The board sets
 * `ctrl` before realize; realize attaches the device to its port and registers it with the
 * input layer. Each device keeps its own output queue and hands bytes to the controller as
 * it has room. The keyboard sends scan code set 2 (or set 1 when the guest selects it); the
 * i8042 translates to set 1 when its command byte asks for it.
 */

#define PS2_QUEUE_SIZE 256

/* Device replies. */
enum {
    PS2_ACK = 0xfa, PS2_RESEND = 0xfe, PS2_BAT_OK = 0xaa, PS2_ECHO = 0xee,
};

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    unsigned head, count;
} PS2Queue;

typedef struct PS2Kbd {
    Object obj;
    I8042State *ctrl;                 /* set by the board */
    I8042Device port;
    InputHandlerState *handler;
    PS2Queue q;
    uint8_t pending_cmd;              /* command waiting for its argument, or 0 */
    uint8_t last;                     /* last byte sent (0xfe resend) */
    bool scanning;
    uint8_t scancode_set;             /* 1 or 2 */
    uint8_t leds;
    uint8_t typematic;
} PS2Kbd;

typedef struct PS2Mouse {
    Object obj;
    I8042State *ctrl;                 /* set by the board */
    I8042Device port;
    InputHandlerState *handler;
    PS2Queue q;
    uint8_t pending_cmd;
    uint8_t last[4];                  /* last reply or packet (0xfe resend) */
    unsigned last_len;
    bool reporting, remote, wrap, scale21;
    uint8_t rate, resolution;
    uint8_t id;                       /* 0 standard, 3 IntelliMouse, 4 IntelliMouse Explorer */
    uint8_t rate_hist[3];             /* the last sample rates set (wheel detection) */
    uint8_t buttons;                  /* bit 0 left, 1 right, 2 middle (packet order) */
    bool buttons_changed;             /* since the last report */
    int dx, dy, dz;                   /* movement not yet reported; dy positive is up */
} PS2Mouse;

extern const ObjectClass ps2_kbd_class;
extern const ObjectClass ps2_mouse_class;

/* The scan code bytes of a Linux key code in set 1 or 2 (make or break) written to out
 * (at least 8 bytes); returns how many (0: the key has no scan code). */
unsigned ps2_scancode(int code, bool down, unsigned set, uint8_t *out);

#endif
