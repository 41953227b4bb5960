// logger.go — builds and writes RTT-Inside session logs (v1; v2 with segments).
package main

import (
	"encoding/json"
	"io"
	"os"
)

// ScoreCard holds the session scores (zeros for the reference engine).
type ScoreCard struct {
	Stability float64 `json:"stability"`
	Response  float64 `json:"response"`
	Quality   float64 `json:"quality"`
	Final     float64 `json:"final"`
}

// Anomaly is a time-stamped classification.
type Anomaly struct {
	T    float64 `json:"t"`
	Type string  `json:"type"`
}

// Segment is one phase of a v2 session.
type Segment struct {
	SegmentID string   `json:"segment_id"`
	Label     string   `json:"label"`
	Samples   []Sample `json:"samples"`
}

// BuildSessionLog returns a v1 log: the session's string fields at the root, then samples, anomalies, scores.
func BuildSessionLog(session map[string]string, samples []Sample) map[string]any {
	log := map[string]any{}
	for k, v := range session {
		log[k] = v
	}
	log["samples"] = samples
	log["anomalies"] = []Anomaly{}
	log["scores"] = ScoreCard{}
	return log
}

// BuildSegmentedLog returns a v2 log with segments.
func BuildSegmentedLog(session map[string]string, segments []Segment) map[string]any {
	log := BuildSessionLog(session, nil)
	delete(log, "samples")
	log["spec_version"] = "v2"
	log["segments"] = segments
	return log
}

// WriteSessionLog writes an indented log to a file.
func WriteSessionLog(path string, log any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// EmitLine writes one object as one JSON line (protocol mode).
func EmitLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v) // Encode appends the newline
}
