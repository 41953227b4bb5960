//go:build ignore

// rtt_inside_example.go
//
// The seed's §9.3 file, as written (seed 000, "9.3 Go — rtt_inside_example.go"): `go run rtt_inside_example.go`
// writes rtt_go_session.json. The build constraint above keeps it out of this package's own build (main.go and
// engine.go are the example the conformance runner drives); naming the file on the command line runs it.
package main

import (
	"encoding/json"
	"os"
	"time"
)

type CorridorState struct {
	T          float64 `json:"t"`
	C          float64 `json:"C"`
	D          float64 `json:"D"`
	Q          float64 `json:"Q"`
	R          float64 `json:"R"`
	Device     string  `json:"-"`
	Scenario   string  `json:"-"`
	Difficulty string  `json:"-"`
}

type Sample struct {
	T float64 `json:"t"`
	C float64 `json:"C"`
	D float64 `json:"D"`
	Q float64 `json:"Q"`
	R float64 `json:"R"`
}

type SessionLog struct {
	SessionID  string    `json:"session_id"`
	Timestamp  string    `json:"timestamp"`
	Device     string    `json:"device"`
	Scenario   string    `json:"scenario"`
	Difficulty string    `json:"difficulty"`
	Samples    []Sample  `json:"samples"`
	Anomalies  []any     `json:"anomalies"`
	Scores     ScoreCard `json:"scores"`
}

type ScoreCard struct {
	Stability float64 `json:"stability"`
	Response  float64 `json:"response"`
	Quality   float64 `json:"quality"`
	Final     float64 `json:"final"`
}

func makeInitialState() CorridorState {
	return CorridorState{
		T:          0.0,
		C:          0.10,
		D:          1.0,
		Q:          0.5,
		R:          0.0,
		Device:     "COMT",
		Scenario:   "COMT_LOCK_01",
		Difficulty: "Journeyman",
	}
}

func update(s CorridorState, dt float64) CorridorState {
	s.T += dt
	s.C += 0.01 * dt
	s.D *= (1 - 0.001*dt)
	return s
}

func sampleFromState(s CorridorState) Sample {
	return Sample{T: s.T, C: s.C, D: s.D, Q: s.Q, R: s.R}
}

func runSimulation(steps int, dt float64) []Sample {
	samples := []Sample{}
	s := makeInitialState()
	samples = append(samples, sampleFromState(s))
	for i := 0; i < steps; i++ {
		s = update(s, dt)
		samples = append(samples, sampleFromState(s))
	}
	return samples
}

func main() {
	dt := 0.1
	steps := 3
	samples := runSimulation(steps, dt)
	log := SessionLog{
		SessionID:  "RTT-GO-TEST",
		Timestamp:  time.Now().UTC().Format(time.RFC3339),
		Device:     "COMT",
		Scenario:   "COMT_LOCK_01",
		Difficulty: "Journeyman",
		Samples:    samples,
		Anomalies:  []any{},
		Scores:     ScoreCard{},
	}
	f, _ := os.Create("rtt_go_session.json")
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.SetIndent("", " ")
	_ = enc.Encode(log)
}
