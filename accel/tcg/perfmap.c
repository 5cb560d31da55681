/* -perfmap: /tmp/perf-PID.map names the JIT's host code for perf (perf report's symbols). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include "accel/tcg/tcg.h"
#include "util/error.h"

static bool perfmap_wanted;
static FILE *perfmap;
static pthread_mutex_t perfmap_lock = PTHREAD_MUTEX_INITIALIZER;

void tcg_perfmap_enable(void)
{
    perfmap_wanted = true;
}

bool tcg_perfmap_enabled(void)
{
    return __atomic_load_n(&perfmap_wanted, __ATOMIC_RELAXED);
}

void tcg_perfmap_add(const void *start, size_t size, const char *arch, uint64_t guest_pc)
{
    pthread_mutex_lock(&perfmap_lock);
    if (perfmap_wanted && !perfmap) {
        /* opened at the first code, so that a daemonized process names its own pid */
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        perfmap = fopen(path, "w");
        if (!perfmap) {
            warn_report("-perfmap: cannot create %s; no perf map", path);
            __atomic_store_n(&perfmap_wanted, false, __ATOMIC_RELAXED);
        }
    }
    if (perfmap) {
        fprintf(perfmap, "%" PRIxPTR " %zx %s-0x%" PRIx64 "\n", (uintptr_t)start, size, arch,
                guest_pc);
        fflush(perfmap);
    }
    pthread_mutex_unlock(&perfmap_lock);
}
