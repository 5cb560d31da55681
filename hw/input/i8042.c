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

void i8042_push(I8042State *s, unsigned port, uint8_t byte)
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
        i8042_push(s, I8042_PORT_CTRL, s->ctr);
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
        i8042_push(s, I8042_PORT_CTRL, 0x00);
        break;
    case 0xaa:                               /* self test: passed, system flag set */
        s->status |= I8042_STAT_SYS;
        i8042_push(s, I8042_PORT_CTRL, 0x55);
        break;
    case 0xad:
        s->ctr |= I8042_CTR_KBDDIS;
        break;
    case 0xae:
        s->ctr &= ~I8042_CTR_KBDDIS;
        break;
    case 0xc0:                               /* read input port: keyboard not inhibited */
        i8042_push(s, I8042_PORT_CTRL, 0x80);
        break;
    case 0xd0:                               /* read output port */
        i8042_push(s, I8042_PORT_CTRL, s->outport);
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
        i8042_push(s, I8042_PORT_KBD, val);
        break;
    case 0xd3:
        i8042_push(s, I8042_PORT_AUX, val);
        break;
    case 0xd4:
        i8042_send_to_device(s, I8042_PORT_AUX, val);
        break;
    default:
        i8042_send_to_device(s, I8042_PORT_KBD, val);
        break;
    }
    i8042_update(s);
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
    i8042_update(s);
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
