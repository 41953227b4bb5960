// Runner.java — file mode: run the reference vector and write a session log.
// Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class Runner {
    private Runner() {}

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o, String what) {
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new IllegalArgumentException(what + " must be an object");
    }

    private static double num(Map<String, Object> m, String key) {
        if (m.get(key) instanceof Double d) return d;
        throw new IllegalArgumentException(key + " must be a number");
    }

    private static List<Engine.Sample> run(Map<String, Object> spec) {
        Map<String, Object> s0 = obj(spec.get("initial_state"), "initial_state");
        Engine.CorridorState initial = new Engine.CorridorState(num(s0, "t"), num(s0, "C"), num(s0, "D"),
                num(s0, "Q"), num(s0, "R"), "", "", "");
        return Engine.runSimulation((int) num(spec, "steps"), num(spec, "dt"), initial);
    }

    static String answer(Map<String, Object> c) {
        Map<String, String> session = new LinkedHashMap<>();
        obj(c.get("session"), "session").forEach((k, v) -> {
            if (v instanceof String str) session.put(k, str);
        });
        Object version = c.get("spec_version");
        if ("v1".equals(version)) return Logger.sessionLog(session, run(c));
        if ("v2".equals(version)) {
            List<Logger.Segment> segments = new ArrayList<>();
            if (!(c.get("segments") instanceof List<?> list)) throw new IllegalArgumentException("segments must be an array");
            for (Object o : list) {
                Map<String, Object> g = obj(o, "segment");
                segments.add(new Logger.Segment((String) g.get("segment_id"), (String) g.get("label"), run(g)));
            }
            return Logger.segmentedLog(session, segments);
        }
        return Logger.status((String) c.get("id"), "skipped", "spec_version " + version + " not supported");
    }

    static void protocolMode() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String id = null;
            String reply;
            try {
                Map<String, Object> c = obj(Json.parse(line), "case");
                id = c.get("id") instanceof String s ? s : null;
                reply = answer(c);
            } catch (RuntimeException e) {
                reply = Logger.status(id, "errored", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            out.write(reply);
            out.write('\n');
            out.flush();
        }
    }

    static void fileMode(String path) throws IOException {
        Engine.CorridorState s0 = Engine.makeInitialState();
        Map<String, String> session = new LinkedHashMap<>();
        session.put("session_id", "RTT-JAVA-TEST");
        session.put("timestamp", Instant.now().toString());
        session.put("device", s0.device());
        session.put("scenario", s0.scenario());
        session.put("difficulty", s0.difficulty());
        Files.writeString(Path.of(path), Logger.sessionLog(session, Engine.runSimulation(3, 0.1, s0)) + "\n");
        System.out.println("wrote " + path);
    }

    public static void main(String[] args) throws IOException {
        String out = "rtt_java_session.json";
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--protocol")) {
                protocolMode();
                return;
            }
            if (args[i].equals("--out") && i + 1 < args.length) out = args[++i];
        }
        fileMode(out);
    }
}
