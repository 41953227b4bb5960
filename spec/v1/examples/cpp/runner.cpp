// runner.cpp — file mode (default): run the reference vector and write a session log.
// Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
#include <cmath>
#include <ctime>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "engine.hpp"
#include "logger.hpp"

namespace {

using rtt::json;

const json& member(const json& obj, const char* key, bool (json::*is)() const noexcept, const char* what) {
    auto it = obj.find(key);
    if (it == obj.end() || !((*it).*is)()) throw std::invalid_argument(std::string(key) + " must be " + what);
    return *it;
}

double number(const json& obj, const char* key) { return member(obj, key, &json::is_number, "a number").get<double>(); }

std::size_t step_count(const json& obj) {
    const json& v = member(obj, "steps", &json::is_number, "an integer >= 0");
    double n = v.get<double>();
    if (v.is_number_unsigned()) return v.get<std::size_t>();
    if (n < 0 || n != std::floor(n) || n > 1e9) throw std::invalid_argument("steps must be an integer >= 0");
    return static_cast<std::size_t>(n);
}

// One {initial_state, dt, steps} object → its samples.
std::vector<rtt::Sample> run(const json& spec) {
    const json& s0 = member(spec, "initial_state", &json::is_object, "an object");
    rtt::CorridorState initial{number(s0, "t"), number(s0, "C"), number(s0, "D"), number(s0, "Q"), number(s0, "R"), "", "", ""};
    return rtt::run_simulation(step_count(spec), number(spec, "dt"), std::move(initial));
}

json answer(const json& c) {
    rtt::Session session;
    for (const auto& [key, value] : member(c, "session", &json::is_object, "an object").items())
        if (value.is_string()) session.emplace_back(key, value.get<std::string>());
    const json version = c.value("spec_version", json());
    if (version == "v1") return rtt::session_log(session, run(c));
    if (version == "v2") {
        std::vector<rtt::Segment> segments;
        for (const json& g : member(c, "segments", &json::is_array, "an array")) {
            if (!g.is_object()) throw std::invalid_argument("each segment must be an object");
            segments.push_back({member(g, "segment_id", &json::is_string, "a string").get<std::string>(),
                                member(g, "label", &json::is_string, "a string").get<std::string>(), run(g)});
        }
        return rtt::segmented_log(session, segments);
    }
    return rtt::status(c.value("id", json()), "skipped", "spec_version " + version.dump() + " not supported");
}

int protocol_mode() {
    std::ios::sync_with_stdio(false);
    for (std::string line; std::getline(std::cin, line);) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        json id;
        json reply;
        try {
            json c = json::parse(line);
            if (!c.is_object()) throw std::invalid_argument("a case must be a JSON object");
            id = c.value("id", json());
            reply = answer(c);
        } catch (const std::exception& e) {
            reply = rtt::status(id, "errored", e.what());
        }
        std::cout << rtt::dump(reply) << '\n' << std::flush;
    }
    return 0;
}

int file_mode(const std::string& path) {
    const rtt::CorridorState s0 = rtt::make_initial_state();
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    const rtt::Session session{{"session_id", "RTT-CPP-TEST"},
                               {"timestamp", stamp},
                               {"device", s0.device},
                               {"scenario", s0.scenario},
                               {"difficulty", s0.difficulty}};
    std::ofstream out(path);
    out << rtt::session_log(session, rtt::run_simulation(3, 0.1, s0)).dump(2) << '\n';
    if (!out.flush()) {
        std::cerr << "cannot write " << path << '\n';
        return 1;
    }
    std::cout << "wrote " << path << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out = "rtt_cpp_session.json";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--protocol") return protocol_mode();
        if (arg == "--out" && i + 1 < argc) out = argv[++i];
    }
    return file_mode(out);
}
