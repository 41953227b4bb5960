// engine.go — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1).
package main

// CorridorState is the corridor state advanced in resonance-time.
type CorridorState struct {
	T, C, D, Q, R                float64
	Device, Scenario, Difficulty string
}

// Sample is one observation of the state, as written to session logs.
type Sample struct {
	T float64 `json:"t"`
	C float64 `json:"C"`
	D float64 `json:"D"`
	Q float64 `json:"Q"`
	R float64 `json:"R"`
}

// MakeInitialState returns the reference initial state of the test vector.
func MakeInitialState() CorridorState {
	return CorridorState{T: 0.0, C: 0.10, D: 1.0, Q: 0.5, R: 0.0,
		Device: "COMT", Scenario: "COMT_LOCK_01", Difficulty: "Journeyman"}
}

// Update advances one step: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt.
// The explicit float64 conversions forbid fusing a*b+c into one FMA (allowed by the Go spec on some CPUs),
// so every platform rounds exactly as the reference engine does.
func Update(s CorridorState, dt float64, _ any) CorridorState {
	s.T += dt
	s.C = s.C + float64(0.01*dt)
	s.D = s.D * float64(1-float64(0.001*dt))
	return s
}

// SampleFromState keeps the numeric fields only.
func SampleFromState(s CorridorState) Sample {
	return Sample{T: s.T, C: s.C, D: s.D, Q: s.Q, R: s.R}
}

// RunSimulation returns the initial sample plus one sample per step.
func RunSimulation(steps int, dt float64, initial CorridorState) []Sample {
	samples := make([]Sample, 0, steps+1)
	s := initial
	samples = append(samples, SampleFromState(s))
	for i := 0; i < steps; i++ {
		s = Update(s, dt, nil)
		samples = append(samples, SampleFromState(s))
	}
	return samples
}
