#ifndef HW_CORE_IRQ_H
#define HW_CORE_IRQ_H

/* An interrupt line: the source calls irq_set; the sink's handler sees (opaque, n, level).
 * Called with the big lock held. */
typedef void IrqHandler(void *opaque, int n, int level);

typedef struct IrqLine {
    IrqHandler *handler;
    void *opaque;
    int n;
} IrqLine;

/* Allocates count lines numbered 0..count-1 feeding handler (g_free the array). */
IrqLine *irq_lines_new(IrqHandler *handler, void *opaque, int count);
/* Sets the level of line (a NULL line is not connected and ignores the call). */
static inline void irq_set(IrqLine *line, int level)
{
    if (line) {
        line->handler(line->opaque, line->n, level);
    }
}
static inline void irq_raise(IrqLine *line) { irq_set(line, 1); }
static inline void irq_lower(IrqLine *line) { irq_set(line, 0); }
static inline void irq_pulse(IrqLine *line) { irq_set(line, 1); irq_set(line, 0); }

#endif
