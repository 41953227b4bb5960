//! logger.rs — writes RTT-Inside session logs as JSON by hand (no serde): v1 with samples, v2 with segments.
use crate::engine::Sample;
use std::fmt::Write as _;

/// A JSON number that parses back to the same f64 (Rust's shortest round-trip formatting).
pub fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "null".into() // JSON has no NaN/Infinity; the schema will reject it, as it should
    }
}

pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn samples_json(samples: &[Sample]) -> String {
    let items: Vec<String> = samples
        .iter()
        .map(|s| {
            format!(
                r#"{{"t":{},"C":{},"D":{},"Q":{},"R":{}}}"#,
                number(s.t),
                number(s.c),
                number(s.d),
                number(s.q),
                number(s.r)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn session_json(session: &[(String, String)]) -> String {
    session
        .iter()
        .map(|(k, v)| format!("{}:{},", string(k), string(v)))
        .collect()
}

const TAIL: &str = r#""anomalies":[],"scores":{"stability":0,"response":0,"quality":0,"final":0}"#;

/// A v1 session log on one line: the session's string fields, samples, anomalies, scores.
pub fn session_log(session: &[(String, String)], samples: &[Sample]) -> String {
    format!(
        "{{{}\"samples\":{},{}}}",
        session_json(session),
        samples_json(samples),
        TAIL
    )
}

/// One v2 segment: (segment_id, label, samples).
pub struct Segment {
    pub segment_id: String,
    pub label: String,
    pub samples: Vec<Sample>,
}

/// A v2 session log on one line.
pub fn segmented_log(session: &[(String, String)], segments: &[Segment]) -> String {
    let segs: Vec<String> = segments
        .iter()
        .map(|g| {
            format!(
                r#"{{"segment_id":{},"label":{},"samples":{}}}"#,
                string(&g.segment_id),
                string(&g.label),
                samples_json(&g.samples)
            )
        })
        .collect();
    format!(
        "{{\"spec_version\":\"v2\",{}\"segments\":[{}],{}}}",
        session_json(session),
        segs.join(","),
        TAIL
    )
}

/// A one-field object such as {"id":…,"errored":…} or {"id":…,"skipped":…}.
pub fn status(id: Option<&str>, key: &str, message: &str) -> String {
    let id = id.map(string).unwrap_or_else(|| "null".into());
    format!("{{\"id\":{id},{}:{}}}", string(key), string(message))
}
