/* logger.c — hand-written JSON output, libc only. */
#include "logger.h"

#include <math.h>

void write_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

void write_json_number(FILE *f, double x) {
    if (isfinite(x)) fprintf(f, "%.17g", x);
    else fputs("null", f);
}

static void write_samples(FILE *f, const Sample *s, size_t n) {
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",{\"t\":" : "{\"t\":", f);
        write_json_number(f, s[i].t);
        fputs(",\"C\":", f);
        write_json_number(f, s[i].C);
        fputs(",\"D\":", f);
        write_json_number(f, s[i].D);
        fputs(",\"Q\":", f);
        write_json_number(f, s[i].Q);
        fputs(",\"R\":", f);
        write_json_number(f, s[i].R);
        fputc('}', f);
    }
    fputc(']', f);
}

static void write_session(FILE *f, const Session *session) {
    for (size_t i = 0; i < session->n; i++) {
        write_json_string(f, session->keys[i]);
        fputc(':', f);
        write_json_string(f, session->values[i]);
        fputc(',', f);
    }
}

static const char *TAIL = "\"anomalies\":[],\"scores\":{\"stability\":0,\"response\":0,\"quality\":0,\"final\":0}}";

void write_session_log(FILE *f, const Session *session, const Sample *samples, size_t n) {
    fputc('{', f);
    write_session(f, session);
    fputs("\"samples\":", f);
    write_samples(f, samples, n);
    fputc(',', f);
    fputs(TAIL, f);
}

void write_segmented_log(FILE *f, const Session *session, const Segment *segments, size_t n) {
    fputs("{\"spec_version\":\"v2\",", f);
    write_session(f, session);
    fputs("\"segments\":[", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",{\"segment_id\":" : "{\"segment_id\":", f);
        write_json_string(f, segments[i].segment_id);
        fputs(",\"label\":", f);
        write_json_string(f, segments[i].label);
        fputs(",\"samples\":", f);
        write_samples(f, segments[i].samples, segments[i].n_samples);
        fputc('}', f);
    }
    fputs("],", f);
    fputs(TAIL, f);
}

void write_status(FILE *f, const char *id, const char *key, const char *message) {
    fputs("{\"id\":", f);
    if (id) write_json_string(f, id);
    else fputs("null", f);
    fputc(',', f);
    write_json_string(f, key);
    fputc(':', f);
    write_json_string(f, message);
    fputc('}', f);
}
