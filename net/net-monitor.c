/* Monitor commands of the netdev layer: info network, info usernet, set_link, hostfwd_add,
 * hostfwd_remove, netdev_add, netdev_del (QEMU's shapes and texts), info netstats. */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "monitor/monitor-internal.h"
#include "net/backends.h"
#include "net/net.h"

static JsonNode *net_node_string_take(char *s)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);

    json_node_set_string(n, s);
    g_free(s);
    return n;
}

static JsonNode *net_node_empty(void)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, json_object_new());
    return n;
}

static void net_print_client(GString *out, NetClientState *nc)
{
    g_string_append_printf(out, "%s: index=0,type=%s,%s\n", nc->name, nc->info->type,
                           nc->info_str ? nc->info_str : "");
    if (nc->filters && nc->filters->len) {
        g_string_append(out, "filters:\n");
        for (guint i = 0; i < nc->filters->len; i++) {
            g_string_append_printf(out, "  - %s: type=filter-dump\n",
                                   net_filter_id(g_ptr_array_index(nc->filters, i)));
        }
    }
}

/* NICs with the back end behind them, then back ends without a NIC. */
JsonNode *hmp_info_network(Monitor *mon, JsonObject *args, Error **errp)
{
    GPtrArray *all = net_clients();
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < all->len; i++) {
        NetClientState *nc = g_ptr_array_index(all, i);
        bool nic = !nc->is_netdev;

        if (!nc->peer || nic) {
            net_print_client(out, nc);
        }
        if (nc->peer && nic) {
            g_string_append(out, " \\ ");
            net_print_client(out, nc->peer);
        }
    }
    return net_node_string_take(g_string_free(out, FALSE));
}

/* Vessel's addition: the per-client counters of the netdev layer. */
JsonNode *hmp_info_netstats(Monitor *mon, JsonObject *args, Error **errp)
{
    GPtrArray *all = net_clients();
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < all->len; i++) {
        NetClientState *nc = g_ptr_array_index(all, i);
        const NetStats *st = &nc->stats;

        g_string_append_printf(out, "%s: rx_packets=%" PRIu64 " rx_bytes=%" PRIu64
                               " rx_dropped=%" PRIu64 " tx_packets=%" PRIu64
                               " tx_bytes=%" PRIu64 " tx_dropped=%" PRIu64 " queued=%u\n",
                               nc->name, st->rx_packets, st->rx_bytes, st->rx_dropped,
                               st->tx_packets, st->tx_bytes, st->tx_dropped,
                               net_client_queued(nc));
    }
    return net_node_string_take(g_string_free(out, FALSE));
}

JsonNode *hmp_info_usernet(Monitor *mon, JsonObject *args, Error **errp)
{
    return net_node_string_take(net_slirp_usernet_info());
}

JsonNode *qmp_set_link(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *name = monitor_arg_str(args, "name", "");
    NetClientState *nc = net_client_find(name);

    if (!nc) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", name);
        return NULL;
    }
    net_client_set_link(nc, json_object_get_boolean_member(args, "up"));
    return net_node_empty();
}

/* hostfwd_add [netdev_id] rule: with one argument it is the rule. */
JsonNode *hmp_hostfwd_add(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *a1 = monitor_arg_str(args, "arg1", NULL);
    const char *a2 = monitor_arg_str(args, "arg2", NULL);

    if (!net_slirp_hostfwd_add(a2 ? a1 : NULL, a2 ? a2 : a1, errp)) {
        return NULL;
    }
    return net_node_string_take(g_strdup(""));
}

JsonNode *hmp_hostfwd_remove(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *a1 = monitor_arg_str(args, "arg1", NULL);
    const char *a2 = monitor_arg_str(args, "arg2", NULL);
    const char *rule = a2 ? a2 : a1;
    bool found;

    if (!net_slirp_hostfwd_remove(a2 ? a1 : NULL, rule, &found, errp)) {
        return NULL;
    }
    return net_node_string_take(g_strdup_printf("host forwarding rule for %s %s\n", rule,
                                                found ? "removed" : "not found"));
}

typedef struct NetOptBuilder {
    GString *s;
    Error **errp;
    bool failed;
} NetOptBuilder;

static void net_opt_member(JsonObject *o, const gchar *key, JsonNode *n, gpointer opaque)
{
    NetOptBuilder *b = opaque;
    GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_NONE;
    char *text, **parts;

    if (b->failed || !strcmp(key, "type")) {
        return;
    }
    if (t == G_TYPE_STRING) {
        text = g_strdup(json_node_get_string(n));
    } else if (t == G_TYPE_INT64) {
        text = g_strdup_printf("%" PRId64, json_node_get_int(n));
    } else if (t == G_TYPE_BOOLEAN) {
        text = g_strdup(json_node_get_boolean(n) ? "on" : "off");
    } else {
        error_setg(b->errp, "Invalid parameter type for '%s', expected: string", key);
        b->failed = true;
        return;
    }
    parts = g_strsplit(text, ",", -1);
    g_free(text);
    text = g_strjoinv(",,", parts);
    g_strfreev(parts);
    g_string_append_printf(b->s, ",%s=%s", key, text);
    g_free(text);
}

/* QMP: {"type": T, "id": ID, ...}; HMP: "T,id=ID,..." in type. */
JsonNode *qmp_netdev_add(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *type = monitor_arg_str(args, "type", "");
    NetOptBuilder b = { .errp = errp };
    bool ok;

    if (!mon->qmp) {
        ok = strcmp(type, "help") && net_netdev_add_str(type, errp);
        if (!strcmp(type, "help")) {
            error_setg(errp, "Parameter 'type' does not accept value 'help'");
        }
        return ok ? net_node_empty() : NULL;
    }
    if (strchr(type, ',') || !strcmp(type, "help")) {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        return NULL;
    }
    b.s = g_string_new(NULL);
    g_string_append_printf(b.s, "type=%s", type);
    json_object_foreach_member(args, net_opt_member, &b);
    ok = !b.failed && net_netdev_add_str(b.s->str, errp);
    g_string_free(b.s, TRUE);
    return ok ? net_node_empty() : NULL;
}

JsonNode *qmp_netdev_del(Monitor *mon, JsonObject *args, Error **errp)
{
    return net_netdev_del(monitor_arg_str(args, "id", ""), errp) ? net_node_empty() : NULL;
}
