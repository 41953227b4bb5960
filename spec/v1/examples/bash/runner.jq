# runner.jq — answers one conformance case (spec/v1/conformance_protocol.md) with a session log.
include "engine";
include "logger";

# A case's {initial_state, dt, steps} → its samples. (Arguments of jq functions see the caller's input, so the case
# is bound to a variable before run_simulation looks at its initial state.)
def samples_of: . as $c | $c.initial_state | run_simulation($c.steps; $c.dt);

def answer:
  if .spec_version == "v1" then
    session_log(.session; samples_of)
  elif .spec_version == "v2" then
    segmented_log(.session; [.segments[] | {segment_id: .segment_id, label: .label, samples: samples_of}])
  else
    {id: .id, skipped: "spec_version \(.spec_version | tojson) not supported"}
  end;

# One raw input line → one reply line; anything that goes wrong is an `errored` reply, never a crash.
def reply:
  . as $line
  | try (fromjson | answer)
    catch {id: (try ($line | fromjson | .id) catch null), errored: (. | tostring)};
