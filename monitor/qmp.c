/*
 * QMP wire protocol (QEMU's docs/interop/qmp-spec): greeting, capabilities negotiation,
 * commands with "execute"/"arguments"/"id", responses and errors, CRLF-terminated JSON.
 * The input is split into messages by a small streamer that bounds nesting and size before
 * json-glib parses anything.
 */
#include <stdio.h>
#include <string.h>
#include "monitor/monitor-internal.h"

void json_streamer_init(JsonStreamer *js)
{
    memset(js, 0, sizeof(*js));
    js->buf = g_string_new(NULL);
}

void json_streamer_destroy(JsonStreamer *js)
{
    if (js->buf) {
        g_string_free(js->buf, TRUE);
        js->buf = NULL;
    }
}

static void json_streamer_reset(JsonStreamer *js)
{
    g_string_truncate(js->buf, 0);
    if (js->buf->allocated_len > 65536) {
        g_string_free(js->buf, TRUE);
        js->buf = g_string_new(NULL);
    }
    js->depth = 0;
    js->in_string = js->escape = js->scalar = false;
    js->too_deep = js->too_big = false;
}

void qmp_send(Monitor *mon, JsonNode *msg)
{
    JsonGenerator *gen = json_generator_new();
    gsize len;
    char *text;

    json_generator_set_pretty(gen, mon->pretty);
    json_generator_set_root(gen, msg);
    text = json_generator_to_data(gen, &len);
    monitor_write(mon, text, len);
    monitor_write(mon, "\r\n", 2);
    g_free(text);
    g_object_unref(gen);
}

/* Sends {"error": {...}} with the request's id (may be NULL) and consumes err. */
static void qmp_send_error(Monitor *mon, ErrorClass cls, const char *desc, JsonNode *id)
{
    JsonObject *resp = json_object_new();
    JsonObject *e = json_object_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(e, "class", error_class_name(cls));
    json_object_set_string_member(e, "desc", desc);
    json_object_set_object_member(resp, "error", e);
    if (id) {
        json_object_set_member(resp, "id", json_node_copy(id));
    }
    json_node_take_object(node, resp);
    qmp_send(mon, node);
    json_node_unref(node);
}

static void qmp_send_err(Monitor *mon, Error *err, JsonNode *id)
{
    qmp_send_error(mon, error_get_class(err), error_get_pretty(err), id);
    error_free(err);
}

void qmp_greet(Monitor *mon)
{
    JsonObject *qmp = json_object_new();
    JsonObject *version = json_object_new();
    JsonObject *qemu = json_object_new();
    JsonObject *greeting = json_object_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_object_set_int_member(qemu, "micro", QMP_VERSION_MICRO);
    json_object_set_int_member(qemu, "minor", QMP_VERSION_MINOR);
    json_object_set_int_member(qemu, "major", QMP_VERSION_MAJOR);
    json_object_set_object_member(version, "qemu", qemu);
    json_object_set_string_member(version, "package", QMP_PACKAGE);
    json_object_set_object_member(qmp, "version", version);
    /* No out-of-band execution: every command runs in order on the main loop. */
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(greeting, "QMP", qmp);
    json_node_take_object(node, greeting);
    qmp_send(mon, node);
    json_node_unref(node);
}

/* Runs one parsed request. */
static void qmp_dispatch(Monitor *mon, JsonNode *root)
{
    JsonObject *req, *args = NULL;
    JsonNode *id, *exec, *argn, *result;
    const MonitorCommand *cmd;
    const char *name;
    Error *err = NULL;
    GList *members;

    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR, "QMP input must be a JSON object", NULL);
        return;
    }
    req = json_node_get_object(root);
    id = json_object_get_member(req, "id");
    members = json_object_get_members(req);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;

        if (strcmp(m, "execute") && strcmp(m, "arguments") && strcmp(m, "id")) {
            char *desc = g_strdup_printf("QMP input member '%s' is unexpected", m);

            qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR, desc, id);
            g_free(desc);
            g_list_free(members);
            return;
        }
    }
    g_list_free(members);
    exec = json_object_get_member(req, "execute");
    if (!exec) {
        qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR, "QMP input lacks member 'execute'", id);
        return;
    }
    if (!JSON_NODE_HOLDS_VALUE(exec) || json_node_get_value_type(exec) != G_TYPE_STRING) {
        qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR,
                       "QMP input member 'execute' must be a string", id);
        return;
    }
    argn = json_object_get_member(req, "arguments");
    if (argn) {
        if (!JSON_NODE_HOLDS_OBJECT(argn)) {
            qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR,
                           "QMP input member 'arguments' must be an object", id);
            return;
        }
        args = json_node_get_object(argn);
    }
    name = json_node_get_string(exec);
    if (!mon->negotiated && strcmp(name, "qmp_capabilities")) {
        qmp_send_error(mon, ERROR_CLASS_COMMAND_NOT_FOUND,
                       "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        return;
    }
    if (mon->negotiated && !strcmp(name, "qmp_capabilities")) {
        qmp_send_error(mon, ERROR_CLASS_COMMAND_NOT_FOUND,
                       "Capabilities negotiation is already complete, command ignored", id);
        return;
    }
    cmd = monitor_find_qmp(name);
    if (!cmd) {
        char *desc = g_strdup_printf("The command %s has not been found", name);

        qmp_send_error(mon, ERROR_CLASS_COMMAND_NOT_FOUND, desc, id);
        g_free(desc);
        return;
    }
    if (!args) {
        args = json_object_new();
    } else {
        json_object_ref(args);
    }
    if (!monitor_check_args(cmd, args, &err)) {
        qmp_send_err(mon, err, id);
        json_object_unref(args);
        return;
    }
    result = cmd->handler(mon, args, &err);
    json_object_unref(args);
    if (!result) {
        qmp_send_err(mon, err, id);
        return;
    }
    if (!mon->closed) {
        JsonObject *resp = json_object_new();
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);

        json_object_set_member(resp, "return", result);
        if (id) {
            json_object_set_member(resp, "id", json_node_copy(id));
        }
        json_node_take_object(node, resp);
        qmp_send(mon, node);
        json_node_unref(node);
    } else {
        json_node_unref(result);
    }
}

static void qmp_handle_message(Monitor *mon, const char *text, size_t len)
{
    JsonParser *parser = json_parser_new();
    GError *gerr = NULL;

    if (!json_parser_load_from_data(parser, text, len, &gerr)) {
        char *desc = g_strdup_printf("JSON parse error, %s", gerr->message);

        qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR, desc, NULL);
        g_free(desc);
        g_error_free(gerr);
    } else {
        JsonNode *root = json_parser_get_root(parser);

        if (!root) {
            qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR, "QMP input must be a JSON object",
                           NULL);
        } else {
            qmp_dispatch(mon, root);
        }
    }
    g_object_unref(parser);
}

static void qmp_refuse(Monitor *mon, const char *what)
{
    qmp_send_error(mon, ERROR_CLASS_GENERIC_ERROR, what, NULL);
}

static void qmp_message_done(Monitor *mon)
{
    JsonStreamer *js = &mon->js;
    char *text = g_strndup(js->buf->str, js->buf->len);
    size_t len = js->buf->len;

    json_streamer_reset(js);
    qmp_handle_message(mon, text, len);
    g_free(text);
}

void qmp_feed(Monitor *mon, const uint8_t *buf, size_t len)
{
    JsonStreamer *js = &mon->js;

    for (size_t i = 0; i < len && !mon->closed; i++) {
        uint8_t c = buf[i];
        bool skipping = js->too_deep || js->too_big;

        if (js->in_string) {
            if (js->escape) {
                js->escape = false;
            } else if (c == '\\') {
                js->escape = true;
            } else if (c == '"') {
                js->in_string = false;
            } else if (c < 0x20) {
                /* A raw control character cannot be inside a JSON string: drop the
                 * message here so a broken line does not swallow the next ones. */
                if (!skipping) {
                    char *stray;

                    g_string_append_c(js->buf, c);
                    stray = g_strdup_printf("JSON parse error, stray '%.*s'",
                                            (int)MIN(js->buf->len, 64), js->buf->str);
                    json_streamer_reset(js);
                    qmp_refuse(mon, stray);
                    g_free(stray);
                } else {
                    json_streamer_reset(js);
                }
                continue;
            }
            if (!skipping) {
                g_string_append_c(js->buf, c);
            }
            if (!js->in_string && js->depth == 0 && !skipping) {
                qmp_message_done(mon);
            }
        } else if (c == '"') {
            js->in_string = true;
            if (!skipping) {
                g_string_append_c(js->buf, c);
            }
        } else if (c == '{' || c == '[') {
            if (js->scalar) {
                qmp_message_done(mon);
            }
            js->depth++;
            if (js->depth > QMP_MAX_NESTING && !skipping) {
                g_string_truncate(js->buf, 0);
                js->too_deep = true;
                qmp_refuse(mon, "JSON nesting depth limit exceeded");
            } else if (!skipping) {
                g_string_append_c(js->buf, c);
            }
        } else if (c == '}' || c == ']') {
            if (js->scalar) {
                qmp_message_done(mon);
            }
            if (js->depth == 0) {
                char desc[40];

                snprintf(desc, sizeof(desc), "JSON parse error, stray '%c'", c);
                qmp_refuse(mon, desc);
                continue;
            }
            js->depth--;
            if (!skipping) {
                g_string_append_c(js->buf, c);
            }
            if (js->depth == 0) {
                if (skipping) {
                    json_streamer_reset(js);
                } else {
                    qmp_message_done(mon);
                }
            }
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (js->scalar) {
                qmp_message_done(mon);
            } else if (c == '\n' && skipping) {
                /* A refused message ends at the latest with its line. */
                json_streamer_reset(js);
            } else if (js->depth > 0 && !skipping) {
                g_string_append_c(js->buf, c);
            }
        } else {
            if (js->depth == 0) {
                js->scalar = true;
            }
            if (!skipping) {
                g_string_append_c(js->buf, c);
            }
        }
        if (js->buf->len > QMP_MAX_MESSAGE && !js->too_big) {
            bool was_deep = js->too_deep;

            g_string_truncate(js->buf, 0);
            js->too_big = true;
            js->scalar = false;
            if (!was_deep) {
                qmp_refuse(mon, "JSON token size limit exceeded");
            }
            if (js->depth == 0 && !js->in_string) {
                json_streamer_reset(js);
            }
        }
    }
}
