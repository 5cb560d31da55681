/*
 * "bochs-display" and "VGA" (PCI 1234:1111): a linear framebuffer programmed through the
 * Bochs VBE DISPI registers (see hw/display/bochs-vbe.h), as Linux's bochs DRM driver drives
 * it. The framebuffer is guest RAM in BAR 0; each refresh tick the rows that changed since the
 * last one are converted into the console surface. "VGA" adds the DISPI ports 0x1ce/0x1cf
 * and the attribute controller's blanking bit; legacy VGA modes (text, planar, the 0xa0000
 * window) and 8-bit palette modes are not emulated.
 */
#include <string.h>
#include <glib.h>
#include <pixman.h>
#include "hw/display/bochs-vbe.h"
#include "hw/i386/ioport.h"
#include "hw/pci/pci.h"
#include "ui/console.h"
#include "util/log.h"

#define MiB (1ULL << 20)

typedef struct BochsDisplay {
    PCIDevice pci;
    MemoryRegion vram;              /* BAR 0 */
    MemoryRegion mmio;              /* BAR 2 */
    MemoryRegion vbe_io;            /* "VGA": ports 0x1ce..0x1d0 */
    uint64_t vgamem;                /* property "vgamem" (bytes) */
    uint32_t vgamem_mb;             /* property "vgamem_mb" ("VGA") */
    bool has_vga;
    uint16_t regs[VBE_DISPI_INDEX_NB];
    uint16_t index;                 /* port 0x1ce */
    bool big_endian;
    uint8_t misc;                   /* VGA miscellaneous output register */
    uint8_t ar_index;               /* attribute controller index (bit 5: video on) */
    bool ar_flip;                   /* next 0x3c0 write is data */
    Console *con;
    /* the mode being shown */
    bool shown;                     /* false: the surface is black */
    unsigned width, height, bytespp;
    uint64_t offset, stride;
    pixman_format_code_t format;
    uint8_t *shadow;                /* last rows converted, width * bytespp (4-aligned) each */
    unsigned shadow_stride;
    bool full_update;
} BochsDisplay;

typedef struct BochsDisplayClass {
    PCIDeviceClass pc;
    bool has_vga;
} BochsDisplayClass;

static unsigned bochs_bytespp(unsigned bpp)
{
    return (bpp + 7) / 8;
}

static pixman_format_code_t bochs_format(unsigned bpp)
{
    switch (bpp) {
    case 15: return PIXMAN_x1r5g5b5;
    case 16: return PIXMAN_r5g6b5;
    case 24: return PIXMAN_r8g8b8;
    case 32: return PIXMAN_x8r8g8b8;
    default: return 0;
    }
}

/* Recomputes what is shown from the registers; a new geometry is converted in full. */
static void bochs_update_mode(BochsDisplay *s)
{
    uint16_t *r = s->regs;
    unsigned bpp = r[VBE_DISPI_INDEX_BPP];
    bool on = (r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) &&
              (!s->has_vga || (s->ar_index & 0x20));
    pixman_format_code_t fmt = bochs_format(bpp);
    unsigned w = r[VBE_DISPI_INDEX_XRES], h = r[VBE_DISPI_INDEX_YRES];
    unsigned bytespp = bochs_bytespp(bpp);
    uint64_t stride = (uint64_t)r[VBE_DISPI_INDEX_VIRT_WIDTH] * bytespp;
    uint64_t offset = (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * stride +
                      (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bytespp;

    if (on && !fmt) {
        log_mask_printf(LOG_UNIMP, "%s: %u bpp modes are not shown\n",
                        OBJECT(s)->cls->name, bpp);
        on = false;
    }
    if (on && (!w || !h || stride < (uint64_t)w * bytespp ||
               offset + (h - 1) * stride + (uint64_t)w * bytespp > s->vram.size)) {
        log_mask_printf(LOG_GUEST_ERROR, "%s: mode %ux%u (stride %llu, offset %llu) does not "
                        "fit in video memory\n", OBJECT(s)->cls->name, w, h,
                        (unsigned long long)stride, (unsigned long long)offset);
        on = false;
    }
    if (!on) {
        if (s->shown) {
            DisplaySurface *surf = console_surface(s->con);
            memset(surface_data(surf), 0, (size_t)surface_stride(surf) * surf->height);
            console_mark_dirty(s->con, 0, 0, surf->width, surf->height);
        }
        s->shown = false;
        return;
    }
    if (!s->shown || w != s->width || h != s->height || fmt != s->format) {
        s->width = w;
        s->height = h;
        s->format = fmt;
        s->bytespp = bytespp;
        s->shadow_stride = (w * bytespp + 3) & ~3u;
        g_free(s->shadow);
        s->shadow = g_malloc0((size_t)s->shadow_stride * h);
        console_resize(s->con, w, h);
        s->full_update = true;
    }
    if (offset != s->offset || stride != s->stride) {
        s->full_update = true;
    }
    s->offset = offset;
    s->stride = stride;
    s->shown = true;
}

/* Copies a framebuffer row into the shadow; big-endian pixels are byte-swapped. */
static void bochs_copy_row(BochsDisplay *s, uint8_t *dst, const uint8_t *src)
{
    size_t len = (size_t)s->width * s->bytespp;
    if (!s->big_endian || s->bytespp == 1) {
        memcpy(dst, src, len);
        return;
    }
    for (size_t i = 0; i < len; i += s->bytespp) {
        for (unsigned b = 0; b < s->bytespp; b++) {
            dst[i + b] = src[i + s->bytespp - 1 - b];
        }
    }
}

static void bochs_convert(BochsDisplay *s, pixman_image_t *src, unsigned y0, unsigned y1)
{
    DisplaySurface *surf = console_surface(s->con);
    pixman_image_composite(PIXMAN_OP_SRC, src, NULL, surf->image, 0, y0, 0, 0, 0, y0,
                           s->width, y1 - y0);
    console_mark_dirty(s->con, 0, y0, s->width, y1 - y0);
}

/* Refresh tick: converts the bands of rows that differ from the shadow. */
static void bochs_gfx_update(void *opaque)
{
    BochsDisplay *s = opaque;
    if (!s->shown) {
        return;
    }
    size_t row_len = (size_t)s->width * s->bytespp;
    uint8_t *tmp = s->big_endian ? g_malloc(s->shadow_stride) : NULL;
    pixman_image_t *img = pixman_image_create_bits(s->format, s->width, s->height,
                                                   (uint32_t *)s->shadow, s->shadow_stride);
    int band = -1;
    for (unsigned y = 0; y < s->height; y++) {
        const uint8_t *src = s->vram.ram + s->offset + y * s->stride;
        uint8_t *dst = s->shadow + (size_t)y * s->shadow_stride;
        if (tmp) {
            bochs_copy_row(s, tmp, src);
            src = tmp;
        }
        bool changed = s->full_update || memcmp(dst, src, row_len) != 0;
        if (changed) {
            memcpy(dst, src, row_len);
            if (band < 0) {
                band = y;
            }
        } else if (band >= 0) {
            bochs_convert(s, img, band, y);
            band = -1;
        }
    }
    if (band >= 0) {
        bochs_convert(s, img, band, s->height);
    }
    s->full_update = false;
    pixman_image_unref(img);
    g_free(tmp);
}

static const GraphicHwOps bochs_gfx_ops = {
    .gfx_update = bochs_gfx_update,
};

/* ---- DISPI registers ---- */

static uint16_t bochs_dispi_read(BochsDisplay *s, unsigned index)
{
    bool caps = s->regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;
    switch (index) {
    case VBE_DISPI_INDEX_XRES:
        return caps ? VBE_DISPI_MAX_XRES : s->regs[index];
    case VBE_DISPI_INDEX_YRES:
        return caps ? VBE_DISPI_MAX_YRES : s->regs[index];
    case VBE_DISPI_INDEX_BPP:
        return caps ? VBE_DISPI_MAX_BPP : s->regs[index];
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
        return MIN(s->vram.size >> 16, 0xffff);
    default:
        return index < VBE_DISPI_INDEX_NB ? s->regs[index] : 0;
    }
}

/* VIRT_HEIGHT follows from the video memory and the line length. */
static void bochs_set_virt_width(BochsDisplay *s, uint16_t width)
{
    unsigned bytespp = bochs_bytespp(s->regs[VBE_DISPI_INDEX_BPP]);
    uint64_t line = (uint64_t)width * bytespp;
    if (!line) {
        return;
    }
    s->regs[VBE_DISPI_INDEX_VIRT_WIDTH] = width;
    s->regs[VBE_DISPI_INDEX_VIRT_HEIGHT] = MIN(s->vram.size / line, 0xffff);
}

static void bochs_dispi_write(BochsDisplay *s, unsigned index, uint16_t val)
{
    uint16_t *r = s->regs;
    bool enabled = r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
    switch (index) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
        if (enabled) {
            log_mask_printf(LOG_GUEST_ERROR, "%s: DISPI register %u written while enabled\n",
                            OBJECT(s)->cls->name, index);
            break;
        }
        if (index == VBE_DISPI_INDEX_BPP) {
            val = val ? val : 8;
            if (val != 8 && val != 15 && val != 16 && val != 24 && val != 32) {
                log_mask_printf(LOG_GUEST_ERROR, "%s: invalid bpp %u\n",
                                OBJECT(s)->cls->name, val);
                break;
            }
        } else if (val > (index == VBE_DISPI_INDEX_XRES ? VBE_DISPI_MAX_XRES
                                                        : VBE_DISPI_MAX_YRES)) {
            log_mask_printf(LOG_GUEST_ERROR, "%s: resolution %u out of range\n",
                            OBJECT(s)->cls->name, val);
            break;
        }
        r[index] = val;
        break;
    case VBE_DISPI_INDEX_ENABLE:
        if ((val & VBE_DISPI_ENABLED) && !enabled) {
            /* a new mode: the whole line width, no panning, cleared unless asked not to */
            bochs_set_virt_width(s, r[VBE_DISPI_INDEX_XRES]);
            r[VBE_DISPI_INDEX_X_OFFSET] = r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            if (!(val & VBE_DISPI_NOCLEARMEM)) {
                uint64_t len = (uint64_t)r[VBE_DISPI_INDEX_YRES] *
                               r[VBE_DISPI_INDEX_XRES] * bochs_bytespp(r[VBE_DISPI_INDEX_BPP]);
                memset(s->vram.ram, 0, MIN(len, s->vram.size));
            }
        }
        if (!(val & VBE_DISPI_ENABLED)) {
            r[VBE_DISPI_INDEX_BANK] = 0;
        }
        r[index] = val;
        break;
    case VBE_DISPI_INDEX_BANK:
        if (val < s->vram.size >> 16) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
        if (val >= r[VBE_DISPI_INDEX_XRES]) {
            bochs_set_virt_width(s, val);
        }
        break;
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        r[index] = val;
        break;
    default:
        /* VIRT_HEIGHT and VIDEO_MEMORY_64K are computed; others do not exist */
        break;
    }
    bochs_update_mode(s);
}

/* ---- VGA ports (through BAR 2 at 0x400, "VGA" only) ---- */

static uint8_t bochs_vga_read(BochsDisplay *s, unsigned port)
{
    if (!s->has_vga) {
        return 0xff;
    }
    switch (port) {
    case 0x3c0:
        return s->ar_index;
    case 0x3cc:
        return s->misc;
    case 0x3ba:
    case 0x3da:                        /* input status 1: resets the attribute flip-flop */
        s->ar_flip = false;
        return 0;
    default:
        return 0xff;
    }
}

static void bochs_vga_write(BochsDisplay *s, unsigned port, uint8_t val)
{
    if (!s->has_vga) {
        return;
    }
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip) {
            s->ar_index = val & 0x3f;
            bochs_update_mode(s);
        }
        s->ar_flip = !s->ar_flip;
        break;
    case 0x3c2:
        s->misc = val;
        break;
    default:
        log_mask_printf(LOG_UNIMP, "VGA: port 0x%x (legacy VGA registers are not emulated)\n",
                        port);
        break;
    }
}

/* ---- BAR 2 ---- */

static uint8_t bochs_mmio_read_byte(BochsDisplay *s, unsigned addr)
{
    if (addr >= BOCHS_MMIO_VGA && addr < BOCHS_MMIO_VGA + 0x20) {
        return bochs_vga_read(s, 0x3c0 + addr - BOCHS_MMIO_VGA);
    }
    if (addr >= BOCHS_MMIO_DISPI && addr < BOCHS_MMIO_DISPI + 2 * VBE_DISPI_INDEX_NB) {
        unsigned off = addr - BOCHS_MMIO_DISPI;
        return bochs_dispi_read(s, off / 2) >> (8 * (off & 1));
    }
    if (addr >= BOCHS_MMIO_QEXT && addr < BOCHS_MMIO_QEXT + BOCHS_QEXT_SIZE) {
        unsigned off = addr - BOCHS_MMIO_QEXT;
        uint32_t v = off < 4 ? BOCHS_QEXT_SIZE
                             : s->big_endian ? BOCHS_FB_BIG_ENDIAN : BOCHS_FB_LITTLE_ENDIAN;
        return v >> (8 * (off & 3));
    }
    return 0;                          /* EDID: none (the header check fails) */
}

static uint64_t bochs_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)bochs_mmio_read_byte(opaque, addr + i) << (8 * i);
    }
    return v;
}

static void bochs_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    BochsDisplay *s = opaque;
    if (addr >= BOCHS_MMIO_VGA && addr < BOCHS_MMIO_VGA + 0x20) {
        for (unsigned i = 0; i < size; i++) {
            bochs_vga_write(s, 0x3c0 + addr + i - BOCHS_MMIO_VGA, val >> (8 * i));
        }
    } else if (addr >= BOCHS_MMIO_DISPI && addr < BOCHS_MMIO_DISPI + 2 * VBE_DISPI_INDEX_NB) {
        unsigned off = addr - BOCHS_MMIO_DISPI;
        if (size == 1) {
            /* one byte of a 16-bit register */
            uint16_t old = bochs_dispi_read(s, off / 2);
            unsigned shift = 8 * (off & 1);
            val = (old & ~(0xffu << shift)) | (val & 0xff) << shift;
        } else if (off & 1) {
            log_mask_printf(LOG_GUEST_ERROR, "bochs-display: misaligned DISPI write\n");
            return;
        }
        bochs_dispi_write(s, off / 2, val);
        if (size > 2 && off / 2 + 1 < VBE_DISPI_INDEX_NB) {
            bochs_dispi_write(s, off / 2 + 1, val >> 16);
        }
    } else if (addr == BOCHS_MMIO_QEXT + 4 && size == 4) {
        if (val == BOCHS_FB_BIG_ENDIAN || val == BOCHS_FB_LITTLE_ENDIAN) {
            s->big_endian = val == BOCHS_FB_BIG_ENDIAN;
            s->full_update = true;
        }
    }
}

static const MemoryRegionOps bochs_mmio_ops = {
    .read = bochs_mmio_read,
    .write = bochs_mmio_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

/* ---- ports 0x1ce (index) and 0x1cf (data; 0x1d0 too, as on x86 QEMU) ---- */

static uint64_t bochs_vbe_port_read(void *opaque, uint64_t addr, unsigned size)
{
    BochsDisplay *s = opaque;
    return addr == 0 ? s->index : bochs_dispi_read(s, s->index);
}

static void bochs_vbe_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    BochsDisplay *s = opaque;
    if (addr == 0) {
        s->index = val;
    } else {
        bochs_dispi_write(s, s->index, val);
    }
}

static const MemoryRegionOps bochs_vbe_port_ops = {
    .read = bochs_vbe_port_read,
    .write = bochs_vbe_port_write,
    .min_access_size = 1,
    .max_access_size = 2,
};

/* ---- life cycle ---- */

/* Power-on register state: disabled, ID 0xb0c5, little-endian, (VGA) blanked. */
static void bochs_reset_state(BochsDisplay *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    s->regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->index = 0;
    s->big_endian = false;
    s->misc = 0;
    s->ar_index = 0;
    s->ar_flip = false;
    bochs_update_mode(s);
}

static void bochs_reset(Object *obj)
{
    BochsDisplay *s = (BochsDisplay *)obj;
    if (s->con) {
        bochs_reset_state(s);
    }
}

static uint64_t pow2_ceil(uint64_t v)
{
    uint64_t p = 1;
    while (p < v) {
        p <<= 1;
    }
    return p;
}

static bool bochs_realize(Object *obj, Error **errp)
{
    BochsDisplay *s = (BochsDisplay *)obj;
    const BochsDisplayClass *bc = (const BochsDisplayClass *)obj->cls;
    s->has_vga = bc->has_vga;
    uint64_t size = s->has_vga ? (uint64_t)s->vgamem_mb * MiB : s->vgamem;
    if (size < 1 * MiB || size > 1024 * MiB) {
        error_setg(errp, "%s: video memory must be between 1 MiB and 1 GiB",
                   obj->cls->name);
        return false;
    }
    if (s->has_vga) {
        if (!system_io) {
            error_setg(errp, "VGA: this machine has no I/O port space for ports 0x1ce/0x1cf");
            return false;
        }
        FlatView *view = address_space_get_view(&address_space_io);
        bool busy = flatview_lookup(view, VBE_PORT_INDEX) != NULL;
        flatview_unref(view);
        if (busy) {
            error_setg(errp, "VGA: I/O port 0x%x is already in use (only one VGA)",
                       VBE_PORT_INDEX);
            return false;
        }
    }
    if (!memory_region_init_ram(&s->vram, s->has_vga ? "vga.vram" : "bochs-display.vram",
                                pow2_ceil(size), errp)) {
        return false;
    }
    pci_register_bar(&s->pci, 0, PCI_BAR_PREFETCH, &s->vram);
    memory_region_init_io(&s->mmio, s->has_vga ? "vga.mmio" : "bochs-display.mmio",
                          &bochs_mmio_ops, s, BOCHS_MMIO_SIZE);
    pci_register_bar(&s->pci, 2, 0, &s->mmio);
    if (s->has_vga) {
        memory_region_init_io(&s->vbe_io, "vbe", &bochs_vbe_port_ops, s, 3);
        memory_region_add_subregion(system_io, VBE_PORT_INDEX, &s->vbe_io);
    }
    s->con = console_graphic_new(obj->cls->name, &bochs_gfx_ops, s);
    bochs_reset_state(s);
    return true;
}

static void bochs_unrealize(Object *obj)
{
    BochsDisplay *s = (BochsDisplay *)obj;
    if (s->has_vga) {
        memory_region_del_subregion(system_io, &s->vbe_io);
    }
    console_destroy(s->con);
    s->con = NULL;
    g_clear_pointer(&s->shadow, g_free);
}

static const Property bochs_display_props[] = {
    DEFINE_PROP_SIZE("vgamem", BochsDisplay, vgamem, 16 * MiB),
    DEFINE_PROP_END,
};

static const Property vga_props[] = {
    DEFINE_PROP_UINT32("vgamem_mb", BochsDisplay, vgamem_mb, 16),
    DEFINE_PROP_END,
};

static const BochsDisplayClass bochs_display_class = {
    .pc = {
        .oc = {
            .name = "bochs-display",
            .parent = &pci_device_class.oc,
            .instance_size = sizeof(BochsDisplay),
            .props = bochs_display_props,
            .desc = "Bochs VBE display (linear framebuffer, DISPI registers in MMIO)",
            .user_creatable = true,
            .bus_type = "PCI",
            .realize = bochs_realize,
            .unrealize = bochs_unrealize,
            .reset = bochs_reset,
        },
        .vendor_id = 0x1234, .device_id = 0x1111, .revision = 2,
        .subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100,
        .class_code = 0x038000,
    },
};

static const BochsDisplayClass vga_class = {
    .pc = {
        .oc = {
            .name = "VGA",
            .parent = &pci_device_class.oc,
            .instance_size = sizeof(BochsDisplay),
            .props = vga_props,
            .desc = "Standard VGA (Bochs VBE modes only; no legacy VGA modes)",
            .user_creatable = true,
            .bus_type = "PCI",
            .realize = bochs_realize,
            .unrealize = bochs_unrealize,
            .reset = bochs_reset,
        },
        .vendor_id = 0x1234, .device_id = 0x1111, .revision = 2,
        .subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100,
        .class_code = 0x030000,
    },
    .has_vga = true,
};

static void __attribute__((constructor)) bochs_display_register(void)
{
    object_class_register(&bochs_display_class.pc.oc);
    object_class_register(&vga_class.pc.oc);
}
