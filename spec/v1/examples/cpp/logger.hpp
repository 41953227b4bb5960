// logger.hpp — RTT-Inside session logs as JSON (nlohmann/json): v1 with samples, v2 with segments.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine.hpp"

namespace rtt {

// ordered_json keeps members in insertion order, so logs read like the seed's examples.
using json = nlohmann::ordered_json;

// The session's string fields, copied verbatim to the root of the log, in order.
using Session = std::vector<std::pair<std::string, std::string>>;

struct Segment {
    std::string segment_id, label;
    std::vector<Sample> samples;
};

void to_json(json& j, const Sample& s);

// A v1 log: the session fields, samples, anomalies (none) and scores (zeros).
json session_log(const Session& session, const std::vector<Sample>& samples);
// A v2 log: spec_version "v2", the session fields, segments.
json segmented_log(const Session& session, const std::vector<Segment>& segments);
// {"id": …, "<key>": "<message>"} — key is "errored" or "skipped"; a null id when the case had none.
json status(const json& id, const std::string& key, const std::string& message);

// One line of JSON. nlohmann/json writes the shortest decimal that parses back to the same double.
std::string dump(const json& j);

}  // namespace rtt
