# logger.jq — builds RTT-Inside session logs: v1 (samples) and v2 (spec_version "v2", segments).

def zero_scores: {stability: 0, response: 0, quality: 0, final: 0};

def session_log($session; $samples): $session + {samples: $samples, anomalies: [], scores: zero_scores};

def segmented_log($session; $segments):
  {spec_version: "v2"} + $session + {segments: $segments, anomalies: [], scores: zero_scores};
