/* json.h — a minimal JSON reader (RFC 8259) for protocol cases and reference files; libc only. */
#ifndef RTT_JSON_H
#define RTT_JSON_H

#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } json_type;

typedef struct json {
    json_type type;
    double num;          /* JSON_NUM; JSON_BOOL as 0/1 */
    char *str;           /* JSON_STR (UTF-8, NUL-terminated) */
    size_t len;          /* JSON_ARR / JSON_OBJ: number of items */
    char **keys;         /* JSON_OBJ: keys[i] names items[i] */
    struct json *items;  /* JSON_ARR / JSON_OBJ */
} json;

/* Parses text into *out. Returns 0 on success; else -1 with a message in err (size errlen). */
int json_parse(const char *text, json *out, char *err, size_t errlen);
void json_free(json *v);
/* Member of an object, or NULL. */
const json *json_get(const json *obj, const char *key);
/* Number of a member, or fallback when absent or not a number. */
double json_num(const json *obj, const char *key, double fallback);
/* String of a member, or NULL. */
const char *json_str(const json *obj, const char *key);

#endif
