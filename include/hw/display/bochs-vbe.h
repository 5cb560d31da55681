#ifndef HW_DISPLAY_BOCHS_VBE_H
#define HW_DISPLAY_BOCHS_VBE_H

/*
 * The Bochs VBE "DISPI" interface as "bochs-display" and "VGA" (PCI 1234:1111) expose it:
 * framebuffer in BAR 0; BAR 2 (4 KiB MMIO) holds the EDID blob at 0x000, the VGA ports
 * 0x3c0-0x3df at 0x400, the DISPI registers at 0x500 + 2 * index (16 bits each) and QEMU's
 * extended registers at 0x600 (region size, framebuffer endianness). "VGA" also answers the
 * DISPI index/data ports 0x1ce/0x1cf.
 */

enum {
    VBE_DISPI_INDEX_ID, VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_YRES, VBE_DISPI_INDEX_BPP,
    VBE_DISPI_INDEX_ENABLE, VBE_DISPI_INDEX_BANK, VBE_DISPI_INDEX_VIRT_WIDTH,
    VBE_DISPI_INDEX_VIRT_HEIGHT, VBE_DISPI_INDEX_X_OFFSET, VBE_DISPI_INDEX_Y_OFFSET,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K, VBE_DISPI_INDEX_NB,
};

enum {
    VBE_DISPI_DISABLED = 0x00, VBE_DISPI_ENABLED = 0x01, VBE_DISPI_GETCAPS = 0x02,
    VBE_DISPI_8BIT_DAC = 0x20, VBE_DISPI_LFB_ENABLED = 0x40, VBE_DISPI_NOCLEARMEM = 0x80,
};

#define VBE_DISPI_ID0 0xb0c0
#define VBE_DISPI_ID5 0xb0c5
#define VBE_DISPI_MAX_XRES 16000
#define VBE_DISPI_MAX_YRES 12000
#define VBE_DISPI_MAX_BPP 32

#define BOCHS_MMIO_SIZE 0x1000
#define BOCHS_MMIO_EDID 0x000
#define BOCHS_MMIO_VGA 0x400          /* port 0x3c0 + n at 0x400 + n */
#define BOCHS_MMIO_DISPI 0x500
#define BOCHS_MMIO_QEXT 0x600
#define BOCHS_QEXT_SIZE 8
#define BOCHS_FB_LITTLE_ENDIAN 0x1e1e1e1e
#define BOCHS_FB_BIG_ENDIAN 0xbebebebe
#define VBE_PORT_INDEX 0x1ce
#define VBE_PORT_DATA 0x1cf

#endif
