// RttInsideTests.cs — NUnit: the engine reproduces spec/v1/reference_samples.json within 1e-9 (seed §10), the logs
// have the required shape and numbers round-trip. RTT_REFERENCE_SAMPLES names the file (default ../../reference_samples.json).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace RttInside.Tests
{
    [TestFixture]
    public class RttInsideTests
    {
        const double Eps = 1e-9;

        static string ReferencePath =>
            Environment.GetEnvironmentVariable("RTT_REFERENCE_SAMPLES") ?? Path.Combine("..", "..", "reference_samples.json");

        [Test]
        public void EngineMatchesReferenceSamples()
        {
            var reference = (JArray)Runner.Parse(File.ReadAllText(ReferencePath));
            var got = Engine.RunSimulation(3, 0.1, Engine.MakeInitialState());
            Assert.AreEqual(reference.Count, got.Count, "sample count");
            for (var i = 0; i < got.Count; i++)
            {
                var want = reference[i];
                Assert.AreEqual((double)want["t"], got[i].T, Eps, $"sample {i}, t");
                Assert.AreEqual((double)want["C"], got[i].C, Eps, $"sample {i}, C");
                Assert.AreEqual((double)want["D"], got[i].D, Eps, $"sample {i}, D");
                Assert.AreEqual((double)want["Q"], got[i].Q, Eps, $"sample {i}, Q");
                Assert.AreEqual((double)want["R"], got[i].R, Eps, $"sample {i}, R");
            }
        }

        [Test]
        public void UpdateKeepsQRAndMeta()
        {
            var s = Engine.Update(Engine.MakeInitialState(), 0.1);
            Assert.AreEqual(0.5, s.Q);
            Assert.AreEqual(0.0, s.R);
            Assert.AreEqual("COMT", s.Device);
        }

        [Test]
        public void LogHasRequiredMembersAndRoundTrips()
        {
            var session = new Dictionary<string, string>
            {
                ["session_id"] = "x", ["timestamp"] = "2026-01-06T00:00:00Z", ["device"] = "CO\"MT",
                ["scenario"] = "S", ["difficulty"] = "D",
            };
            var samples = Engine.RunSimulation(2, 0.1, Engine.MakeInitialState());
            var log = (JObject)Runner.Parse(Logger.SessionLog(session, samples));
            foreach (var key in new[] { "session_id", "timestamp", "device", "scenario", "difficulty", "samples", "anomalies", "scores" })
                Assert.IsNotNull(log[key], "missing " + key);
            Assert.AreEqual("CO\"MT", (string)log["device"]);
            Assert.AreEqual("2026-01-06T00:00:00Z", (string)log["timestamp"], "timestamps stay strings");
            Assert.AreEqual(3, ((JArray)log["samples"]).Count);
            Assert.AreEqual(samples[2].D, (double)log["samples"][2]["D"], "numbers must round-trip exactly");
        }

        [Test]
        public void NumbersRoundTrip()
        {
            var random = new Random(22);
            foreach (var x in new[] { 0.1 + 0.2, 0.9997000299990001, 1e-7, 5e-324, double.MaxValue }
                         .Concat(Enumerable.Range(0, 10000).Select(_ => BitConverter.Int64BitsToDouble((long)(random.NextDouble() * long.MaxValue)))
                         .Where(x => !double.IsNaN(x) && !double.IsInfinity(x))))
                Assert.AreEqual(x, double.Parse(RoundTripJsonWriter.Format(x), System.Globalization.CultureInfo.InvariantCulture));
        }

        [Test]
        public void ProtocolAnswersSkipsAndErrors()
        {
            var skipped = Runner.Parse(Runner.Answer((JObject)Runner.Parse("{\"id\":\"a\",\"spec_version\":\"v9\",\"session\":{}}")));
            Assert.AreEqual("a", (string)skipped["id"]);
            Assert.IsNotNull(skipped["skipped"]);
            var v2 = Runner.Parse(Runner.Answer((JObject)Runner.Parse(
                "{\"id\":\"b\",\"spec_version\":\"v2\",\"session\":{\"session_id\":\"S\"},\"segments\":[{\"segment_id\":\"s1\",\"label\":\"main\"," +
                "\"initial_state\":{\"t\":0,\"C\":0.1,\"D\":1,\"Q\":0.5,\"R\":0},\"dt\":0.5,\"steps\":2}]}")));
            Assert.AreEqual("v2", (string)v2["spec_version"]);
            Assert.AreEqual(3, ((JArray)v2["segments"][0]["samples"]).Count);
            Assert.AreEqual(1.0, (double)v2["segments"][0]["samples"][2]["t"]);
            Assert.Throws<ArgumentException>(() => Runner.Answer((JObject)Runner.Parse(
                "{\"id\":\"c\",\"spec_version\":\"v1\",\"session\":{},\"initial_state\":{\"t\":0,\"C\":0,\"D\":1,\"Q\":0,\"R\":0},\"dt\":0.1,\"steps\":-1}")));
        }
    }
}
