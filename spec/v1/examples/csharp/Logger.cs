// Logger.cs — RTT-Inside session logs written with Newtonsoft.Json's JsonWriter: v1 with samples, v2 with segments.
// Streamed, not built as a JObject first: a 100 000-step log is written in about a second on Mono.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Newtonsoft.Json;

namespace RttInside
{
    /// <summary>One v2 segment.</summary>
    public sealed class Segment
    {
        public Segment(string segmentId, string label, List<Sample> samples)
        {
            SegmentId = segmentId; Label = label; Samples = samples;
        }

        public string SegmentId { get; }
        public string Label { get; }
        public List<Sample> Samples { get; }
    }

    public static class Logger
    {
        /// <summary>A v1 log: the session's string fields, samples, anomalies (none), scores (zeros).</summary>
        public static string SessionLog(IEnumerable<KeyValuePair<string, string>> session, IEnumerable<Sample> samples,
                                        Formatting formatting = Formatting.None) =>
            Write(formatting, w =>
            {
                w.WriteStartObject();
                WriteSession(w, session);
                w.WritePropertyName("samples");
                WriteSamples(w, samples);
                WriteTail(w);
            });

        /// <summary>A v2 log: spec_version "v2", the session's string fields, segments.</summary>
        public static string SegmentedLog(IEnumerable<KeyValuePair<string, string>> session, IEnumerable<Segment> segments) =>
            Write(Formatting.None, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("spec_version");
                w.WriteValue("v2");
                WriteSession(w, session);
                w.WritePropertyName("segments");
                w.WriteStartArray();
                foreach (var g in segments)
                {
                    w.WriteStartObject();
                    w.WritePropertyName("segment_id");
                    w.WriteValue(g.SegmentId);
                    w.WritePropertyName("label");
                    w.WriteValue(g.Label);
                    w.WritePropertyName("samples");
                    WriteSamples(w, g.Samples);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                WriteTail(w);
            });

        /// <summary>{"id": …, "errored"|"skipped": message}; a null id when the case had none.</summary>
        public static string Status(string id, string key, string message) =>
            Write(Formatting.None, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("id");
                w.WriteValue(id);
                w.WritePropertyName(key);
                w.WriteValue(message);
                w.WriteEndObject();
            });

        static string Write(Formatting formatting, Action<JsonWriter> write)
        {
            var text = new StringWriter(CultureInfo.InvariantCulture);
            using (var writer = new RoundTripJsonWriter(text) { Formatting = formatting })
                write(writer);
            return text.ToString();
        }

        static void WriteSession(JsonWriter w, IEnumerable<KeyValuePair<string, string>> session)
        {
            foreach (var kv in session)
            {
                w.WritePropertyName(kv.Key);
                w.WriteValue(kv.Value);
            }
        }

        static void WriteSamples(JsonWriter w, IEnumerable<Sample> samples)
        {
            w.WriteStartArray();
            foreach (var s in samples)
            {
                w.WriteStartObject();
                w.WritePropertyName("t");
                w.WriteValue(s.T);
                w.WritePropertyName("C");
                w.WriteValue(s.C);
                w.WritePropertyName("D");
                w.WriteValue(s.D);
                w.WritePropertyName("Q");
                w.WriteValue(s.Q);
                w.WritePropertyName("R");
                w.WriteValue(s.R);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }

        static void WriteTail(JsonWriter w)
        {
            w.WritePropertyName("anomalies");
            w.WriteStartArray();
            w.WriteEndArray();
            w.WritePropertyName("scores");
            w.WriteStartObject();
            foreach (var score in new[] { "stability", "response", "quality", "final" })
            {
                w.WritePropertyName(score);
                w.WriteValue(0);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// Writes doubles with 17 significant digits ("G17"), which always parse back to the same double. Newtonsoft.Json
    /// uses "R", and Mono's "R" misses the round trip for a few doubles (it may stop at 14 or 15 digits).
    /// NaN and Infinity, which JSON lacks, become null.
    /// </summary>
    public sealed class RoundTripJsonWriter : JsonTextWriter
    {
        public RoundTripJsonWriter(TextWriter writer) : base(writer) { }

        public override void WriteValue(double value)
        {
            if (double.IsNaN(value) || double.IsInfinity(value)) WriteNull();
            else WriteRawValue(Format(value));
        }

        /// <summary>"0.10000000000000001", "9.9999999999999995E-08": both valid JSON numbers.</summary>
        public static string Format(double value) => value.ToString("G17", CultureInfo.InvariantCulture);
    }
}
