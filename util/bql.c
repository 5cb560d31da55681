/* The big lock around device emulation. */
#include <time.h>
#include "util/bql.h"

static pthread_mutex_t bql_mutex = PTHREAD_MUTEX_INITIALIZER;
static __thread bool bql_held;

void bql_lock(void)
{
    pthread_mutex_lock(&bql_mutex);
    bql_held = true;
}

void bql_unlock(void)
{
    bql_held = false;
    pthread_mutex_unlock(&bql_mutex);
}

bool bql_locked(void)
{
    return bql_held;
}

void bql_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

void bql_cond_wait(pthread_cond_t *cond)
{
    bql_held = false;
    pthread_cond_wait(cond, &bql_mutex);
    bql_held = true;
}

void bql_cond_timedwait(pthread_cond_t *cond, int64_t deadline_ns)
{
    struct timespec ts = {
        .tv_sec = deadline_ns / 1000000000,
        .tv_nsec = deadline_ns % 1000000000,
    };
    bql_held = false;
    pthread_cond_timedwait(cond, &bql_mutex, &ts);
    bql_held = true;
}
