//! main.rs — the runner. File mode: run the reference vector and write a session log.
//! Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
use rtt_inside_example::engine::{make_initial_state, run_simulation, CorridorState, Sample};
use rtt_inside_example::json::{self, Json};
use rtt_inside_example::logger::{self, Segment};
use std::io::{self, BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

fn state(j: &Json) -> Result<CorridorState, String> {
    let f = |k: &str| {
        j.get(k)
            .and_then(Json::as_f64)
            .ok_or_else(|| format!("initial_state.{k} must be a number"))
    };
    Ok(CorridorState {
        t: f("t")?,
        c: f("C")?,
        d: f("D")?,
        q: f("Q")?,
        r: f("R")?,
        ..make_initial_state()
    })
}

fn run(j: &Json) -> Result<Vec<Sample>, String> {
    let dt = j
        .get("dt")
        .and_then(Json::as_f64)
        .ok_or("dt must be a number")?;
    let steps = j
        .get("steps")
        .and_then(Json::as_f64)
        .ok_or("steps must be a number")?;
    let initial = state(j.get("initial_state").ok_or("initial_state missing")?)?;
    Ok(run_simulation(steps as usize, dt, initial))
}

fn answer(c: &Json) -> Result<String, String> {
    let session: Vec<(String, String)> = match c.get("session") {
        Some(Json::Obj(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => return Err("session must be an object".into()),
    };
    match c.get("spec_version").and_then(Json::as_str) {
        Some("v1") => Ok(logger::session_log(&session, &run(c)?)),
        Some("v2") => {
            let mut segments = Vec::new();
            for g in c
                .get("segments")
                .and_then(Json::as_array)
                .ok_or("segments must be an array")?
            {
                let text = |k: &str| {
                    g.get(k)
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                segments.push(Segment {
                    segment_id: text("segment_id"),
                    label: text("label"),
                    samples: run(g)?,
                });
            }
            Ok(logger::segmented_log(&session, &segments))
        }
        other => Ok(logger::status(
            c.get("id").and_then(Json::as_str),
            "skipped",
            &format!("spec_version {other:?} not supported"),
        )),
    }
}

fn protocol_mode() -> io::Result<()> {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match json::parse(&line) {
            Ok(c) => answer(&c).unwrap_or_else(|e| {
                logger::status(c.get("id").and_then(Json::as_str), "errored", &e)
            }),
            Err(e) => logger::status(None, "errored", &e),
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(())
}

/// RFC 3339 UTC timestamp from the system clock (std has no calendar; civil-from-days, H. Hinnant).
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn file_mode(path: &str) -> io::Result<()> {
    let s0 = make_initial_state();
    let session = vec![
        ("session_id".to_string(), "RTT-RS-TEST".to_string()),
        ("timestamp".to_string(), now_rfc3339()),
        ("device".to_string(), s0.device.clone()),
        ("scenario".to_string(), s0.scenario.clone()),
        ("difficulty".to_string(), s0.difficulty.clone()),
    ];
    let log = logger::session_log(&session, &run_simulation(3, 0.1, s0));
    std::fs::write(path, format!("{log}\n"))?;
    println!("wrote {path}");
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.iter().any(|a| a == "--protocol") {
        protocol_mode()
    } else {
        let out = args
            .iter()
            .position(|a| a == "--out")
            .and_then(|i| args.get(i + 1));
        file_mode(out.map(String::as_str).unwrap_or("rtt_rs_session.json"))
    };
    if let Err(e) = result {
        eprintln!("rtt-rust: {e}");
        std::process::exit(1);
    }
}
