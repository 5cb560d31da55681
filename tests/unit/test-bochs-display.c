/* bochs-display and VGA through the PCI bus as a driver sees them: identity, BARs, DISPI
 * registers in MMIO and through ports 0x1ce/0x1cf, GETCAPS, mode set with clearing, virtual
 * width and panning, pixel formats and framebuffer endianness as shown on the console. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "hw/display/bochs-vbe.h"
#include "hw/i386/ioport.h"
#include "hw/i386/pc.h"
#include "hw/pci/pci.h"
#include "ui/console.h"

#define FB_BASE 0xc0000000u
#define MMIO_BASE 0xc1000000u
#define VGA_FB_BASE 0xc2000000u
#define VGA_MMIO_BASE 0xc3000000u

static PCIBus *bus;

static void intx_handler(void *opaque, int n, int level)
{
}

static void cfg_write(unsigned slot, unsigned reg, uint32_t val, unsigned size)
{
    memory_dispatch_write(&address_space_io, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc),
                          4);
    memory_dispatch_write(&address_space_io, 0xcfc + (reg & 3), val, size);
}

static uint32_t cfg_read(unsigned slot, unsigned reg, unsigned size)
{
    uint64_t v;
    memory_dispatch_write(&address_space_io, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc),
                          4);
    memory_dispatch_read(&address_space_io, 0xcfc + (reg & 3), &v, size);
    return v;
}

/* Creates and plugs a device (with one property set) with BAR 0 at fb and BAR 2 at mmio; returns its console. */
static Console *plug(const char *type, const char *prop, const char *value, uint32_t fb,
                     uint32_t mmio, PCIDevice **out)
{
    if (!bus) {
        memory_system_init();
        ioport_space_init();
        IrqLine *intx = irq_lines_new(intx_handler, NULL, 4);
        Object *parent = object_new(object_class_by_name("i8042"));
        bus = pci_host_init(parent, system_memory, system_io, intx, PC_ECAM_BASE,
                            PC_ECAM_SIZE, NULL);
        g_assert_nonnull(bus);
    }
    PCIDevice *d = PCI_DEVICE(object_new(object_class_by_name(type)));
    if (prop) {
        g_assert_true(object_property_set_str(OBJECT(d), prop, value, NULL));
    }
    Error *err = NULL;
    unsigned before = console_count();
    g_assert_true(pci_bus_plug_device(bus, d, &err));
    g_assert_null(err);
    unsigned slot = d->devfn >> 3;
    cfg_write(slot, PCI_BAR0, fb, 4);
    cfg_write(slot, PCI_BAR0 + 8, mmio, 4);
    cfg_write(slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    *out = d;
    g_assert_cmpuint(console_count(), ==, before + 1);
    return console_by_index(before);
}

static uint16_t dispi_read(uint32_t mmio, unsigned index)
{
    uint64_t v;
    g_assert_cmpint(memory_dispatch_read(&address_space_memory,
                                         mmio + BOCHS_MMIO_DISPI + 2 * index, &v, 2), ==,
                    MEMTX_OK);
    return v;
}

static void dispi_write(uint32_t mmio, unsigned index, uint16_t val)
{
    g_assert_cmpint(memory_dispatch_write(&address_space_memory,
                                          mmio + BOCHS_MMIO_DISPI + 2 * index, val, 2), ==,
                    MEMTX_OK);
}

/* The mode set sequence of Linux's bochs driver. */
static void set_mode(uint32_t mmio, unsigned w, unsigned h, unsigned bpp, uint16_t flags)
{
    dispi_write(mmio, VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(mmio, VBE_DISPI_INDEX_BPP, bpp);
    dispi_write(mmio, VBE_DISPI_INDEX_XRES, w);
    dispi_write(mmio, VBE_DISPI_INDEX_YRES, h);
    dispi_write(mmio, VBE_DISPI_INDEX_BANK, 0);
    dispi_write(mmio, VBE_DISPI_INDEX_VIRT_WIDTH, w);
    dispi_write(mmio, VBE_DISPI_INDEX_X_OFFSET, 0);
    dispi_write(mmio, VBE_DISPI_INDEX_Y_OFFSET, 0);
    dispi_write(mmio, VBE_DISPI_INDEX_ENABLE,
                VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED | flags);
}

/* Brings the console up to date (through a screendump, which refreshes it first). */
static DisplaySurface *refresh(Console *con)
{
    char path[] = "/tmp/test-bochs-XXXXXX";
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    int index = -1;
    for (unsigned i = 0; i < console_count(); i++) {
        if (console_by_index(i) == con) {
            index = i;
        }
    }
    Error *err = NULL;
    g_assert_true(console_screendump(path, "ppm", index, &err));
    unlink(path);
    return console_surface(con);
}

static uint32_t pixel(DisplaySurface *s, int x, int y)
{
    return surface_data(s)[y * surface_stride(s) / 4 + x] & 0xffffff;
}

static void fb_write32(uint32_t fb, uint64_t off, uint32_t v)
{
    g_assert_cmpint(address_space_write(&address_space_memory, fb + off, &v, 4), ==, MEMTX_OK);
}

static void test_bochs_display(void)
{
    PCIDevice *d;
    Console *con = plug("bochs-display", NULL, NULL, FB_BASE, MMIO_BASE, &d);
    unsigned slot = d->devfn >> 3;
    g_assert_cmphex(cfg_read(slot, PCI_VENDOR_ID, 4), ==, 0x11111234);
    g_assert_cmphex(cfg_read(slot, PCI_CLASS_DEVICE, 2), ==, 0x0380);
    g_assert_cmphex(cfg_read(slot, PCI_REVISION_ID, 1), ==, 2);
    g_assert_cmpstr(console_label(con), ==, "bochs-display");

    g_assert_cmphex(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_ID), ==, VBE_DISPI_ID5);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), ==, 256);
    uint64_t v;
    memory_dispatch_read(&address_space_memory, MMIO_BASE + BOCHS_MMIO_QEXT, &v, 4);
    g_assert_cmpuint(v, ==, BOCHS_QEXT_SIZE);
    memory_dispatch_read(&address_space_memory, MMIO_BASE + BOCHS_MMIO_QEXT + 4, &v, 4);
    g_assert_cmphex(v, ==, BOCHS_FB_LITTLE_ENDIAN);
    memory_dispatch_read(&address_space_memory, MMIO_BASE + BOCHS_MMIO_EDID, &v, 2);
    g_assert_cmphex(v, ==, 0);                   /* no EDID header: drivers use defaults */

    /* GETCAPS: the maxima instead of the mode */
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_XRES), ==, VBE_DISPI_MAX_XRES);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_BPP), ==, VBE_DISPI_MAX_BPP);
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_ENABLE, 0);
    /* invalid bpp is refused */
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_BPP, 12);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_BPP), ==, 0);

    /* garbage in the framebuffer is cleared by the mode set */
    fb_write32(FB_BASE, 0, 0xdeadbeef);
    set_mode(MMIO_BASE, 320, 200, 32, 0);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_VIRT_WIDTH), ==, 320);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_VIRT_HEIGHT), ==,
                     (16u << 20) / (320 * 4));
    /* the geometry is frozen while enabled */
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_XRES, 640);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_XRES), ==, 320);

    DisplaySurface *s = refresh(con);
    g_assert_cmpint(s->width, ==, 320);
    g_assert_cmpint(s->height, ==, 200);
    g_assert_cmphex(pixel(s, 0, 0), ==, 0);
    fb_write32(FB_BASE, (10 * 320 + 5) * 4, 0x00ff8000);
    fb_write32(FB_BASE, (11 * 320 + 5) * 4, 0x000000ff);
    s = refresh(con);
    g_assert_cmphex(pixel(s, 5, 10), ==, 0xff8000);
    g_assert_cmphex(pixel(s, 5, 11), ==, 0x0000ff);
    g_assert_cmphex(pixel(s, 6, 10), ==, 0);

    /* panning: row 10 of the framebuffer at the top */
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_Y_OFFSET, 10);
    s = refresh(con);
    g_assert_cmphex(pixel(s, 5, 0), ==, 0xff8000);
    g_assert_cmphex(pixel(s, 5, 1), ==, 0x0000ff);
    /* panned past the end of video memory: nothing is shown */
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_Y_OFFSET, 0xffff);
    s = refresh(con);
    g_assert_cmphex(pixel(s, 5, 0), ==, 0);
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_Y_OFFSET, 0);

    /* big-endian framebuffer (bytes X R G B) */
    memory_dispatch_write(&address_space_memory, MMIO_BASE + BOCHS_MMIO_QEXT + 4,
                          BOCHS_FB_BIG_ENDIAN, 4);
    static const uint8_t be[4] = { 0x00, 0x11, 0x22, 0x33 };
    address_space_write(&address_space_memory, FB_BASE + (10 * 320 + 5) * 4, be, 4);
    s = refresh(con);
    g_assert_cmphex(pixel(s, 5, 10), ==, 0x112233);
    memory_dispatch_write(&address_space_memory, MMIO_BASE + BOCHS_MMIO_QEXT + 4,
                          BOCHS_FB_LITTLE_ENDIAN, 4);

    /* 16 bpp (r5g6b5) with a wider virtual line, memory kept */
    set_mode(MMIO_BASE, 64, 48, 16, VBE_DISPI_NOCLEARMEM);
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_VIRT_WIDTH, 128);
    uint16_t px[2] = { 0xf800, 0x07e0 };
    address_space_write(&address_space_memory, FB_BASE + 2 * 128 * 2 + 3 * 2, px, 4);
    s = refresh(con);
    g_assert_cmpint(s->width, ==, 64);
    g_assert_cmphex(pixel(s, 3, 2), ==, 0xff0000);
    g_assert_cmphex(pixel(s, 4, 2), ==, 0x00ff00);

    /* disabled: black */
    dispi_write(MMIO_BASE, VBE_DISPI_INDEX_ENABLE, 0);
    s = refresh(con);
    g_assert_cmphex(pixel(s, 3, 2), ==, 0);

    /* a reset brings back the power-on registers */
    set_mode(MMIO_BASE, 64, 48, 32, 0);
    object_reset_tree(OBJECT(d));
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_ENABLE), ==, 0);
    g_assert_cmpuint(dispi_read(MMIO_BASE, VBE_DISPI_INDEX_XRES), ==, 0);
}

static void outw(uint16_t port, uint16_t v)
{
    g_assert_cmpint(memory_dispatch_write(&address_space_io, port, v, 2), ==, MEMTX_OK);
}

static uint16_t inw(uint16_t port)
{
    uint64_t v;
    g_assert_cmpint(memory_dispatch_read(&address_space_io, port, &v, 2), ==, MEMTX_OK);
    return v;
}

static void test_vga(void)
{
    PCIDevice *d;
    Console *con = plug("VGA", "vgamem_mb", "8", VGA_FB_BASE, VGA_MMIO_BASE, &d);
    g_assert_cmphex(cfg_read(d->devfn >> 3, PCI_CLASS_DEVICE, 2), ==, 0x0300);

    outw(VBE_PORT_INDEX, VBE_DISPI_INDEX_ID);
    g_assert_cmphex(inw(VBE_PORT_DATA), ==, VBE_DISPI_ID5);
    outw(VBE_PORT_INDEX, VBE_DISPI_INDEX_VIDEO_MEMORY_64K);
    g_assert_cmpuint(inw(VBE_PORT_DATA), ==, 128);
    /* a mode set through the ports, seen through MMIO */
    static const uint16_t seq[][2] = {
        { VBE_DISPI_INDEX_ENABLE, 0 }, { VBE_DISPI_INDEX_BPP, 32 },
        { VBE_DISPI_INDEX_XRES, 160 }, { VBE_DISPI_INDEX_YRES, 120 },
        { VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(seq); i++) {
        outw(VBE_PORT_INDEX, seq[i][0]);
        outw(VBE_PORT_DATA, seq[i][1]);
    }
    g_assert_cmpuint(dispi_read(VGA_MMIO_BASE, VBE_DISPI_INDEX_XRES), ==, 160);
    fb_write32(VGA_FB_BASE, 0, 0x00abcdef);
    /* blanked until the attribute controller's video-enable bit is set (Linux: unblank) */
    DisplaySurface *s = refresh(con);
    g_assert_cmphex(pixel(s, 0, 0), ==, 0);
    uint64_t v;
    memory_dispatch_read(&address_space_memory, VGA_MMIO_BASE + BOCHS_MMIO_VGA + 0x1a, &v, 1);
    memory_dispatch_write(&address_space_memory, VGA_MMIO_BASE + BOCHS_MMIO_VGA, 0x20, 1);
    s = refresh(con);
    g_assert_cmpint(s->width, ==, 160);
    g_assert_cmphex(pixel(s, 0, 0), ==, 0xabcdef);

    /* a second VGA would share the ports */
    Object *second = object_new(object_class_by_name("VGA"));
    Error *err = NULL;
    g_assert_false(pci_bus_plug_device(bus, PCI_DEVICE(second), &err));
    g_assert_nonnull(err);
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bochs-display/dispi", test_bochs_display);
    g_test_add_func("/bochs-display/vga", test_vga);
    return g_test_run();
}
