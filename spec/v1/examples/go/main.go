// main.go — the runner. File mode: run the reference vector and write a session log.
// Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

type wireState struct{ T, C, D, Q, R float64 }

func (w wireState) state() CorridorState {
	return CorridorState{T: w.T, C: w.C, D: w.D, Q: w.Q, R: w.R}
}

// UnmarshalJSON maps the wire's lower-case "t" (encoding/json matches other names case-insensitively).
func (w *wireState) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*w = wireState{T: m["t"], C: m["C"], D: m["D"], Q: m["Q"], R: m["R"]}
	return nil
}

type run struct {
	InitialState wireState `json:"initial_state"`
	Dt           float64   `json:"dt"`
	Steps        int       `json:"steps"`
}

type caseMsg struct {
	ID          string            `json:"id"`
	SpecVersion string            `json:"spec_version"`
	Session     map[string]string `json:"session"`
	run
	Segments []struct {
		SegmentID string `json:"segment_id"`
		Label     string `json:"label"`
		run
	} `json:"segments"`
}

func answer(c caseMsg) any {
	switch c.SpecVersion {
	case "v1":
		return BuildSessionLog(c.Session, RunSimulation(c.Steps, c.Dt, c.InitialState.state()))
	case "v2":
		segs := make([]Segment, 0, len(c.Segments))
		for _, g := range c.Segments {
			segs = append(segs, Segment{g.SegmentID, g.Label, RunSimulation(g.Steps, g.Dt, g.InitialState.state())})
		}
		return BuildSegmentedLog(c.Session, segs)
	}
	return map[string]any{"id": c.ID, "skipped": fmt.Sprintf("spec_version %q not supported", c.SpecVersion)}
}

func protocolMode() error {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			var c caseMsg
			var reply any
			if jerr := json.Unmarshal(line, &c); jerr != nil {
				reply = map[string]any{"id": c.ID, "errored": jerr.Error()}
			} else {
				reply = answer(c)
			}
			if werr := EmitLine(out, reply); werr != nil {
				return werr
			}
			if ferr := out.Flush(); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			return nil // EOF: done
		}
	}
}

func fileMode(path string) error {
	s0 := MakeInitialState()
	session := map[string]string{
		"session_id": "RTT-GO-TEST", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"device": s0.Device, "scenario": s0.Scenario, "difficulty": s0.Difficulty,
	}
	if err := WriteSessionLog(path, BuildSessionLog(session, RunSimulation(3, 0.1, s0))); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}

func main() {
	protocol := flag.Bool("protocol", false, "speak the conformance protocol on stdin/stdout")
	out := flag.String("out", "rtt_go_session.json", "file mode: where to write the session log")
	flag.Parse()
	var err error
	if *protocol {
		err = protocolMode()
	} else {
		err = fileMode(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtt-go:", err)
		os.Exit(1)
	}
}
