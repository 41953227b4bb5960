/* runner.c — file mode: run the reference vector and write a session log.
 * Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "json.h"
#include "logger.h"

/* Runs one {initial_state, dt, steps} object; returns a malloc'd array of *n samples, or NULL with err set. */
static Sample *run(const json *spec, size_t *n, const char **err) {
    const json *s0 = json_get(spec, "initial_state");
    const json *steps = json_get(spec, "steps");
    const json *dt = json_get(spec, "dt");
    if (!s0 || s0->type != JSON_OBJ || !steps || steps->type != JSON_NUM || steps->num < 0 || !dt || dt->type != JSON_NUM) {
        *err = "initial_state, dt and steps are required";
        return NULL;
    }
    CorridorState s = make_initial_state();
    s.t = json_num(s0, "t", 0);
    s.C = json_num(s0, "C", 0);
    s.D = json_num(s0, "D", 0);
    s.Q = json_num(s0, "Q", 0);
    s.R = json_num(s0, "R", 0);
    *n = (size_t)steps->num + 1;
    Sample *out = malloc(*n * sizeof *out);
    if (!out) {
        *err = "out of memory";
        return NULL;
    }
    run_simulation(*n - 1, dt->num, s, out);
    return out;
}

static void answer(FILE *out, const json *c) {
    const char *id = json_str(c, "id");
    const char *version = json_str(c, "spec_version");
    const json *sess = json_get(c, "session");
    const char *err = NULL;
    if (!sess || sess->type != JSON_OBJ) {
        write_status(out, id, "errored", "session must be an object");
        return;
    }
    /* Copy the session's string members. */
    const char **keys = calloc(sess->len + 1, sizeof *keys), **values = calloc(sess->len + 1, sizeof *values);
    Session session = {0, keys, values};
    for (size_t i = 0; keys && values && i < sess->len; i++) {
        if (sess->items[i].type != JSON_STR) continue;
        keys[session.n] = sess->keys[i];
        values[session.n++] = sess->items[i].str;
    }
    if (version && strcmp(version, "v1") == 0) {
        size_t n;
        Sample *samples = run(c, &n, &err);
        if (samples) write_session_log(out, &session, samples, n);
        else write_status(out, id, "errored", err);
        free(samples);
    } else if (version && strcmp(version, "v2") == 0) {
        const json *segs = json_get(c, "segments");
        size_t count = segs && segs->type == JSON_ARR ? segs->len : 0;
        Segment *segments = calloc(count + 1, sizeof *segments);
        size_t done = 0;
        for (; segments && done < count; done++) {
            const json *g = &segs->items[done];
            segments[done].segment_id = json_str(g, "segment_id") ? json_str(g, "segment_id") : "";
            segments[done].label = json_str(g, "label") ? json_str(g, "label") : "";
            segments[done].samples = run(g, &segments[done].n_samples, &err);
            if (!segments[done].samples) break;
        }
        if (!segs || segs->type != JSON_ARR) write_status(out, id, "errored", "segments must be an array");
        else if (done < count) write_status(out, id, "errored", err ? err : "out of memory");
        else write_segmented_log(out, &session, segments, count);
        for (size_t i = 0; segments && i < count; i++) free((void *)segments[i].samples);
        free(segments);
    } else {
        write_status(out, id, "skipped", "only spec_version v1 and v2 are supported");
    }
    free(keys);
    free(values);
}

static int protocol_mode(void) {
    char *line = NULL, errbuf[160];
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) != -1) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        json c;
        if (json_parse(line, &c, errbuf, sizeof errbuf) != 0) {
            write_status(stdout, NULL, "errored", errbuf);
        } else {
            answer(stdout, &c);
            json_free(&c);
        }
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(line);
    return 0;
}

static int file_mode(const char *path) {
    CorridorState s0 = make_initial_state();
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    const char *keys[] = {"session_id", "timestamp", "device", "scenario", "difficulty"};
    const char *values[] = {"RTT-C-TEST", stamp, s0.device, s0.scenario, s0.difficulty};
    Session session = {5, keys, values};
    Sample samples[4];
    run_simulation(3, 0.1, s0, samples);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    write_session_log(f, &session, samples, 4);
    fputc('\n', f);
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

int main(int argc, char **argv) {
    const char *out = "rtt_c_session.json";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--protocol") == 0) return protocol_mode();
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
    }
    return file_mode(out);
}
