/* json.c — a minimal recursive-descent JSON reader. Numbers go through strtod (correctly rounded in glibc). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t i;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *p, const char *what) {
    if (p->err && p->err[0] == '\0') snprintf(p->err, p->errlen, "invalid JSON at byte %zu: %s", p->i, what);
    return -1;
}

static void ws(parser *p) {
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r') p->i++;
}

static int value(parser *p, json *out);

static void put_utf8(char *buf, size_t *n, unsigned cp) {
    if (cp < 0x80) buf[(*n)++] = (char)cp;
    else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(parser *p, unsigned *cp) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(p, "bad \\u escape");
    }
    *cp = v;
    return 0;
}

static int string(parser *p, char **out) {
    p->i++; /* opening quote */
    size_t end = p->i;
    while (p->s[end] && p->s[end] != '"') end += (p->s[end] == '\\' && p->s[end + 1]) ? 2 : 1;
    /* Decoding never lengthens: an escape is at least as long as the UTF-8 it stands for. */
    char *buf = malloc(end - p->i + 1);
    size_t n = 0;
    if (!buf) return fail(p, "out of memory");
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c == '"') break;
        if (c == '\0') { free(buf); p->i--; return fail(p, "unterminated string"); }
        if (c < 0x20) { free(buf); return fail(p, "control character in string"); }
        if (c != '\\') { buf[n++] = (char)c; continue; }
        char e = p->s[p->i++];
        unsigned cp;
        switch (e) {
            case '"': buf[n++] = '"'; break;
            case '\\': buf[n++] = '\\'; break;
            case '/': buf[n++] = '/'; break;
            case 'b': buf[n++] = '\b'; break;
            case 'f': buf[n++] = '\f'; break;
            case 'n': buf[n++] = '\n'; break;
            case 'r': buf[n++] = '\r'; break;
            case 't': buf[n++] = '\t'; break;
            case 'u':
                if (hex4(p, &cp)) { free(buf); return -1; }
                if (cp >= 0xD800 && cp < 0xDC00 && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
                    unsigned lo;
                    p->i += 2;
                    if (hex4(p, &lo)) { free(buf); return -1; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((lo - 0xDC00) & 0x3FF);
                }
                put_utf8(buf, &n, cp);
                break;
            default: free(buf); return fail(p, "bad escape");
        }
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int literal(parser *p, const char *lit) {
    size_t n = strlen(lit);
    if (strncmp(p->s + p->i, lit, n) != 0) return fail(p, "expected a value");
    p->i += n;
    return 0;
}

static int push(parser *p, json *out, size_t *cap, json *item, char *key) {
    if (out->len == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        json *items = realloc(out->items, *cap * sizeof *items);
        char **keys = out->type == JSON_OBJ ? realloc(out->keys, *cap * sizeof *keys) : NULL;
        if (!items || (out->type == JSON_OBJ && !keys)) return fail(p, "out of memory");
        out->items = items;
        if (keys) out->keys = keys;
    }
    out->items[out->len] = *item;
    if (out->type == JSON_OBJ) out->keys[out->len] = key;
    out->len++;
    return 0;
}

static int container(parser *p, json *out, json_type type, char close) {
    size_t cap = 0;
    out->type = type;
    p->i++;
    ws(p);
    if (p->s[p->i] == close) { p->i++; return 0; }
    for (;;) {
        char *key = NULL;
        json item = {0};
        ws(p);
        if (type == JSON_OBJ) {
            if (p->s[p->i] != '"') return fail(p, "expected a string key");
            if (string(p, &key)) return -1;
            ws(p);
            if (p->s[p->i++] != ':') { free(key); return fail(p, "expected :"); }
        }
        if (value(p, &item) || push(p, out, &cap, &item, key)) { free(key); json_free(&item); return -1; }
        ws(p);
        char c = p->s[p->i++];
        if (c == close) return 0;
        if (c != ',') return fail(p, type == JSON_OBJ ? "expected , or }" : "expected , or ]");
    }
}

static int value(parser *p, json *out) {
    ws(p);
    char c = p->s[p->i];
    memset(out, 0, sizeof *out);
    if (c == '{') return container(p, out, JSON_OBJ, '}');
    if (c == '[') return container(p, out, JSON_ARR, ']');
    if (c == '"') { out->type = JSON_STR; return string(p, &out->str); }
    if (c == 't') { out->type = JSON_BOOL; out->num = 1; return literal(p, "true"); }
    if (c == 'f') { out->type = JSON_BOOL; return literal(p, "false"); }
    if (c == 'n') { out->type = JSON_NULL; return literal(p, "null"); }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        out->type = JSON_NUM;
        out->num = strtod(p->s + p->i, &end);
        if (end == p->s + p->i) return fail(p, "bad number");
        p->i = (size_t)(end - p->s);
        return 0;
    }
    return fail(p, c ? "expected a value" : "unexpected end");
}

int json_parse(const char *text, json *out, char *err, size_t errlen) {
    parser p = {text, 0, err, errlen};
    if (err && errlen) err[0] = '\0';
    if (value(&p, out)) { json_free(out); return -1; }
    ws(&p);
    if (text[p.i] != '\0') { json_free(out); return fail(&p, "trailing characters"); }
    return 0;
}

void json_free(json *v) {
    if (!v) return;
    free(v->str);
    for (size_t i = 0; i < v->len; i++) {
        json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

const json *json_get(const json *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJ) return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

double json_num(const json *obj, const char *key, double fallback) {
    const json *v = json_get(obj, key);
    return v && v->type == JSON_NUM ? v->num : fallback;
}

const char *json_str(const json *obj, const char *key) {
    const json *v = json_get(obj, key);
    return v && v->type == JSON_STR ? v->str : NULL;
}
