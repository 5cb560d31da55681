/*
 * HMP: the human monitor. A line editor (cursor keys, Ctrl-a/e/b/f/k/u/d, backspace,
 * history) turns input into command lines; each line is tokenised against the command's
 * argument spec from the shared table and its result printed.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/monitor-internal.h"
#include "util/option.h"

/* ---- line editor ---- */

void hmp_show_prompt(Monitor *mon)
{
    monitor_write(mon, HMP_PROMPT, strlen(HMP_PROMPT));
    if (mon->rl.len) {
        monitor_write(mon, mon->rl.line, mon->rl.len);
    }
}

void hmp_greet(Monitor *mon)
{
    mon->greeted = true;
    monitor_printf(mon, "QEMU %d.%d.%d monitor (%s) - type 'help' for more information\n",
                   QMP_VERSION_MAJOR, QMP_VERSION_MINOR, QMP_VERSION_MICRO, QMP_PACKAGE);
    hmp_show_prompt(mon);
}

void readline_destroy(ReadLine *rl)
{
    for (int i = 0; i < rl->hist_count; i++) {
        g_free(rl->history[i]);
        rl->history[i] = NULL;
    }
    rl->hist_count = 0;
}

/* Reprints the line and puts the terminal cursor where rl->cursor is. */
static void rl_redraw(Monitor *mon)
{
    ReadLine *rl = &mon->rl;
    GString *s = g_string_new("\r" HMP_PROMPT);

    /* One write, so that a client never sees half a redraw. */
    g_string_append_len(s, rl->line, rl->len);
    g_string_append(s, "\033[K");
    if (rl->len > rl->cursor) {
        g_string_append_printf(s, "\033[%dD", rl->len - rl->cursor);
    }
    monitor_write(mon, s->str, s->len);
    g_string_free(s, TRUE);
}

static void rl_insert(Monitor *mon, char c)
{
    ReadLine *rl = &mon->rl;

    if (rl->len >= HMP_MAX_LINE - 1) {
        return;
    }
    if (rl->cursor == rl->len) {
        rl->line[rl->len++] = c;
        rl->cursor++;
        monitor_write(mon, &c, 1);
        return;
    }
    memmove(rl->line + rl->cursor + 1, rl->line + rl->cursor, rl->len - rl->cursor);
    rl->line[rl->cursor++] = c;
    rl->len++;
    rl_redraw(mon);
}

static void rl_delete(Monitor *mon, int at, int n)
{
    ReadLine *rl = &mon->rl;

    if (at < 0 || n <= 0 || at + n > rl->len) {
        return;
    }
    memmove(rl->line + at, rl->line + at + n, rl->len - at - n);
    rl->len -= n;
    if (rl->cursor > at) {
        rl->cursor = MAX(at, rl->cursor - n);
    }
    rl_redraw(mon);
}

static void rl_move(Monitor *mon, int to)
{
    ReadLine *rl = &mon->rl;

    to = CLAMP(to, 0, rl->len);
    if (to != rl->cursor) {
        char seq[16];

        snprintf(seq, sizeof(seq), "\033[%d%c", abs(to - rl->cursor),
                 to > rl->cursor ? 'C' : 'D');
        monitor_write(mon, seq, strlen(seq));
        rl->cursor = to;
    }
}

static void rl_set_line(Monitor *mon, const char *s)
{
    ReadLine *rl = &mon->rl;
    size_t n = MIN(strlen(s), (size_t)HMP_MAX_LINE - 1);

    memcpy(rl->line, s, n);
    rl->len = rl->cursor = (int)n;
    rl_redraw(mon);
}

static void rl_history(Monitor *mon, int dir)
{
    ReadLine *rl = &mon->rl;
    int pos = rl->hist_pos + dir;

    if (pos < 0 || pos > rl->hist_count) {
        return;
    }
    rl->hist_pos = pos;
    rl_set_line(mon, pos == rl->hist_count ? "" : rl->history[pos]);
}

static void rl_add_history(ReadLine *rl, const char *line)
{
    if (!line[0] || (rl->hist_count && !strcmp(rl->history[rl->hist_count - 1], line))) {
        return;
    }
    if (rl->hist_count == HMP_HISTORY) {
        g_free(rl->history[0]);
        memmove(rl->history, rl->history + 1, (HMP_HISTORY - 1) * sizeof(rl->history[0]));
        rl->hist_count--;
    }
    rl->history[rl->hist_count++] = g_strdup(line);
}

static void rl_enter(Monitor *mon)
{
    ReadLine *rl = &mon->rl;
    char *line = g_strndup(rl->line, rl->len);

    monitor_write(mon, "\r\n", 2);
    rl_add_history(rl, line);
    rl->len = rl->cursor = 0;
    rl->hist_pos = rl->hist_count;
    hmp_execute(mon, line);
    g_free(line);
    if (!mon->closed) {
        hmp_show_prompt(mon);
    }
}

/* The final byte of an escape sequence (ESC [ ... or ESC O ...). */
static void rl_escape(Monitor *mon, char c)
{
    ReadLine *rl = &mon->rl;

    switch (c) {
    case 'A':
        rl_history(mon, -1);
        break;
    case 'B':
        rl_history(mon, 1);
        break;
    case 'C':
        rl_move(mon, rl->cursor + 1);
        break;
    case 'D':
        rl_move(mon, rl->cursor - 1);
        break;
    case 'H':
        rl_move(mon, 0);
        break;
    case 'F':
        rl_move(mon, rl->len);
        break;
    case '~':
        if (rl->esc_param == 1 || rl->esc_param == 7) {
            rl_move(mon, 0);
        } else if (rl->esc_param == 4 || rl->esc_param == 8) {
            rl_move(mon, rl->len);
        } else if (rl->esc_param == 3) {
            rl_delete(mon, rl->cursor, 1);
        }
        break;
    default:
        break;
    }
}

void hmp_feed(Monitor *mon, const uint8_t *buf, size_t len)
{
    ReadLine *rl = &mon->rl;

    for (size_t i = 0; i < len && !mon->closed; i++) {
        uint8_t c = buf[i];

        if (rl->esc_state == 1) {
            rl->esc_state = (c == '[' || c == 'O') ? 2 : 0;
            rl->esc_param = 0;
            continue;
        }
        if (rl->esc_state == 2) {
            if (c >= '0' && c <= '9') {
                rl->esc_param = MIN(rl->esc_param * 10 + (c - '0'), 1000);
                continue;
            }
            rl->esc_state = 0;
            rl_escape(mon, c);
            continue;
        }
        if (c == '\n' && rl->last_cr) {
            rl->last_cr = false;
            continue;
        }
        rl->last_cr = c == '\r';
        switch (c) {
        case '\r':
        case '\n':
            rl_enter(mon);
            break;
        case 0x1b:
            rl->esc_state = 1;
            break;
        case 0x7f:
        case 0x08:
            if (rl->cursor > 0) {
                rl_delete(mon, rl->cursor - 1, 1);
            }
            break;
        case 0x01:
            rl_move(mon, 0);
            break;
        case 0x05:
            rl_move(mon, rl->len);
            break;
        case 0x02:
            rl_move(mon, rl->cursor - 1);
            break;
        case 0x06:
            rl_move(mon, rl->cursor + 1);
            break;
        case 0x04:
            rl_delete(mon, rl->cursor, 1);
            break;
        case 0x0b:
            rl_delete(mon, rl->cursor, rl->len - rl->cursor);
            break;
        case 0x15:
            rl_delete(mon, 0, rl->cursor);
            break;
        case 0x10:
            rl_history(mon, -1);
            break;
        case 0x0e:
            rl_history(mon, 1);
            break;
        default:
            if (c >= 0x20 || c == '\t') {
                rl_insert(mon, c == '\t' ? ' ' : (char)c);
            }
            break;
        }
    }
}

/* ---- tokenising ---- */

typedef struct Lexer {
    const char *p;
} Lexer;

static void lex_skip_space(Lexer *lx)
{
    while (*lx->p && isspace((unsigned char)*lx->p)) {
        lx->p++;
    }
}

/* A word, or a "quoted string" with \" \\ \n escapes; NULL at the end of the line. */
static char *lex_word(Lexer *lx, Error **errp)
{
    GString *s;

    lex_skip_space(lx);
    if (!*lx->p) {
        return NULL;
    }
    s = g_string_new(NULL);
    if (*lx->p == '"') {
        lx->p++;
        while (*lx->p && *lx->p != '"') {
            if (*lx->p == '\\' && lx->p[1]) {
                lx->p++;
                g_string_append_c(s, *lx->p == 'n' ? '\n' : *lx->p);
            } else {
                g_string_append_c(s, *lx->p);
            }
            lx->p++;
        }
        if (*lx->p != '"') {
            error_setg(errp, "unterminated string");
            g_string_free(s, TRUE);
            return NULL;
        }
        lx->p++;
    } else {
        while (*lx->p && !isspace((unsigned char)*lx->p)) {
            g_string_append_c(s, *lx->p++);
        }
    }
    return g_string_free(s, FALSE);
}

/* Integer expressions: numbers (0x hex, 0 octal, decimal), + - * / % & |, unary -, ( ). */
typedef struct Expr {
    const char *p;
    Error **errp;
    bool failed;
} Expr;

static uint64_t expr_sum(Expr *e, int depth);

static void expr_space(Expr *e)
{
    while (*e->p == ' ' || *e->p == '\t') {
        e->p++;
    }
}

static uint64_t expr_fail(Expr *e, const char *msg)
{
    if (!e->failed) {
        error_setg(e->errp, "%s", msg);
        e->failed = true;
    }
    return 0;
}

static uint64_t expr_unary(Expr *e, int depth)
{
    uint64_t v;
    char *end;

    if (depth > 32) {
        return expr_fail(e, "expression too complex");
    }
    expr_space(e);
    if (*e->p == '-') {
        e->p++;
        return -expr_unary(e, depth + 1);
    }
    if (*e->p == '+') {
        e->p++;
        return expr_unary(e, depth + 1);
    }
    if (*e->p == '(') {
        e->p++;
        v = expr_sum(e, depth + 1);
        expr_space(e);
        if (*e->p != ')') {
            return expr_fail(e, "')' expected");
        }
        e->p++;
        return v;
    }
    if (!*e->p) {
        return expr_fail(e, "unexpected end of expression");
    }
    if (!isdigit((unsigned char)*e->p)) {
        return expr_fail(e, "invalid char in expression");
    }
    errno = 0;
    v = strtoull(e->p, &end, 0);
    if (errno) {
        return expr_fail(e, "number too large");
    }
    e->p = end;
    return v;
}

static uint64_t expr_product(Expr *e, int depth)
{
    uint64_t v = expr_unary(e, depth);

    for (;;) {
        char op;
        uint64_t r;

        expr_space(e);
        op = *e->p;
        if (op != '*' && op != '/' && op != '%' && op != '&') {
            return v;
        }
        e->p++;
        r = expr_unary(e, depth);
        if ((op == '/' || op == '%') && r == 0) {
            return expr_fail(e, "division by zero");
        }
        v = op == '*' ? v * r : op == '/' ? v / r : op == '%' ? v % r : (v & r);
    }
}

static uint64_t expr_sum(Expr *e, int depth)
{
    uint64_t v = expr_product(e, depth);

    for (;;) {
        char op;
        uint64_t r;

        expr_space(e);
        op = *e->p;
        if (op != '+' && op != '-' && op != '|') {
            return v;
        }
        e->p++;
        r = expr_product(e, depth);
        v = op == '+' ? v + r : op == '-' ? v - r : (v | r);
    }
}

/* Evaluates the whole of str. */
static bool hmp_eval(const char *str, uint64_t *out, Error **errp)
{
    Expr e = { .p = str, .errp = errp };
    uint64_t v = expr_sum(&e, 0);

    if (!e.failed && *e.p) {
        expr_fail(&e, "invalid char in expression");
    }
    if (e.failed) {
        return false;
    }
    *out = v;
    return true;
}

/* Parses the arguments of line (after the command name) into args by cmd's spec. */
static bool hmp_parse_args(const MonitorCommand *cmd, const char *rest, JsonObject *args,
                           Error **errp)
{
    char **specs = g_strsplit(cmd->args, ",", -1);
    Lexer lx = { .p = rest };
    bool ok = true;

    for (int i = 0; specs[i] && ok; i++) {
        const char *spec = specs[i];
        const char *colon = strchr(spec, ':');
        char *name;
        char type;
        bool optional;
        char *word;

        if (!colon) {
            continue;
        }
        name = g_strndup(spec, colon - spec);
        type = colon[1];
        optional = colon[2] == '?';
        lex_skip_space(&lx);
        if (type == 'F') {
            if (*lx.p == '/') {
                lx.p++;
                word = lex_word(&lx, errp);
                json_object_set_string_member(args, name, word ? word : "");
                g_free(word);
            }
            g_free(name);
            continue;
        }
        if (type == 'R') {
            char *s = g_strstrip(g_strdup(lx.p));

            lx.p += strlen(lx.p);
            if (s[0]) {
                json_object_set_string_member(args, name, s);
            } else if (!optional) {
                error_setg(errp, "missing argument '%s'", name);
                ok = false;
            }
            g_free(s);
            g_free(name);
            continue;
        }
        if (!*lx.p) {
            if (!optional) {
                error_setg(errp, type == 'i' ? "unexpected end of expression"
                                             : "missing argument '%s'", name);
                ok = false;
            }
            g_free(name);
            continue;
        }
        word = lex_word(&lx, errp);
        if (!word) {
            ok = false;
        } else if (type == 'i') {
            uint64_t v;

            ok = hmp_eval(word, &v, errp);
            if (ok) {
                json_object_set_int_member(args, name, (int64_t)v);
            }
        } else if (type == 'b') {
            bool v;

            ok = parse_bool(word, &v, errp);
            if (ok) {
                json_object_set_boolean_member(args, name, v);
            }
        } else if (type == 'j') {
            uint64_t v;

            if (!strcmp(word, "true") || !strcmp(word, "false")) {
                json_object_set_boolean_member(args, name, word[0] == 't');
            } else if (isdigit((unsigned char)word[0]) && parse_uint64(word, &v, NULL)) {
                json_object_set_int_member(args, name, (int64_t)v);
            } else {
                json_object_set_string_member(args, name, word);
            }
        } else {
            json_object_set_string_member(args, name, word);
        }
        g_free(word);
        g_free(name);
    }
    g_strfreev(specs);
    lex_skip_space(&lx);
    if (ok && *lx.p) {
        error_setg(errp, "extraneous characters at the end of line");
        ok = false;
    }
    return ok;
}

/* ---- help ---- */

static void hmp_help_line(Monitor *mon, const MonitorCommand *cmd)
{
    monitor_printf(mon, "%s %s\n", cmd->hmp, cmd->help);
}

/* help [command]: every command, or those whose name (or info subcommand) matches. */
static void hmp_help(Monitor *mon, const char *what, bool info_only)
{
    bool found = false;

    for (const MonitorCommand *cmd = monitor_commands; cmd->handler; cmd++) {
        bool is_info;

        if (!cmd->hmp) {
            continue;
        }
        is_info = g_str_has_prefix(cmd->hmp, "info ");
        if (info_only != is_info) {
            continue;
        }
        if (what) {
            char **names = g_strsplit(cmd->hmp + (is_info ? 5 : 0), "|", -1);
            bool match = false;

            for (int i = 0; names[i]; i++) {
                match |= !strcmp(names[i], what);
            }
            g_strfreev(names);
            if (!match) {
                continue;
            }
        }
        hmp_help_line(mon, cmd);
        found = true;
    }
    if (!info_only && (!what || !strcmp(what, "info"))) {
        monitor_printf(mon, "info [subcommand] -- show various information about the "
                            "system state\n");
        found = true;
    }
    if (what && !found) {
        monitor_printf(mon, "unknown command: '%s'\n", what);
    }
}

/* ---- execution ---- */

void hmp_execute(Monitor *mon, const char *line)
{
    Lexer lx = { .p = line };
    const MonitorCommand *cmd;
    const char *start;
    char *name;
    JsonObject *args;
    JsonNode *result;
    Error *err = NULL;

    lex_skip_space(&lx);
    start = lx.p;
    while (*lx.p && !isspace((unsigned char)*lx.p) && *lx.p != '/') {
        lx.p++;
    }
    if (lx.p == start) {
        return;
    }
    name = g_strndup(start, lx.p - start);
    if (!strcmp(name, "help") || !strcmp(name, "?")) {
        char *what = lex_word(&lx, NULL);

        if (what && !strcmp(what, "info")) {
            hmp_help(mon, NULL, true);
        } else {
            hmp_help(mon, what, false);
        }
        g_free(what);
        g_free(name);
        return;
    }
    if (!strcmp(name, "info")) {
        char *sub = lex_word(&lx, NULL);

        g_free(name);
        if (!sub) {
            hmp_help(mon, NULL, true);
            return;
        }
        name = g_strdup_printf("info %s", sub);
        g_free(sub);
    }
    cmd = monitor_find_hmp(name);
    if (!cmd) {
        monitor_printf(mon, "unknown command: '%s'\n", name);
        g_free(name);
        return;
    }
    args = json_object_new();
    if (!hmp_parse_args(cmd, lx.p, args, &err)) {
        monitor_printf(mon, "%s\nTry \"help %s\" for more information\n",
                       error_get_pretty(err), name);
        error_free(err);
        json_object_unref(args);
        g_free(name);
        return;
    }
    g_free(name);
    result = cmd->handler(mon, args, &err);
    json_object_unref(args);
    if (!result) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
        return;
    }
    if (cmd->print) {
        cmd->print(mon, result);
    } else if (JSON_NODE_HOLDS_VALUE(result) &&
               json_node_get_value_type(result) == G_TYPE_STRING) {
        monitor_puts(mon, json_node_get_string(result));
    }
    json_node_unref(result);
}
