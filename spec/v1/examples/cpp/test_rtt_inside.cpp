// test_rtt_inside.cpp — GoogleTest: the engine reproduces spec/v1/reference_samples.json within 1e-9 (seed §10),
// and the logs have the required shape. Run from this folder, or set RTT_REFERENCE_SAMPLES to the file.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "engine.hpp"
#include "logger.hpp"

namespace {

constexpr double kEps = 1e-9;

rtt::json load_reference() {
    const char* env = std::getenv("RTT_REFERENCE_SAMPLES");
    std::ifstream in(env ? env : "../../reference_samples.json");
    EXPECT_TRUE(in) << "cannot open reference_samples.json (set RTT_REFERENCE_SAMPLES)";
    return rtt::json::parse(in);
}

TEST(RttInside, EngineMatchesReferenceSamples) {
    const rtt::json ref = load_reference();
    const auto got = rtt::run_simulation(3, 0.1, rtt::make_initial_state());
    ASSERT_EQ(got.size(), ref.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        const rtt::Sample& s = got[i];
        EXPECT_NEAR(s.t, ref[i]["t"].get<double>(), kEps) << "sample " << i;
        EXPECT_NEAR(s.C, ref[i]["C"].get<double>(), kEps) << "sample " << i;
        EXPECT_NEAR(s.D, ref[i]["D"].get<double>(), kEps) << "sample " << i;
        EXPECT_NEAR(s.Q, ref[i]["Q"].get<double>(), kEps) << "sample " << i;
        EXPECT_NEAR(s.R, ref[i]["R"].get<double>(), kEps) << "sample " << i;
    }
}

TEST(RttInside, UpdateKeepsQRAndMeta) {
    const rtt::CorridorState s = rtt::update(rtt::make_initial_state(), 0.1);
    EXPECT_EQ(s.Q, 0.5);
    EXPECT_EQ(s.R, 0.0);
    EXPECT_EQ(s.device, "COMT");
}

TEST(RttInside, LogHasRequiredMembersAndRoundTrips) {
    const rtt::Session session{{"session_id", "x"}, {"timestamp", "2026-01-06T00:00:00Z"}, {"device", "CO\"MT"},
                               {"scenario", "S"}, {"difficulty", "D"}};
    const auto samples = rtt::run_simulation(2, 0.1, rtt::make_initial_state());
    const auto log = rtt::json::parse(rtt::dump(rtt::session_log(session, samples)));
    for (const char* key : {"session_id", "timestamp", "device", "scenario", "difficulty", "samples", "anomalies", "scores"})
        EXPECT_TRUE(log.contains(key)) << "missing " << key;
    EXPECT_EQ(log["device"], "CO\"MT");
    ASSERT_EQ(log["samples"].size(), 3u);
    EXPECT_EQ(log["samples"][2]["D"].get<double>(), samples[2].D) << "numbers must round-trip exactly";
}

TEST(RttInside, SegmentedLogKeepsSegmentOrder) {
    const auto log = rtt::segmented_log({{"session_id", "x"}}, {{"seg-1", "warmup", rtt::run_simulation(1, 0.1, rtt::make_initial_state())},
                                                                 {"seg-2", "main", rtt::run_simulation(0, 0.1, rtt::make_initial_state())}});
    EXPECT_EQ(log["spec_version"], "v2");
    ASSERT_EQ(log["segments"].size(), 2u);
    EXPECT_EQ(log["segments"][0]["label"], "warmup");
    EXPECT_EQ(log["segments"][0]["samples"].size(), 2u);
    EXPECT_EQ(log["segments"][1]["segment_id"], "seg-2");
}

}  // namespace
