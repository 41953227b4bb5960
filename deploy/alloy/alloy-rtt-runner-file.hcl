// Grafana Alloy: ship the session log file of `rtt serve --log-file /var/log/rtt-runner/rtt.log` to Loki
// (seed 000: alloy-rtt-runner-file.hcl). Run: alloy run alloy-rtt-runner-file.hcl
logging {
  level  = "info"
  format = "logfmt"
}

// loki.source.file reads exact paths; local.file_match expands the glob (and picks up rotated files).
local.file_match "rtt_runner_logs" {
  path_targets = [{"__path__" = "/var/log/rtt-runner/*.log"}]
}

loki.source.file "rtt_runner_file" {
  targets    = local.file_match.rtt_runner_logs.targets
  forward_to = [loki.process.rtt_logs.receiver]
}

// Session-log processing (seed 000: `loki.process "rtt_logs"`, with segment_label promoted to a Loki label).
// `rtt serve` writes one NDJSON line per accepted session (spec_version, engine_version, mode, operator_id,
// mastery_level, device_type, scenario, difficulty, sample_count, segment_count, anomaly_count, score_final)
// and one line per anomaly (segment_label, severity, type, session_id). Labels stay low-cardinality:
// segment labels are a closed vocabulary; numeric fields stay extracted fields, queried with `| json`.
loki.process "rtt_logs" {
  stage.json {
    expressions = {
      spec_version   = "spec_version",
      device_type    = "device_type",
      scenario       = "scenario",
      difficulty     = "difficulty",
      mode           = "mode",
      engine_version = "engine_version",
      operator_id    = "operator_id",
      mastery_level  = "mastery_level",
      sample_count   = "sample_count",
      segment_count  = "segment_count",
      anomaly_count  = "anomaly_count",
      score_final    = "score_final",
      segment_label  = "segment_label",
      severity       = "severity",
    }
  }

  // `app` is a constant, so it is a static label (stage.labels maps label names to extracted fields).
  stage.static_labels {
    values = {
      app = "rtt-runner",
    }
  }

  stage.labels {
    values = {
      spec_version   = "spec_version",
      device_type    = "device_type",
      scenario       = "scenario",
      difficulty     = "difficulty",
      mode           = "mode",
      engine_version = "engine_version",
      operator_id    = "operator_id",
      segment_label  = "segment_label",
    }
  }

  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "http://loki:3100/loki/api/v1/push"
  }
}
