#ifndef UI_INPUT_H
#define UI_INPUT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Input routing from the front ends (SDL, VNC) to the guest's input devices. Keys are Linux
 * input codes (KEY_A = 30, ...; linux/input-event-codes.h), which virtio-input passes through
 * as is and PS/2 devices translate to scan codes. Absolute pointer coordinates are scaled to
 * 0..INPUT_ABS_MAX whatever the window size. Each event class goes to the most recently
 * registered handler that takes it. Keys typed while a text console is shown go to that
 * console instead. All functions need the big lock.
 */

#define INPUT_ABS_MAX 0x7fff

typedef enum InputButton {
    INPUT_BUTTON_LEFT,
    INPUT_BUTTON_MIDDLE,
    INPUT_BUTTON_RIGHT,
    INPUT_BUTTON_WHEEL_UP,
    INPUT_BUTTON_WHEEL_DOWN,
    INPUT_BUTTON__MAX,
} InputButton;

typedef enum InputAxis {
    INPUT_AXIS_X,
    INPUT_AXIS_Y,
} InputAxis;

typedef enum InputEventKind {
    INPUT_EVENT_KEY,
    INPUT_EVENT_BTN,
    INPUT_EVENT_REL,
    INPUT_EVENT_ABS,
} InputEventKind;

#define INPUT_MASK_KEY (1u << INPUT_EVENT_KEY)
#define INPUT_MASK_BTN (1u << INPUT_EVENT_BTN)
#define INPUT_MASK_REL (1u << INPUT_EVENT_REL)
#define INPUT_MASK_ABS (1u << INPUT_EVENT_ABS)

typedef struct InputEvent {
    InputEventKind kind;
    union {
        struct { int code; bool down; } key;          /* Linux input code */
        struct { InputButton button; bool down; } btn;
        struct { InputAxis axis; int value; } move;   /* REL: delta; ABS: 0..INPUT_ABS_MAX */
    };
} InputEvent;

typedef struct InputHandler {
    const char *name;
    unsigned mask;                                      /* INPUT_MASK_* it takes */
    void (*event)(void *opaque, const InputEvent *evt);
    /* End of a group of events (one pointer motion, one key); may be NULL. */
    void (*sync)(void *opaque);
} InputHandler;

typedef struct InputHandlerState InputHandlerState;
/* Registers a device's handler; it takes precedence over earlier ones for its event kinds. */
InputHandlerState *input_handler_register(const InputHandler *h, void *opaque);
void input_handler_unregister(InputHandlerState *s);

void input_send_key(int code, bool down);
void input_send_button(InputButton button, bool down);
void input_send_rel(InputAxis axis, int delta);
/* value in 0..size-1 (window coordinates) is scaled to 0..INPUT_ABS_MAX. */
void input_send_abs(InputAxis axis, int value, int size);
/* Ends the current group of events (after a motion with its buttons, after a key). */
void input_sync(void);
/* True when some handler takes absolute pointer events (front ends then do not grab). */
bool input_wants_abs(void);
/* Releases every key the front end reported down (focus loss). */
void input_release_all_keys(void);

/* Translation tables for the front ends: 0 when the key has no Linux code. */
int keymap_sdl_scancode_to_linux(int scancode);
int keymap_x11_keysym_to_linux(uint32_t keysym);
/* The character a Linux key code types on a US layout, or 0 for none. */
char keymap_linux_to_ascii(int code, bool shift);

#endif
