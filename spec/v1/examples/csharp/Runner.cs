// Runner.cs — file mode (default): run the reference vector and write a session log.
// Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace RttInside
{
    public static class Runner
    {
        /// <summary>Parses one case line. Strings stay strings (no DateTime guessing for timestamps).</summary>
        public static JToken Parse(string line)
        {
            using (var reader = new JsonTextReader(new StringReader(line)) { DateParseHandling = DateParseHandling.None })
            {
                var token = JToken.ReadFrom(reader);
                if (reader.Read()) throw new JsonReaderException("unexpected text after the JSON value");
                return token;
            }
        }

        static T Member<T>(JObject o, string key, string what) where T : JToken =>
            o[key] as T ?? throw new ArgumentException($"{key} must be {what}");

        static double Number(JObject o, string key)
        {
            var v = o[key];
            if (v == null || (v.Type != JTokenType.Float && v.Type != JTokenType.Integer))
                throw new ArgumentException($"{key} must be a number");
            return (double)v;
        }

        static int Steps(JObject o)
        {
            var n = Number(o, "steps");
            if (n < 0 || n != Math.Floor(n) || n > int.MaxValue - 1) throw new ArgumentException("steps must be an integer >= 0");
            return (int)n;
        }

        /// <summary>One {initial_state, dt, steps} object → its samples.</summary>
        static List<Sample> Run(JObject spec)
        {
            var s0 = Member<JObject>(spec, "initial_state", "an object");
            var initial = new CorridorState(Number(s0, "t"), Number(s0, "C"), Number(s0, "D"), Number(s0, "Q"), Number(s0, "R"));
            return Engine.RunSimulation(Steps(spec), Number(spec, "dt"), initial);
        }

        public static string Answer(JObject c)
        {
            var session = Member<JObject>(c, "session", "an object").Properties()
                .Where(p => p.Value.Type == JTokenType.String)
                .Select(p => new KeyValuePair<string, string>(p.Name, (string)p.Value))
                .ToList();
            var version = c["spec_version"];
            switch (version?.Type == JTokenType.String ? (string)version : null)
            {
                case "v1":
                    return Logger.SessionLog(session, Run(c));
                case "v2":
                    var segments = Member<JArray>(c, "segments", "an array").Select(token =>
                    {
                        var g = token as JObject ?? throw new ArgumentException("each segment must be an object");
                        return new Segment((string)Member<JValue>(g, "segment_id", "a string"),
                                           (string)Member<JValue>(g, "label", "a string"), Run(g));
                    }).ToList();
                    return Logger.SegmentedLog(session, segments);
                default:
                    return Logger.Status(IdOf(c), "skipped", $"spec_version {version?.ToString(Formatting.None) ?? "(none)"} not supported");
            }
        }

        static string IdOf(JObject c) => c["id"]?.Type == JTokenType.String ? (string)c["id"] : null;

        static int ProtocolMode()
        {
            var utf8 = new UTF8Encoding(false);
            var stdin = new StreamReader(Console.OpenStandardInput(), utf8);
            var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8) { NewLine = "\n" };
            for (string line; (line = stdin.ReadLine()) != null;)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                string id = null;
                string reply;
                try
                {
                    var c = Parse(line) as JObject ?? throw new ArgumentException("a case must be a JSON object");
                    id = IdOf(c);
                    reply = Answer(c);
                }
                catch (Exception e) when (e is JsonException || e is ArgumentException || e is InvalidCastException || e is OutOfMemoryException)
                {
                    reply = Logger.Status(id, "errored", $"{e.GetType().Name}: {e.Message}");
                }
                stdout.WriteLine(reply);
                stdout.Flush();
            }
            return 0;
        }

        static int FileMode(string path)
        {
            var s0 = Engine.MakeInitialState();
            var session = new Dictionary<string, string>
            {
                ["session_id"] = "RTT-CS-TEST",
                ["timestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                ["device"] = s0.Device,
                ["scenario"] = s0.Scenario,
                ["difficulty"] = s0.Difficulty,
            };
            var log = Logger.SessionLog(session, Engine.RunSimulation(3, 0.1, s0), Formatting.Indented);
            File.WriteAllText(path, log + "\n", new UTF8Encoding(false));
            Console.WriteLine($"wrote {path}");
            return 0;
        }

        public static int Main(string[] args)
        {
            var output = "rtt_cs_session.json";
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i] == "--protocol") return ProtocolMode();
                if (args[i] == "--out" && i + 1 < args.Length) output = args[++i];
            }
            return FileMode(output);
        }
    }
}
