/*
 * Monitor commands of the display: screendump, set_password, query-vnc (info vnc).
 */
#include <string.h>
#include <glib.h>
#include "ui/console.h"
#include "ui/display.h"
#include "ui/ui-monitor.h"

static JsonNode *node_take_object(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, o);
    return n;
}

JsonNode *qmp_screendump(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *filename = monitor_arg_str(args, "filename", "");
    const char *device = monitor_arg_str(args, "device", NULL);
    const char *format = monitor_arg_str(args, "format", "ppm");
    int index = -1;

    if (device) {
        for (unsigned i = 0; i < console_count(); i++) {
            if (!strcmp(console_label(console_by_index(i)), device)) {
                index = i;
            }
        }
        if (index < 0) {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", device);
            return NULL;
        }
    }
    if (monitor_arg_has(args, "head") && monitor_arg_int(args, "head", 0) != 0) {
        error_setg(errp, "There is no head %" G_GINT64_FORMAT " on the console",
                   monitor_arg_int(args, "head", 0));
        return NULL;
    }
    if (!console_screendump(filename, format, index, errp)) {
        return NULL;
    }
    return node_take_object(json_object_new());
}

JsonNode *qmp_set_password(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *protocol = monitor_arg_str(args, "protocol", "");
    const char *connected = monitor_arg_str(args, "connected", "keep");

    if (strcmp(protocol, "vnc")) {
        error_setg(errp, "Parameter 'protocol' does not accept value '%s'", protocol);
        return NULL;
    }
    if (strcmp(connected, "keep")) {
        error_setg(errp, "VNC supports only 'connected':'keep'");
        return NULL;
    }
    if (!vnc_set_password(monitor_arg_str(args, "password", ""), errp)) {
        return NULL;
    }
    return node_take_object(json_object_new());
}

static void add_client(const char *host, int port, void *opaque)
{
    JsonObject *c = json_object_new();
    char *service = g_strdup_printf("%d", port);

    json_object_set_string_member(c, "host", host ? host : "");
    json_object_set_string_member(c, "service", service);
    json_object_set_string_member(c, "family", "ipv4");
    json_object_set_boolean_member(c, "websocket", false);
    json_array_add_object_element(opaque, c);
    g_free(service);
}

JsonNode *qmp_query_vnc(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    const char *host, *auth;
    char service[16];
    JsonArray *clients;

    json_object_set_boolean_member(o, "enabled", vnc_enabled());
    if (!vnc_enabled()) {
        return node_take_object(o);
    }
    vnc_server_info(&host, service, sizeof(service), &auth);
    json_object_set_string_member(o, "host", host);
    json_object_set_string_member(o, "service", service);
    json_object_set_string_member(o, "family", "ipv4");
    json_object_set_string_member(o, "auth", auth);
    clients = json_array_new();
    vnc_foreach_client(add_client, clients);
    json_object_set_array_member(o, "clients", clients);
    return node_take_object(o);
}

void hmp_print_vnc(Monitor *mon, JsonNode *result)
{
    JsonObject *o = json_node_get_object(result);
    JsonArray *clients;

    if (!json_object_get_boolean_member(o, "enabled")) {
        monitor_printf(mon, "Server: disabled\n");
        return;
    }
    monitor_printf(mon, "Server:\n     address: %s:%s\n        auth: %s\n",
                   json_object_get_string_member(o, "host"),
                   json_object_get_string_member(o, "service"),
                   json_object_get_string_member(o, "auth"));
    clients = json_object_get_array_member(o, "clients");
    if (json_array_get_length(clients) == 0) {
        monitor_printf(mon, "Client: none\n");
    }
    for (guint i = 0; i < json_array_get_length(clients); i++) {
        JsonObject *c = json_array_get_object_element(clients, i);

        monitor_printf(mon, "Client:\n     address: %s:%s\n",
                       json_object_get_string_member(c, "host"),
                       json_object_get_string_member(c, "service"));
    }
}
