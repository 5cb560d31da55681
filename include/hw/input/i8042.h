#ifndef HW_INPUT_I8042_H
#define HW_INPUT_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"

/*
 * The PC keyboard controller ("i8042"): data port 0x60 and status/command port 0x64, the
 * controller command byte, self tests, the output port with the A20 gate and the CPU reset
 * line (0xfe to port 0x64 or 0xd1 with bit 0 clear resets the machine). Two device ports,
 * keyboard (IRQ 1) and mouse (IRQ 12): a device attaches with i8042_attach, receives the
 * bytes the guest sends it and answers with i8042_push; with nothing attached, bytes sent to
 * a port time out as on a board with no keyboard plugged in.
 */

enum { I8042_PORT_KBD = 0, I8042_PORT_AUX = 1, I8042_NUM_PORTS = 2 };
#define I8042_QUEUE_SIZE 16

/* Status register bits. */
enum {
    I8042_STAT_OBF = 0x01, I8042_STAT_IBF = 0x02, I8042_STAT_SYS = 0x04,
    I8042_STAT_CMD = 0x08, I8042_STAT_UNLOCKED = 0x10, I8042_STAT_AUX_OBF = 0x20,
    I8042_STAT_TIMEOUT = 0x40,
};
/* Controller command byte bits. */
enum {
    I8042_CTR_KBDINT = 0x01, I8042_CTR_AUXINT = 0x02, I8042_CTR_SYS = 0x04,
    I8042_CTR_KBDDIS = 0x10, I8042_CTR_AUXDIS = 0x20, I8042_CTR_XLATE = 0x40,
};
/* Output port bits. */
enum { I8042_OUT_RESET = 0x01, I8042_OUT_A20 = 0x02 };

/* A keyboard or mouse behind the controller. */
typedef struct I8042Device {
    /* The guest sent byte to the device. */
    void (*write)(void *opaque, uint8_t byte);
    void *opaque;
    /* Optional: the controller may take bytes again (check i8042_can_push). */
    void (*pull)(void *opaque);
} I8042Device;

typedef struct I8042State {
    Object obj;
    MemoryRegion data_io, cmd_io;      /* port 0x60 and port 0x64 (one byte each) */
    IrqLine *irq[I8042_NUM_PORTS];     /* set by the board: ISA IRQ 1 and 12 */
    I8042Device *dev[I8042_NUM_PORTS];
    uint8_t status;
    uint8_t ctr;                       /* command byte */
    uint8_t outport;
    uint8_t pending_cmd;               /* command waiting for its data byte, or 0 */
    bool xlate_break;                  /* translation saw 0xf0: the next code is a break */
    /* bytes for the guest: from the controller or a device, in order */
    uint8_t queue[I8042_QUEUE_SIZE];
    uint8_t queue_port[I8042_QUEUE_SIZE];
    unsigned head, count;
} I8042State;

extern const ObjectClass i8042_class;

/* Connects dev to port (I8042_PORT_KBD or I8042_PORT_AUX). */
void i8042_attach(I8042State *s, unsigned port, I8042Device *dev);
/* A device's byte for the guest (dropped when the controller's queue is full). Keyboard
 * bytes are translated from scan code set 2 to set 1 while the command byte has XLATE. */
void i8042_push(I8042State *s, unsigned port, uint8_t byte);
/* True when the controller takes a byte from port now (room, port not disabled). */
bool i8042_can_push(const I8042State *s, unsigned port);
/* Set 1 code the controller's translation makes of set 2 byte (0xf0 prefixes a break). */
uint8_t i8042_translate(uint8_t byte);

#endif
