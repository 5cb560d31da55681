/* Interrupt lines. */
#include <glib.h>
#include "hw/core/irq.h"

IrqLine *irq_lines_new(IrqHandler *handler, void *opaque, int count)
{
    IrqLine *lines = g_new0(IrqLine, count);
    for (int i = 0; i < count; i++) {
        lines[i].handler = handler;
        lines[i].opaque = opaque;
        lines[i].n = i;
    }
    return lines;
}
