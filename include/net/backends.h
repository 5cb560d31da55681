#ifndef NET_BACKENDS_H
#define NET_BACKENDS_H

/* The back end constructors behind -netdev TYPE (the files under net/); shared inside net/ only. */

#include <stdbool.h>
#include "net/net.h"

/* Creates the back end id from its options (every key it knows is marked used). */
typedef bool NetdevInitFn(Opts *opts, const char *id, Error **errp);

NetdevInitFn net_init_user;
NetdevInitFn net_init_tap;
NetdevInitFn net_init_socket;
NetdevInitFn net_init_stream;
NetdevInitFn net_init_dgram;

/* -netdev user helpers for the monitor (net/slirp.c). */
bool net_slirp_hostfwd_add(const char *netdev, const char *rule, Error **errp);
/* Removes a rule "[tcp|udp]:[hostaddr]:hostport" (*found tells whether it existed); false
 * with *errp when the rule or the netdev is bad. */
bool net_slirp_hostfwd_remove(const char *netdev, const char *rule, bool *found, Error **errp);
/* "info usernet" text for every user back end (g_free it). */
char *net_slirp_usernet_info(void);

#endif
