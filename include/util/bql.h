#ifndef UTIL_BQL_H
#define UTIL_BQL_H

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>

/* The big lock: held for all device emulation, released while a vCPU runs guest code. */
void bql_lock(void);
void bql_unlock(void);
/* True when the calling thread holds the big lock. */
bool bql_locked(void);
/* Waits on cond, releasing the big lock meanwhile (caller holds it). */
void bql_cond_wait(pthread_cond_t *cond);
/* As bql_cond_wait, giving up at the absolute CLOCK_MONOTONIC time deadline_ns. */
void bql_cond_timedwait(pthread_cond_t *cond, int64_t deadline_ns);
/* Initialises a condition variable that uses CLOCK_MONOTONIC. */
void bql_cond_init(pthread_cond_t *cond);

#endif
