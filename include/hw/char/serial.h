#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"
#include "util/chardev.h"
#include "util/timer.h"

/* NS16550A UART with 16-byte FIFOs, byte registers at offsets 0..7 (mirrored across the
 * region). Transmission is immediate: THR is empty again as soon as it is written. */
typedef struct Serial16550 {
    Object obj;
    MemoryRegion mmio;          /* SERIAL_MMIO_SIZE bytes */
    IrqLine *irq;               /* set by the board */
    Chardev *chr;               /* property "chardev"; NULL discards output */
    Timer *timeout_timer;       /* character timeout of the receive FIFO */
    uint16_t divider;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    bool thr_ipending;          /* THR-empty interrupt armed and not yet acknowledged */
    bool timeout_ipending;
    bool input_stalled;         /* can_read returned 0: call chr_accept_input when space frees */
    uint8_t rx_fifo[16];
    unsigned rx_head, rx_count;
} Serial16550;

#define SERIAL_MMIO_SIZE 0x100
/* Input clock of the virt board's UART (the device tree's clock-frequency). */
#define SERIAL_CLOCK_HZ 3686400

enum {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
    UART_IER = 1, UART_DLM = 1,
    UART_IIR = 2, UART_FCR = 2,
    UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

enum {
    UART_IER_RDI = 0x01, UART_IER_THRI = 0x02, UART_IER_RLSI = 0x04, UART_IER_MSI = 0x08,
    UART_IIR_NO_INT = 0x01, UART_IIR_MSI = 0x00, UART_IIR_THRI = 0x02, UART_IIR_RDI = 0x04,
    UART_IIR_RLSI = 0x06, UART_IIR_CTI = 0x0c, UART_IIR_FIFO = 0xc0,
    UART_FCR_FE = 0x01, UART_FCR_CLEAR_RX = 0x02, UART_FCR_CLEAR_TX = 0x04,
    UART_LCR_DLAB = 0x80,
    UART_MCR_DTR = 0x01, UART_MCR_RTS = 0x02, UART_MCR_OUT1 = 0x04, UART_MCR_OUT2 = 0x08,
    UART_MCR_LOOP = 0x10,
    UART_LSR_DR = 0x01, UART_LSR_OE = 0x02, UART_LSR_PE = 0x04, UART_LSR_FE = 0x08,
    UART_LSR_BI = 0x10, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40,
    UART_MSR_DCTS = 0x01, UART_MSR_DDSR = 0x02, UART_MSR_TERI = 0x04, UART_MSR_DDCD = 0x08,
    UART_MSR_CTS = 0x10, UART_MSR_DSR = 0x20, UART_MSR_RI = 0x40, UART_MSR_DCD = 0x80,
};

extern const ObjectClass serial_class;

#endif
