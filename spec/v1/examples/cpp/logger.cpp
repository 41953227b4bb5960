// logger.cpp — builds the logs; no engine logic.
#include "logger.hpp"

namespace rtt {

void to_json(json& j, const Sample& s) { j = json{{"t", s.t}, {"C", s.C}, {"D", s.D}, {"Q", s.Q}, {"R", s.R}}; }

namespace {

json with_session(json log, const Session& session) {
    for (const auto& [key, value] : session) log[key] = value;
    return log;
}

void add_tail(json& log) {
    log["anomalies"] = json::array();
    log["scores"] = {{"stability", 0}, {"response", 0}, {"quality", 0}, {"final", 0}};
}

}  // namespace

json session_log(const Session& session, const std::vector<Sample>& samples) {
    json log = with_session(json::object(), session);
    log["samples"] = samples;
    add_tail(log);
    return log;
}

json segmented_log(const Session& session, const std::vector<Segment>& segments) {
    json log = with_session({{"spec_version", "v2"}}, session);
    json& out = log["segments"] = json::array();
    for (const auto& g : segments) out.push_back({{"segment_id", g.segment_id}, {"label", g.label}, {"samples", g.samples}});
    add_tail(log);
    return log;
}

json status(const json& id, const std::string& key, const std::string& message) {
    return {{"id", id.is_string() ? id : json(nullptr)}, {key, message}};
}

std::string dump(const json& j) {
    // replace: invalid UTF-8 in a session string is written as U+FFFD instead of throwing.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace rtt
