/* Timers on the host monotonic clock, run from the main loop with the big lock held. */
#include <time.h>
#include <glib.h>
#include "util/timer.h"
#include "util/bql.h"
#include "util/mainloop.h"

struct Timer {
    TimerCb *cb;
    void *opaque;
    int64_t expire_ns;
    bool pending;
};

/* Armed timers sorted by expiry; protected by the big lock. */
static GList *active_timers;

int64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

Timer *timer_new(TimerCb *cb, void *opaque)
{
    Timer *t = g_new0(Timer, 1);
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

static gint timer_cmp(gconstpointer a, gconstpointer b)
{
    const Timer *ta = a, *tb = b;
    return ta->expire_ns < tb->expire_ns ? -1 : ta->expire_ns > tb->expire_ns;
}

void timer_del(Timer *t)
{
    if (t->pending) {
        active_timers = g_list_remove(active_timers, t);
        t->pending = false;
    }
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    bool was_first = active_timers && active_timers->data == t;
    timer_del(t);
    t->expire_ns = expire_ns;
    t->pending = true;
    active_timers = g_list_insert_sorted(active_timers, t, timer_cmp);
    if ((active_timers->data == t || was_first) && !mainloop_is_main_thread()) {
        mainloop_wakeup();
    }
}

bool timer_pending(const Timer *t)
{
    return t->pending;
}

int64_t timer_expire_time(const Timer *t)
{
    return t->pending ? t->expire_ns : -1;
}

void timer_free(Timer *t)
{
    if (t) {
        timer_del(t);
        g_free(t);
    }
}

int timers_run_expired(void)
{
    int64_t now = clock_ns();
    while (active_timers) {
        Timer *t = active_timers->data;
        if (t->expire_ns > now) {
            int64_t ms = (t->expire_ns - now + 999999) / 1000000;
            return ms > G_MAXINT ? G_MAXINT : (int)ms;
        }
        active_timers = g_list_delete_link(active_timers, active_timers);
        t->pending = false;
        t->cb(t->opaque);
        now = clock_ns();
    }
    return -1;
}

static int timers_next_timeout_ms(void)
{
    if (!active_timers) {
        return -1;
    }
    int64_t delta = ((Timer *)active_timers->data)->expire_ns - clock_ns();
    if (delta <= 0) {
        return 0;
    }
    int64_t ms = (delta + 999999) / 1000000;
    return ms > G_MAXINT ? G_MAXINT : (int)ms;
}

static gboolean timer_source_prepare(GSource *source, gint *timeout)
{
    *timeout = timers_next_timeout_ms();
    return *timeout == 0;
}

static gboolean timer_source_check(GSource *source)
{
    return timers_next_timeout_ms() == 0;
}

static gboolean timer_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    timers_run_expired();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_source_prepare,
    .check = timer_source_check,
    .dispatch = timer_source_dispatch,
};

void timers_init(void)
{
    GSource *src = g_source_new(&timer_source_funcs, sizeof(GSource));
    g_source_set_priority(src, G_PRIORITY_HIGH);
    g_source_attach(src, NULL);
    g_source_unref(src);
}
