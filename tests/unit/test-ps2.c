/* PS/2 keyboard and mouse behind the i8042, driven through ports 0x60/0x64 as a driver does:
 * reset and identify, scan code sets with and without the controller's translation, LEDs and
 * typematic, the mouse's stream/remote modes, status, resolution, IntelliMouse detection,
 * wrap mode, interrupts per byte and flow control through the controller's queue. */
#include <string.h>
#include <glib.h>
#include "hw/i386/ioport.h"
#include "hw/input/i8042.h"
#include "hw/input/ps2.h"
#include "ui/input.h"

#define KEY_A 30
#define KEY_UP 103
#define KEY_F7 65
#define KEY_PAUSE 119

static unsigned irq_edges[2];
static int irq_level[2];
static void irq_handler(void *opaque, int n, int level)
{
    if (level && !irq_level[n]) {
        irq_edges[n]++;
    }
    irq_level[n] = level;
}

static I8042State *ctrl;
static PS2Kbd *kbd;
static PS2Mouse *mouse;

static uint8_t inb(uint16_t port)
{
    uint64_t v;
    g_assert_cmpint(memory_dispatch_read(&address_space_io, port, &v, 1), ==, MEMTX_OK);
    return v;
}

static void outb(uint16_t port, uint8_t v)
{
    g_assert_cmpint(memory_dispatch_write(&address_space_io, port, v, 1), ==, MEMTX_OK);
}

/* Reads every byte the controller holds (at most max) and whether each came from the aux
 * port. */
static unsigned drain(uint8_t *buf, bool *aux, unsigned max)
{
    unsigned n = 0;
    while (inb(0x64) & I8042_STAT_OBF) {
        g_assert_cmpuint(n, <, max);
        if (aux) {
            aux[n] = inb(0x64) & I8042_STAT_AUX_OBF;
        }
        buf[n++] = inb(0x60);
    }
    return n;
}

static void expect(const uint8_t *want, unsigned n)
{
    uint8_t got[64];
    unsigned len = drain(got, NULL, sizeof(got));
    g_assert_cmpmem(got, len, want, n);
}

static void set_ctr(uint8_t ctr)
{
    outb(0x64, 0x60);
    outb(0x60, ctr);
}

static void setup(void)
{
    if (!ctrl) {
        memory_system_init();
        ioport_space_init();
        IrqLine *irq = irq_lines_new(irq_handler, NULL, 2);
        ctrl = (I8042State *)object_new(&i8042_class);
        ctrl->irq[I8042_PORT_KBD] = &irq[0];
        ctrl->irq[I8042_PORT_AUX] = &irq[1];
        g_assert_true(object_realize(OBJECT(ctrl), NULL));
        memory_region_add_subregion(system_io, 0x60, &ctrl->data_io);
        memory_region_add_subregion(system_io, 0x64, &ctrl->cmd_io);
        kbd = (PS2Kbd *)object_new(&ps2_kbd_class);
        mouse = (PS2Mouse *)object_new(&ps2_mouse_class);
        g_assert_false(object_realize(OBJECT(kbd), NULL));    /* no controller yet */
        kbd->ctrl = ctrl;
        mouse->ctrl = ctrl;
        g_assert_true(object_realize(OBJECT(kbd), NULL));
        g_assert_true(object_realize(OBJECT(mouse), NULL));
    }
    object_reset_tree(OBJECT(ctrl));
    object_reset_tree(OBJECT(kbd));
    object_reset_tree(OBJECT(mouse));
    /* both interrupts on, translation as the test asks */
    set_ctr(I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_SYS);
}

static void test_scancode_tables(void)
{
    uint8_t b[8];
    g_assert_cmpuint(ps2_scancode(KEY_A, true, 2, b), ==, 1);
    g_assert_cmphex(b[0], ==, 0x1c);
    g_assert_cmpuint(ps2_scancode(KEY_A, false, 2, b), ==, 2);
    g_assert_cmpmem(b, 2, "\xf0\x1c", 2);
    g_assert_cmpuint(ps2_scancode(KEY_A, false, 1, b), ==, 1);
    g_assert_cmphex(b[0], ==, 0x9e);
    g_assert_cmpuint(ps2_scancode(KEY_UP, false, 2, b), ==, 3);
    g_assert_cmpmem(b, 3, "\xe0\xf0\x75", 3);
    g_assert_cmpuint(ps2_scancode(KEY_F7, true, 2, b), ==, 1);
    g_assert_cmphex(b[0], ==, 0x83);
    g_assert_cmpuint(ps2_scancode(KEY_PAUSE, true, 1, b), ==, 6);
    g_assert_cmpmem(b, 6, "\xe1\x1d\x45\xe1\x9d\xc5", 6);
    g_assert_cmpuint(ps2_scancode(KEY_PAUSE, false, 1, b), ==, 0);
    g_assert_cmpuint(ps2_scancode(0, true, 2, b), ==, 0);
    g_assert_cmpuint(ps2_scancode(500, true, 2, b), ==, 0);
    /* every key of sets 1 and 2 agrees through the controller's translation */
    for (int code = 1; code < 144; code++) {
        uint8_t s1[8], s2[8], t[8];
        unsigned n1 = ps2_scancode(code, false, 1, s1), n2 = ps2_scancode(code, false, 2, s2);
        unsigned nt = 0;
        bool brk = false;
        for (unsigned i = 0; i < n2; i++) {
            if (s2[i] == 0xf0) {
                brk = true;
                continue;
            }
            t[nt++] = i8042_translate(s2[i]) | (brk ? 0x80 : 0);
            brk = false;
        }
        g_assert_cmpmem(t, nt, s1, n1);
    }
}

static void test_kbd_reset_identify(void)
{
    setup();
    outb(0x60, 0xff);
    expect((const uint8_t[]){ PS2_ACK, PS2_BAT_OK }, 2);
    outb(0x60, 0xf2);
    expect((const uint8_t[]){ PS2_ACK, 0xab, 0x83 }, 3);
    /* with translation the ID's second byte reads 0x41, as drivers expect */
    set_ctr(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    outb(0x60, 0xf2);
    expect((const uint8_t[]){ PS2_ACK, 0xab, 0x41 }, 3);
    outb(0x60, 0xee);
    expect((const uint8_t[]){ PS2_ECHO }, 1);
    outb(0x60, 0x12);                                       /* not a command */
    expect((const uint8_t[]){ PS2_RESEND }, 1);
    outb(0x60, 0xfe);                                       /* resend the last byte */
    expect((const uint8_t[]){ PS2_RESEND }, 1);
}

static void test_kbd_keys_and_sets(void)
{
    setup();
    input_send_key(KEY_A, true);
    input_send_key(KEY_A, false);
    expect((const uint8_t[]){ 0x1c, 0xf0, 0x1c }, 3);
    set_ctr(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    input_send_key(KEY_UP, true);
    input_send_key(KEY_UP, false);
    expect((const uint8_t[]){ 0xe0, 0x48, 0xe0, 0xc8 }, 4);
    /* scan code set 1, asked back through translation (set 1 reads 0x43) */
    set_ctr(I8042_CTR_KBDINT);
    outb(0x60, 0xf0);
    outb(0x60, 0x01);
    expect((const uint8_t[]){ PS2_ACK, PS2_ACK }, 2);
    outb(0x60, 0xf0);
    outb(0x60, 0x00);
    expect((const uint8_t[]){ PS2_ACK, PS2_ACK, 0x01 }, 3);
    input_send_key(KEY_A, false);
    expect((const uint8_t[]){ 0x9e }, 1);
    set_ctr(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    outb(0x60, 0xf0);
    outb(0x60, 0x00);
    expect((const uint8_t[]){ PS2_ACK, PS2_ACK, 0x43 }, 3);
    outb(0x60, 0xf0);
    outb(0x60, 0x03);                                       /* set 3 is refused */
    expect((const uint8_t[]){ PS2_ACK, PS2_RESEND }, 2);
    /* disabled scanning drops keys; enabling brings them back */
    outb(0x60, 0xf5);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    g_assert_cmpuint(kbd->scancode_set, ==, 2);             /* 0xf5 restores defaults */
    input_send_key(KEY_A, true);
    expect(NULL, 0);
    outb(0x60, 0xf4);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    input_send_key(KEY_A, true);
    expect((const uint8_t[]){ 0x1e }, 1);
}

static void test_kbd_leds_typematic(void)
{
    setup();
    outb(0x60, 0xed);
    outb(0x60, 0x05);
    expect((const uint8_t[]){ PS2_ACK, PS2_ACK }, 2);
    g_assert_cmpuint(kbd->leds, ==, 5);
    outb(0x60, 0xf3);
    outb(0x60, 0x20);
    expect((const uint8_t[]){ PS2_ACK, PS2_ACK }, 2);
    g_assert_cmphex(kbd->typematic, ==, 0x20);
    outb(0x60, 0xf6);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    g_assert_cmphex(kbd->typematic, ==, 0x2b);
    g_assert_cmpuint(kbd->leds, ==, 0);
}

/* One interrupt edge per byte; a disabled port holds the device's bytes back; a long burst
 * goes through the controller's small queue without loss. */
static void test_kbd_irq_flow(void)
{
    setup();
    unsigned edges = irq_edges[0];
    input_send_key(KEY_UP, true);                           /* e0 75 */
    g_assert_cmpint(irq_level[0], ==, 1);
    g_assert_cmphex(inb(0x60), ==, 0xe0);
    g_assert_cmphex(inb(0x60), ==, 0x75);
    g_assert_cmpuint(irq_edges[0] - edges, ==, 2);
    g_assert_cmpint(irq_level[0], ==, 0);

    outb(0x64, 0xad);                                       /* keyboard port off */
    input_send_key(KEY_A, true);
    g_assert_false(inb(0x64) & I8042_STAT_OBF);
    outb(0x64, 0xae);
    expect((const uint8_t[]){ 0x1c }, 1);

    for (int i = 0; i < 20; i++) {
        input_send_key(KEY_A, true);
        input_send_key(KEY_A, false);
    }
    uint8_t got[64];
    g_assert_cmpuint(drain(got, NULL, sizeof(got)), ==, 60);
    for (int i = 0; i < 60; i += 3) {
        g_assert_cmpmem(got + i, 3, "\x1c\xf0\x1c", 3);
    }
}

static void mouse_cmd(uint8_t byte)
{
    outb(0x64, 0xd4);
    outb(0x60, byte);
}

static void test_mouse_stream(void)
{
    uint8_t got[64];
    bool aux[64];
    setup();
    mouse_cmd(0xff);
    g_assert_cmpuint(drain(got, aux, sizeof(got)), ==, 3);
    g_assert_cmpmem(got, 3, "\xfa\xaa\x00", 3);
    g_assert_true(aux[0] && aux[1] && aux[2]);
    /* reporting is off after reset */
    input_send_rel(INPUT_AXIS_X, 5);
    input_sync();
    expect(NULL, 0);
    mouse_cmd(0xf4);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    unsigned edges = irq_edges[1];
    input_send_rel(INPUT_AXIS_X, 5);
    input_send_rel(INPUT_AXIS_Y, 3);                        /* down on screen: -3 */
    input_send_button(INPUT_BUTTON_LEFT, true);
    input_sync();
    g_assert_cmpuint(drain(got, aux, sizeof(got)), ==, 3);
    g_assert_cmpmem(got, 3, "\x29\x05\xfd", 3);
    g_assert_true(aux[0]);
    g_assert_cmpuint(irq_edges[1] - edges, ==, 3);
    /* a large move is split over packets of at most 255 */
    input_send_rel(INPUT_AXIS_X, 300);
    input_send_button(INPUT_BUTTON_LEFT, false);
    input_sync();
    g_assert_cmpuint(drain(got, NULL, sizeof(got)), ==, 6);
    g_assert_cmpmem(got, 6, "\x08\xff\x00\x08\x2d\x00", 6);
    /* the wheel is not reported by a standard mouse */
    input_send_button(INPUT_BUTTON_WHEEL_UP, true);
    input_sync();
    expect(NULL, 0);
    /* 2:1 scaling */
    mouse_cmd(0xe7);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    input_send_rel(INPUT_AXIS_X, 4);
    input_sync();
    expect((const uint8_t[]){ 0x08, 6, 0 }, 3);
}

static void test_mouse_commands(void)
{
    setup();
    mouse_cmd(0xf2);
    expect((const uint8_t[]){ PS2_ACK, 0x00 }, 2);
    /* IntelliMouse: 200, 100, 80 */
    static const uint8_t seq[] = { 200, 100, 80 };
    for (unsigned i = 0; i < 3; i++) {
        mouse_cmd(0xf3);
        mouse_cmd(seq[i]);
        expect((const uint8_t[]){ PS2_ACK, PS2_ACK }, 2);
    }
    mouse_cmd(0xf2);
    expect((const uint8_t[]){ PS2_ACK, 0x03 }, 2);
    mouse_cmd(0xe8);
    mouse_cmd(0x03);
    expect((const uint8_t[]){ PS2_ACK, PS2_ACK }, 2);
    mouse_cmd(0xe8);
    mouse_cmd(0x09);
    expect((const uint8_t[]){ PS2_ACK, PS2_RESEND }, 2);
    mouse_cmd(0xf4);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    mouse_cmd(0xe9);                                        /* status: enabled, res 3, 80/s */
    expect((const uint8_t[]){ PS2_ACK, 0x20, 0x03, 80 }, 4);
    input_send_button(INPUT_BUTTON_WHEEL_UP, true);
    input_send_button(INPUT_BUTTON_WHEEL_UP, false);
    input_sync();
    expect((const uint8_t[]){ 0x08, 0, 0, 0xff }, 4);
    /* remote mode: nothing streams, 0xeb reads the motion */
    mouse_cmd(0xf0);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    input_send_button(INPUT_BUTTON_RIGHT, true);
    input_sync();
    expect(NULL, 0);
    mouse_cmd(0xeb);
    expect((const uint8_t[]){ PS2_ACK, 0x0a, 0, 0, 0 }, 5);
    mouse_cmd(0xfe);                                        /* resend the packet */
    expect((const uint8_t[]){ 0x0a, 0, 0, 0 }, 4);
    /* wrap mode echoes until 0xec */
    mouse_cmd(0xee);
    mouse_cmd(0x42);
    mouse_cmd(0xec);
    expect((const uint8_t[]){ PS2_ACK, 0x42, PS2_ACK }, 3);
    mouse_cmd(0x00);
    expect((const uint8_t[]){ PS2_RESEND }, 1);
    /* the aux port disabled by the controller: the mouse times out nothing but holds data */
    mouse_cmd(0xea);
    expect((const uint8_t[]){ PS2_ACK }, 1);
    outb(0x64, 0xa7);
    input_send_rel(INPUT_AXIS_X, 1);
    input_sync();
    g_assert_false(inb(0x64) & I8042_STAT_OBF);
    outb(0x64, 0xa8);
    expect((const uint8_t[]){ 0x0a, 1, 0, 0 }, 4);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ps2/scancode-tables", test_scancode_tables);
    g_test_add_func("/ps2/kbd/reset-identify", test_kbd_reset_identify);
    g_test_add_func("/ps2/kbd/keys-and-sets", test_kbd_keys_and_sets);
    g_test_add_func("/ps2/kbd/leds-typematic", test_kbd_leds_typematic);
    g_test_add_func("/ps2/kbd/irq-flow", test_kbd_irq_flow);
    g_test_add_func("/ps2/mouse/stream", test_mouse_stream);
    g_test_add_func("/ps2/mouse/commands", test_mouse_commands);
    return g_test_run();
}
