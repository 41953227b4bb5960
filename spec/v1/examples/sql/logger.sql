-- logger.sql — session logs as JSON built by SQLite's JSON functions. Numbers are written with printf('%!.17g'):
-- SQLite's own JSON rendering keeps 15 digits, which does not always parse back to the same double.
CREATE TEMP VIEW sample_json AS
SELECT run_id, i,
       printf('{"t":%!.17g,"C":%!.17g,"D":%!.17g,"Q":%!.17g,"R":%!.17g}', t, c, d, q, r) AS doc
FROM samples;

-- Each run's samples as a JSON array, in step order. (Not GROUP BY run_id: SQLite before 3.44 has no ORDER BY inside
-- an aggregate, and grouping may feed the rows in any order; an aggregate over an ordered subquery keeps its order.)
CREATE TEMP VIEW run_samples AS
SELECT run_id,
       (SELECT json('[' || group_concat(doc, ',') || ']')
        FROM (SELECT doc FROM sample_json WHERE sample_json.run_id = runs.run_id ORDER BY i)) AS arr
FROM runs;

CREATE TEMP VIEW zero_scores AS
SELECT json_object('stability', 0, 'response', 0, 'quality', 0, 'final', 0) AS doc;
