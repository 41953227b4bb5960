//! cargo test: the engine reproduces spec/v1/reference_samples.json within 1e-9, and logs parse back.
use rtt_inside_example::engine::{make_initial_state, run_simulation, update};
use rtt_inside_example::json::{self, Json};
use rtt_inside_example::logger;

const EPS: f64 = 1e-9;

#[test]
fn engine_matches_reference_samples() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../reference_samples.json");
    let text = std::fs::read_to_string(path).expect("reference_samples.json");
    let reference = json::parse(&text).expect("valid JSON");
    let reference = reference.as_array().expect("an array");
    let samples = run_simulation(3, 0.1, make_initial_state());
    assert_eq!(samples.len(), reference.len());
    for (i, (s, r)) in samples.iter().zip(reference).enumerate() {
        for (k, got) in [("t", s.t), ("C", s.c), ("D", s.d), ("Q", s.q), ("R", s.r)] {
            let want = r.get(k).and_then(Json::as_f64).unwrap();
            assert!(
                (got - want).abs() <= EPS,
                "sample {i}, field {k}: expected {want}, got {got}"
            );
        }
    }
}

#[test]
fn update_keeps_q_r_and_meta() {
    let s = update(&make_initial_state(), 0.1);
    assert_eq!((s.q, s.r, s.device.as_str()), (0.5, 0.0, "COMT"));
}

#[test]
fn session_log_round_trips_with_required_fields() {
    let session = [
        ("session_id", "x"),
        ("timestamp", "2026-01-06T00:00:00Z"),
        ("device", "CO\"MT"),
        ("scenario", "S"),
        ("difficulty", "D"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let log = json::parse(&logger::session_log(
        &session,
        &run_simulation(2, 0.1, make_initial_state()),
    ))
    .unwrap();
    for k in [
        "session_id",
        "timestamp",
        "device",
        "scenario",
        "difficulty",
        "samples",
        "scores",
    ] {
        assert!(log.get(k).is_some(), "missing {k}");
    }
    assert_eq!(log.get("device").and_then(Json::as_str), Some("CO\"MT"));
    let d2 = log.get("samples").and_then(Json::as_array).unwrap()[2]
        .get("D")
        .and_then(Json::as_f64)
        .unwrap();
    assert_eq!(
        d2,
        run_simulation(2, 0.1, make_initial_state())[2].d,
        "numbers must round-trip exactly"
    );
}
