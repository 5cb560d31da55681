/* The glib main loop: the main thread holds the big lock except while it polls. */
#include <glib.h>
#include "util/mainloop.h"
#include "util/bql.h"
#include "util/timer.h"

static GPollFunc mainloop_default_poll;
static pthread_t mainloop_thread;
static bool mainloop_quit_requested;
static int mainloop_status;

static gint mainloop_poll(GPollFD *fds, guint nfds, gint timeout)
{
    bql_unlock();
    gint r = mainloop_default_poll(fds, nfds, timeout);
    bql_lock();
    return r;
}

void mainloop_init(void)
{
    if (!bql_locked()) {
        bql_lock();
    }
    mainloop_thread = pthread_self();
    GMainContext *ctx = g_main_context_default();
    mainloop_default_poll = g_main_context_get_poll_func(ctx);
    g_main_context_set_poll_func(ctx, mainloop_poll);
    timers_init();
}

int mainloop_run(void)
{
    while (!mainloop_quit_requested) {
        g_main_context_iteration(NULL, TRUE);
    }
    return mainloop_status;
}

void mainloop_quit(int status)
{
    mainloop_status = status;
    mainloop_quit_requested = true;
    mainloop_wakeup();
}

void mainloop_wakeup(void)
{
    g_main_context_wakeup(NULL);
}

bool mainloop_is_main_thread(void)
{
    return pthread_equal(pthread_self(), mainloop_thread);
}
