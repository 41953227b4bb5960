// Logger.java — writes RTT-Inside session logs as JSON by hand (JDK only): v1 with samples, v2 with segments.
import java.util.List;
import java.util.Map;

public final class Logger {
    private Logger() {}

    /** One v2 segment. */
    public record Segment(String segmentId, String label, List<Engine.Sample> samples) {}

    /** Double.toString round-trips exactly and is valid JSON ("1.0E-7" included); NaN/Infinity become null. */
    static void number(StringBuilder out, double x) {
        out.append(Double.isFinite(x) ? Double.toString(x) : "null");
    }

    static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    private static void samples(StringBuilder out, List<Engine.Sample> samples) {
        out.append('[');
        for (int i = 0; i < samples.size(); i++) {
            Engine.Sample s = samples.get(i);
            out.append(i == 0 ? "{\"t\":" : ",{\"t\":");
            number(out, s.t());
            out.append(",\"C\":");
            number(out, s.C());
            out.append(",\"D\":");
            number(out, s.D());
            out.append(",\"Q\":");
            number(out, s.Q());
            out.append(",\"R\":");
            number(out, s.R());
            out.append('}');
        }
        out.append(']');
    }

    private static void session(StringBuilder out, Map<String, String> session) {
        for (Map.Entry<String, String> e : session.entrySet()) {
            string(out, e.getKey());
            out.append(':');
            string(out, e.getValue());
            out.append(',');
        }
    }

    private static final String TAIL =
            "\"anomalies\":[],\"scores\":{\"stability\":0,\"response\":0,\"quality\":0,\"final\":0}}";

    /** A v1 log on one line: the session's string fields, samples, anomalies, scores. */
    public static String sessionLog(Map<String, String> session, List<Engine.Sample> samples) {
        StringBuilder out = new StringBuilder(64 + 96 * samples.size()).append('{');
        session(out, session);
        out.append("\"samples\":");
        samples(out, samples);
        return out.append(',').append(TAIL).toString();
    }

    /** A v2 log on one line. */
    public static String segmentedLog(Map<String, String> session, List<Segment> segments) {
        StringBuilder out = new StringBuilder("{\"spec_version\":\"v2\",");
        session(out, session);
        out.append("\"segments\":[");
        for (int i = 0; i < segments.size(); i++) {
            Segment g = segments.get(i);
            out.append(i == 0 ? "{\"segment_id\":" : ",{\"segment_id\":");
            string(out, g.segmentId());
            out.append(",\"label\":");
            string(out, g.label());
            out.append(",\"samples\":");
            samples(out, g.samples());
            out.append('}');
        }
        return out.append("],").append(TAIL).toString();
    }

    /** {"id":…,"errored":…} or {"id":…,"skipped":…}. */
    public static String status(String id, String key, String message) {
        StringBuilder out = new StringBuilder("{\"id\":");
        if (id == null) out.append("null");
        else string(out, id);
        out.append(',');
        string(out, key);
        out.append(':');
        string(out, message);
        return out.append('}').toString();
    }
}
