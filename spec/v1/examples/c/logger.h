/* logger.h — writes RTT-Inside session logs as JSON (v1 with samples, v2 with segments). */
#ifndef RTT_LOGGER_H
#define RTT_LOGGER_H

#include <stdio.h>

#include "engine.h"

/* The session's string fields, copied verbatim to the root of the log. */
typedef struct {
    size_t n;
    const char *const *keys;
    const char *const *values;
} Session;

typedef struct {
    const char *segment_id, *label;
    const Sample *samples;
    size_t n_samples;
} Segment;

void write_json_string(FILE *f, const char *s);
/* A number that parses back to the same double (17 significant digits); null for NaN/Infinity. */
void write_json_number(FILE *f, double x);
/* A v1 log on one line (no trailing newline). */
void write_session_log(FILE *f, const Session *session, const Sample *samples, size_t n);
/* A v2 log on one line (no trailing newline). */
void write_segmented_log(FILE *f, const Session *session, const Segment *segments, size_t n);
/* {"id":…,"<key>":"<message>"} — key is "errored" or "skipped". */
void write_status(FILE *f, const char *id, const char *key, const char *message);

#endif
