-- runner.sql — one conformance case (spec/v1/conformance_protocol.md) → one reply line. Expects the temp table
-- `input(line TEXT)` holding the raw case line, and engine.sql + logger.sql read before it.
CREATE TEMP VIEW kase AS
SELECT line,
       CASE WHEN json_valid(line) AND json_type(line) = 'object' THEN json_extract(line, '$.spec_version') END AS version,
       CASE WHEN json_valid(line) AND json_type(line) = 'object' THEN json_extract(line, '$.id') END AS id
FROM input;

-- v1: one run from the case's own initial state; v2: one run per segment, in order.
INSERT INTO runs (run_id, segment_id, label, t, c, d, q, r, dt, steps)
SELECT 0, NULL, NULL,
       json_extract(line, '$.initial_state.t'), json_extract(line, '$.initial_state.C'),
       json_extract(line, '$.initial_state.D'), json_extract(line, '$.initial_state.Q'),
       json_extract(line, '$.initial_state.R'), json_extract(line, '$.dt'), json_extract(line, '$.steps')
FROM kase WHERE version = 'v1'
UNION ALL
SELECT CAST(g.key AS INTEGER), json_extract(g.value, '$.segment_id'), json_extract(g.value, '$.label'),
       json_extract(g.value, '$.initial_state.t'), json_extract(g.value, '$.initial_state.C'),
       json_extract(g.value, '$.initial_state.D'), json_extract(g.value, '$.initial_state.Q'),
       json_extract(g.value, '$.initial_state.R'), json_extract(g.value, '$.dt'), json_extract(g.value, '$.steps')
FROM kase, json_each(kase.line, '$.segments') AS g WHERE version = 'v2';

SELECT CASE
  WHEN kase.version IS NULL AND kase.id IS NULL AND NOT json_valid(kase.line)
    THEN json_object('id', NULL, 'errored', 'the case is not JSON')
  WHEN kase.version = 'v1' THEN json_patch(
    json_extract(kase.line, '$.session'),
    json_object('samples', json((SELECT arr FROM run_samples WHERE run_id = 0)),
                'anomalies', json('[]'), 'scores', json((SELECT doc FROM zero_scores))))
  WHEN kase.version = 'v2' THEN json_patch(
    json_patch(json_object('spec_version', 'v2'), json_extract(kase.line, '$.session')),
    json_object('segments', (SELECT json_group_array(json_object('segment_id', runs.segment_id, 'label', runs.label,
                                                                 'samples', json(run_samples.arr)))
                             FROM (SELECT * FROM runs ORDER BY run_id) AS runs JOIN run_samples USING (run_id)),
                'anomalies', json('[]'), 'scores', json((SELECT doc FROM zero_scores))))
  ELSE json_object('id', kase.id, 'skipped', 'spec_version ' || coalesce(json_quote(kase.version), 'missing') || ' not supported')
END
FROM kase;
