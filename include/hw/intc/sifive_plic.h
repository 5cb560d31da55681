#ifndef HW_INTC_SIFIVE_PLIC_H
#define HW_INTC_SIFIVE_PLIC_H

#include <stdint.h>
#include "hw/core/object.h"
#include "hw/core/memory.h"
#include "hw/core/irq.h"

/* SiFive PLIC with level-triggered sources 1..num-sources (source 0 does not exist):
 * priorities at 0x0 + 4*id, pending bits at 0x1000, enables at 0x2000 + 0x80*ctx,
 * threshold at 0x200000 + 0x1000*ctx and claim/complete 4 bytes above it. */
typedef struct SifivePlic {
    Object obj;
    MemoryRegion mmio;          /* aperture-size bytes */
    uint32_t num_sources;       /* property "num-sources": the highest source id */
    uint32_t num_contexts;      /* property "num-contexts" */
    uint32_t num_priorities;    /* property "num-priorities": highest priority level */
    uint64_t aperture_size;     /* property "aperture-size" */
    IrqLine *in;                /* num_sources + 1 input lines; in[id] is source id */
    IrqLine **out;              /* per context, connected with sifive_plic_connect */
    unsigned words;             /* 32-bit words of each source bitmap */
    uint32_t *priority;         /* per source */
    uint32_t *level;            /* input line levels (bitmap) */
    uint32_t *pending;          /* gateway pending bits (bitmap) */
    uint32_t *claimed;          /* claimed, not yet completed (bitmap) */
    uint32_t *enable;           /* num_contexts bitmaps */
    uint32_t *threshold;        /* per context */
} SifivePlic;

#define SIFIVE_PLIC_PENDING_BASE 0x1000
#define SIFIVE_PLIC_ENABLE_BASE 0x2000
#define SIFIVE_PLIC_ENABLE_STRIDE 0x80
#define SIFIVE_PLIC_CONTEXT_BASE 0x200000
#define SIFIVE_PLIC_CONTEXT_STRIDE 0x1000

extern const ObjectClass sifive_plic_class;

/* Routes context ctx's interrupt output (after realize). */
void sifive_plic_connect(SifivePlic *s, unsigned ctx, IrqLine *line);

#endif
