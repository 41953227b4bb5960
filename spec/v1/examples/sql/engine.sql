-- engine.sql — the RTT-Inside v1 reference update rule (seed §2, §8.1) as a recursive CTE, computed by SQLite in
-- IEEE-754 binary64. Input: the temp table `runs` (one row per simulation: its initial state, dt and steps).
-- Output: the view `samples` — the initial sample plus one per step of every run (i = 0 … steps).
CREATE TEMP TABLE runs (
  run_id INTEGER PRIMARY KEY,  -- v2: the segment's position
  segment_id TEXT,
  label TEXT,
  t REAL, c REAL, d REAL, q REAL, r REAL,
  dt REAL NOT NULL,
  steps INTEGER NOT NULL,
  -- SQLite columns take any type: a string where a number belongs would compare as text and never end the walk.
  CHECK (typeof(t) IN ('integer', 'real') AND typeof(c) IN ('integer', 'real') AND typeof(d) IN ('integer', 'real')
         AND typeof(q) IN ('integer', 'real') AND typeof(r) IN ('integer', 'real')),
  CHECK (typeof(dt) IN ('integer', 'real')),
  CHECK (typeof(steps) = 'integer' AND steps BETWEEN 0 AND 10000000)
);

-- Each step is the previous row plus: t + dt, C + 0.01·dt, D · (1 − 0.001·dt); Q and R unchanged. SQLite evaluates
-- every operator on its own (no fused multiply-add), so the results are the reference engine's, bit for bit.
CREATE TEMP VIEW samples AS
WITH RECURSIVE walk(run_id, i, t, c, d, q, r, dt, steps) AS (
  SELECT run_id, 0, t, c, d, q, r, dt, steps FROM runs
  UNION ALL
  SELECT run_id, i + 1, t + dt, c + 0.01 * dt, d * (1 - 0.001 * dt), q, r, dt, steps FROM walk WHERE i < steps
)
SELECT run_id, i, t, c, d, q, r FROM walk;
