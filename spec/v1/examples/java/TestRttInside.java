// TestRttInside.java — a JUnit-free test runner: the engine reproduces spec/v1/reference_samples.json within 1e-9.
// Usage: java -cp OUT TestRttInside [path/to/reference_samples.json]   (default ../../reference_samples.json); exit 0 on success.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class TestRttInside {
    private static int failures = 0;
    private static int tests = 0;

    private static void check(boolean ok, String message) {
        if (!ok) {
            failures++;
            System.err.println("FAIL " + message);
        }
    }

    @SuppressWarnings("unchecked")
    static void engineMatchesReferenceSamples(String path) throws Exception {
        tests++;
        List<Object> ref = (List<Object>) Json.parse(Files.readString(Path.of(path)));
        List<Engine.Sample> got = Engine.runSimulation(3, 0.1, Engine.makeInitialState());
        check(got.size() == ref.size(), "expected " + ref.size() + " samples, got " + got.size());
        String[] fields = {"t", "C", "D", "Q", "R"};
        for (int i = 0; i < Math.min(got.size(), ref.size()); i++) {
            Map<String, Object> r = (Map<String, Object>) ref.get(i);
            Engine.Sample s = got.get(i);
            double[] g = {s.t(), s.C(), s.D(), s.Q(), s.R()};
            for (int k = 0; k < fields.length; k++) {
                double want = (Double) r.get(fields[k]);
                check(Math.abs(g[k] - want) <= 1e-9,
                        "sample " + i + ", field " + fields[k] + ": expected " + want + ", got " + g[k]);
            }
        }
    }

    static void updateKeepsQRAndMeta() {
        tests++;
        Engine.CorridorState s = Engine.update(Engine.makeInitialState(), 0.1);
        check(s.Q() == 0.5 && s.R() == 0.0 && s.device().equals("COMT"), "Q, R or meta changed: " + s);
    }

    @SuppressWarnings("unchecked")
    static void logRoundTrips() {
        tests++;
        Map<String, String> session = new LinkedHashMap<>();
        session.put("session_id", "x");
        session.put("timestamp", "2026-01-06T00:00:00Z");
        session.put("device", "CO\"MT");
        session.put("scenario", "S");
        session.put("difficulty", "D");
        List<Engine.Sample> samples = Engine.runSimulation(2, 0.1, Engine.makeInitialState());
        Map<String, Object> log = (Map<String, Object>) Json.parse(Logger.sessionLog(session, samples));
        for (String k : List.of("session_id", "timestamp", "device", "scenario", "difficulty", "samples", "scores"))
            check(log.containsKey(k), "missing " + k);
        check("CO\"MT".equals(log.get("device")), "string escaping");
        Map<String, Object> s2 = (Map<String, Object>) ((List<Object>) log.get("samples")).get(2);
        check((Double) s2.get("D") == samples.get(2).D(), "numbers must round-trip exactly");
    }

    public static void main(String[] args) throws Exception {
        engineMatchesReferenceSamples(args.length > 0 ? args[0] : "../../reference_samples.json");
        updateKeepsQRAndMeta();
        logRoundTrips();
        if (failures > 0) {
            System.err.println(failures + " check(s) failed");
            System.exit(1);
        }
        System.out.println("ok: " + tests + " tests passed");
    }
}
