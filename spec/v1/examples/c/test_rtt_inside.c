/* test_rtt_inside.c — the engine reproduces spec/v1/reference_samples.json within 1e-9 (exit 0 on success).
 * Usage: test_rtt_inside [path/to/reference_samples.json]   (default ../../reference_samples.json) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "json.h"
#include "logger.h"

static int failures = 0;
#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            failures++;                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                  \
            fputc('\n', stderr);                           \
        }                                                  \
    } while (0)

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_reference_samples(const char *path) {
    char *text = slurp(path), err[160];
    json ref;
    CHECK(text != NULL, "cannot read %s", path);
    if (!text) return;
    CHECK(json_parse(text, &ref, err, sizeof err) == 0 && ref.type == JSON_ARR, "%s: %s", path, err);
    Sample got[4];
    run_simulation(3, 0.1, make_initial_state(), got);
    CHECK(ref.len == 4, "expected 4 reference samples, found %zu", ref.len);
    static const char *fields[] = {"t", "C", "D", "Q", "R"};
    for (size_t i = 0; i < 4 && i < ref.len; i++) {
        double g[] = {got[i].t, got[i].C, got[i].D, got[i].Q, got[i].R};
        for (int k = 0; k < 5; k++) {
            double want = json_num(&ref.items[i], fields[k], NAN);
            CHECK(fabs(g[k] - want) <= 1e-9, "sample %zu, field %s: expected %.17g, got %.17g", i, fields[k], want, g[k]);
        }
    }
    json_free(&ref);
    free(text);
}

static void test_update_keeps_q_r_and_meta(void) {
    CorridorState s = update(make_initial_state(), 0.1);
    CHECK(s.Q == 0.5 && s.R == 0.0 && strcmp(s.device, "COMT") == 0, "Q, R or meta changed");
}

static void test_log_round_trips(void) {
    const char *keys[] = {"session_id", "timestamp", "device", "scenario", "difficulty"};
    const char *values[] = {"x", "2026-01-06T00:00:00Z", "CO\"MT", "S", "D"};
    Session session = {5, keys, values};
    Sample samples[3];
    run_simulation(2, 0.1, make_initial_state(), samples);
    char *buf = NULL, err[160];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    write_session_log(f, &session, samples, 3);
    fclose(f);
    json log;
    CHECK(json_parse(buf, &log, err, sizeof err) == 0, "log does not parse: %s", err);
    const char *required[] = {"session_id", "timestamp", "device", "scenario", "difficulty", "samples", "scores"};
    for (int i = 0; i < 7; i++) CHECK(json_get(&log, required[i]) != NULL, "missing %s", required[i]);
    CHECK(strcmp(json_str(&log, "device"), "CO\"MT") == 0, "string escaping");
    const json *s = json_get(&log, "samples");
    CHECK(s && s->len == 3 && json_num(&s->items[2], "D", 0) == samples[2].D, "numbers must round-trip exactly");
    json_free(&log);
    free(buf);
}

int main(int argc, char **argv) {
    test_reference_samples(argc > 1 ? argv[1] : "../../reference_samples.json");
    test_update_keeps_q_r_and_meta();
    test_log_round_trips();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("ok: 3 tests passed");
    return 0;
}
