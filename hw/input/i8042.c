/* The PC keyboard controller (see hw/input/i8042.h). */
#include <string.h>
#include "hw/input/i8042.h"
#include "hw/core/machine.h"

/* Byte of the controller itself (not from a device): counts as the keyboard's port. */
#define I8042_PORT_CTRL I8042_PORT_KBD

/* Output buffer state, flags and interrupt lines follow the head of the queue. */
static void i8042_update(I8042State *s)
{
    bool kbd_irq = false, aux_irq = false;
    s->status &= ~(I8042_STAT_OBF | I8042_STAT_AUX_OBF);
    if (s->count) {
        s->status |= I8042_STAT_OBF;
        if (s->queue_port[s->head] == I8042_PORT_AUX) {
            s->status |= I8042_STAT_AUX_OBF;
            aux_irq = s->ctr & I8042_CTR_AUXINT;
        } else {
            kbd_irq = s->ctr & I8042_CTR_KBDINT;
        }
    }
    irq_set(s->irq[I8042_PORT_KBD], kbd_irq);
    irq_set(s->irq[I8042_PORT_AUX], aux_irq);
}

/* The 8042's set 2 -> set 1 translation for bytes below 0x80 (IBM PC/AT technical reference). */
static const uint8_t i8042_xlate_table[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t i8042_translate(uint8_t byte)
{
    if (byte == 0x83) {                      /* F7, the one set 2 code above 0x7f */
        return 0x41;
    }
    return byte < 0x80 ? i8042_xlate_table[byte] : byte;
}

/* Queues a byte as is (controller replies, 0xd2/0xd3 writes, translated device bytes). */
static void i8042_queue(I8042State *s, unsigned port, uint8_t byte)
{
    if (s->count == I8042_QUEUE_SIZE) {
        return;
    }
    unsigned tail = (s->head + s->count) % I8042_QUEUE_SIZE;
    s->queue[tail] = byte;
    s->queue_port[tail] = port;
    s->count++;
    i8042_update(s);
}

void i8042_push(I8042State *s, unsigned port, uint8_t byte)
{
    if (port == I8042_PORT_KBD && (s->ctr & I8042_CTR_XLATE)) {
        if (byte == 0xf0) {
            s->xlate_break = true;
            return;
        }
        byte = i8042_translate(byte) | (s->xlate_break ? 0x80 : 0);
        s->xlate_break = false;
    }
    i8042_queue(s, port, byte);
}

bool i8042_can_push(const I8042State *s, unsigned port)
{
    uint8_t disabled = port == I8042_PORT_AUX ? I8042_CTR_AUXDIS : I8042_CTR_KBDDIS;
    return s->count < I8042_QUEUE_SIZE && !(s->ctr & disabled);
}

/* Lets the devices refill the queue (after a read, or when a port is enabled again). */
static void i8042_pull(I8042State *s)
{
    for (unsigned port = 0; port < I8042_NUM_PORTS; port++) {
        I8042Device *d = s->dev[port];
        if (d && d->pull && i8042_can_push(s, port)) {
            d->pull(d->opaque);
        }
    }
}

void i8042_attach(I8042State *s, unsigned port, I8042Device *dev)
{
    s->dev[port] = dev;
}

/* The output port: bit 0 low holds the CPU in reset, bit 1 is the A20 gate. */
static void i8042_set_outport(I8042State *s, uint8_t val)
{
    s->outport = val;
    if (!(val & I8042_OUT_RESET)) {
        machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

/* A byte for a device: with none attached, or its port disabled, it times out. */
static void i8042_send_to_device(I8042State *s, unsigned port, uint8_t byte)
{
    uint8_t disabled = port == I8042_PORT_AUX ? I8042_CTR_AUXDIS : I8042_CTR_KBDDIS;
    if (port == I8042_PORT_KBD) {
        s->ctr &= ~disabled;                 /* writing to the keyboard enables its clock */
    }
    if (!s->dev[port] || (s->ctr & disabled)) {
        s->status |= I8042_STAT_TIMEOUT;
        return;
    }
    s->status &= ~I8042_STAT_TIMEOUT;
    s->dev[port]->write(s->dev[port]->opaque, byte);
}

static void i8042_command(I8042State *s, uint8_t cmd)
{
    s->status |= I8042_STAT_CMD;
    switch (cmd) {
    case 0x20:                               /* read command byte */
        i8042_queue(s, I8042_PORT_CTRL, s->ctr);
        break;
    case 0x60:                               /* write command byte */
    case 0xd1:                               /* write output port */
    case 0xd2:                               /* write keyboard output buffer */
    case 0xd3:                               /* write mouse output buffer */
    case 0xd4:                               /* write to the mouse */
        s->pending_cmd = cmd;
        break;
    case 0xa7:
        s->ctr |= I8042_CTR_AUXDIS;
        break;
    case 0xa8:
        s->ctr &= ~I8042_CTR_AUXDIS;
        break;
    case 0xa9:                               /* test mouse port: no error */
    case 0xab:                               /* test keyboard port: no error */
        i8042_queue(s, I8042_PORT_CTRL, 0x00);
        break;
    case 0xaa:                               /* self test: passed, system flag set */
        s->status |= I8042_STAT_SYS;
        i8042_queue(s, I8042_PORT_CTRL, 0x55);
        break;
    case 0xad:
        s->ctr |= I8042_CTR_KBDDIS;
        break;
    case 0xae:
        s->ctr &= ~I8042_CTR_KBDDIS;
        break;
    case 0xc0:                               /* read input port: keyboard not inhibited */
        i8042_queue(s, I8042_PORT_CTRL, 0x80);
        break;
    case 0xd0:                               /* read output port */
        i8042_queue(s, I8042_PORT_CTRL, s->outport);
        break;
    case 0xdd:                               /* A20 off */
        s->outport &= ~I8042_OUT_A20;
        break;
    case 0xdf:                               /* A20 on */
        s->outport |= I8042_OUT_A20;
        break;
    default:
        /* 0xf0-0xff pulse the output port bits whose command bit is 0: bit 0 resets */
        if (cmd >= 0xf0 && !(cmd & 1)) {
            machine_request_reset(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        break;
    }
    i8042_update(s);
    i8042_pull(s);
}

static void i8042_data(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->pending_cmd;
    s->pending_cmd = 0;
    s->status &= ~I8042_STAT_CMD;
    switch (cmd) {
    case 0x60:
        s->ctr = val;
        s->status = (s->status & ~I8042_STAT_SYS) | (val & I8042_CTR_SYS ? I8042_STAT_SYS : 0);
        break;
    case 0xd1:
        i8042_set_outport(s, val);
        break;
    case 0xd2:
        i8042_queue(s, I8042_PORT_KBD, val);
        break;
    case 0xd3:
        i8042_queue(s, I8042_PORT_AUX, val);
        break;
    case 0xd4:
        i8042_send_to_device(s, I8042_PORT_AUX, val);
        break;
    default:
        i8042_send_to_device(s, I8042_PORT_KBD, val);
        break;
    }
    i8042_update(s);
    i8042_pull(s);
}

static uint64_t i8042_data_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;
    if (!s->count) {
        /* an empty buffer reads the last byte again, as the hardware does */
        return s->queue[(s->head + I8042_QUEUE_SIZE - 1) % I8042_QUEUE_SIZE];
    }
    uint8_t v = s->queue[s->head];
    s->head = (s->head + 1) % I8042_QUEUE_SIZE;
    s->count--;
    /* the output buffer empties before the next byte loads: one interrupt edge per byte */
    irq_set(s->irq[I8042_PORT_KBD], 0);
    irq_set(s->irq[I8042_PORT_AUX], 0);
    i8042_update(s);
    i8042_pull(s);
    return v;
}

static void i8042_data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    i8042_data(opaque, val);
}

static uint64_t i8042_status_read(void *opaque, uint64_t addr, unsigned size)
{
    return ((I8042State *)opaque)->status;
}

static void i8042_cmd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    i8042_command(opaque, val);
}

static const MemoryRegionOps i8042_data_ops = {
    .read = i8042_data_read, .write = i8042_data_write,
    .min_access_size = 1, .max_access_size = 1,
};

static const MemoryRegionOps i8042_cmd_ops = {
    .read = i8042_status_read, .write = i8042_cmd_write,
    .min_access_size = 1, .max_access_size = 1,
};

static void i8042_init(Object *obj)
{
    I8042State *s = (I8042State *)obj;
    memory_region_init_io(&s->data_io, "i8042-data", &i8042_data_ops, s, 1);
    memory_region_init_io(&s->cmd_io, "i8042-cmd", &i8042_cmd_ops, s, 1);
}

/* Power-on: translation and keyboard interrupt on, A20 on, nothing queued. */
static void i8042_reset(Object *obj)
{
    I8042State *s = (I8042State *)obj;
    s->status = I8042_STAT_UNLOCKED | I8042_STAT_CMD;
    s->ctr = I8042_CTR_KBDINT | I8042_CTR_XLATE;
    s->outport = I8042_OUT_RESET | I8042_OUT_A20;
    s->pending_cmd = 0;
    s->xlate_break = false;
    s->head = s->count = 0;
    i8042_update(s);
}

static bool i8042_realize(Object *obj, Error **errp)
{
    i8042_reset(obj);
    return true;
}

const ObjectClass i8042_class = {
    .name = "i8042",
    .instance_size = sizeof(I8042State),
    .desc = "PC keyboard controller",
    .init = i8042_init,
    .realize = i8042_realize,
    .reset = i8042_reset,
};
OBJECT_CLASS_REGISTER(i8042_class)
