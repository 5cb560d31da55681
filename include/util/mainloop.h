#ifndef UTIL_MAINLOOP_H
#define UTIL_MAINLOOP_H

#include <stdbool.h>

/* The glib main loop on the main thread. Callbacks from glib sources take the big lock
 * through mainloop_run's dispatch (the main thread holds it except while polling). */
void mainloop_init(void);
/* Runs until mainloop_quit; returns the process exit status set there. */
int mainloop_run(void);
void mainloop_quit(int status);
/* Wakes the main loop from another thread (e.g. after timer_mod on a vCPU thread). */
void mainloop_wakeup(void);
/* True on the main loop thread. */
bool mainloop_is_main_thread(void);

#endif
