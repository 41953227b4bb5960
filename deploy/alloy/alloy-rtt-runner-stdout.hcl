// Grafana Alloy: ship `rtt serve` container stdout to Loki (seed 000: alloy-rtt-runner-stdout.hcl).
// Run: alloy run alloy-rtt-runner-stdout.hcl   (deploy/docker-compose.yml mounts it as /etc/alloy/config.alloy)
// The container must be named rtt-runner (docker-compose.yml sets container_name) and Alloy needs the Docker socket.
logging {
  level  = "info"
  format = "logfmt"
}

// loki.source.docker reads containers found by discovery.docker; keep only the rtt-runner container.
discovery.docker "containers" {
  host = "unix:///var/run/docker.sock"
}

discovery.relabel "rtt_runner" {
  targets = discovery.docker.containers.targets

  rule {
    source_labels = ["__meta_docker_container_name"]
    regex         = "/rtt-runner"
    action        = "keep"
  }
}

loki.source.docker "rtt_runner_stdout" {
  host       = "unix:///var/run/docker.sock"
  targets    = discovery.relabel.rtt_runner.output
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
