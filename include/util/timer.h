#ifndef UTIL_TIMER_H
#define UTIL_TIMER_H

#include <stdint.h>
#include <stdbool.h>

/* Host monotonic clock in nanoseconds; every guest timer follows it. */
int64_t clock_ns(void);

/* A one-shot callback on the main loop thread, run with the big lock held. */
typedef struct Timer Timer;
typedef void TimerCb(void *opaque);

Timer *timer_new(TimerCb *cb, void *opaque);
/* Arms (or re-arms) the timer to fire at the absolute clock_ns() time expire_ns.
 * May be called from any thread that holds the big lock. */
void timer_mod(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);
int64_t timer_expire_time(const Timer *t);
void timer_free(Timer *t);

/* Runs expired timers; returns the ms until the next one (-1 for none). Main loop only. */
int timers_run_expired(void);
/* Installs the timer source into the default GMainContext. */
void timers_init(void);

#endif
