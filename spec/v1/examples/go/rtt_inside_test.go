// rtt_inside_test.go — go test: the engine reproduces spec/v1/reference_samples.json within 1e-9.
package main

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

func TestEngineMatchesReferenceSamples(t *testing.T) {
	raw, err := os.ReadFile("../../reference_samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref []map[string]float64
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	samples := RunSimulation(3, 0.1, MakeInitialState())
	if len(samples) != len(ref) {
		t.Fatalf("expected %d samples, got %d", len(ref), len(samples))
	}
	const eps = 1e-9
	for i, s := range samples {
		got := map[string]float64{"t": s.T, "C": s.C, "D": s.D, "Q": s.Q, "R": s.R}
		for _, k := range []string{"t", "C", "D", "Q", "R"} {
			if math.Abs(got[k]-ref[i][k]) > eps {
				t.Errorf("sample %d, field %s: expected %v, got %v", i, k, ref[i][k], got[k])
			}
		}
	}
}

func TestUpdateKeepsQRAndMeta(t *testing.T) {
	s := Update(MakeInitialState(), 0.1, nil)
	if s.Q != 0.5 || s.R != 0 || s.Device != "COMT" {
		t.Errorf("Q, R or meta changed: %+v", s)
	}
}

func TestSessionLogHasRequiredFields(t *testing.T) {
	log := BuildSessionLog(map[string]string{"session_id": "x", "timestamp": "2026-01-06T00:00:00Z",
		"device": "COMT", "scenario": "S", "difficulty": "D"}, RunSimulation(0, 0.1, MakeInitialState()))
	for _, k := range []string{"session_id", "timestamp", "device", "scenario", "difficulty", "samples", "scores"} {
		if _, ok := log[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
}
