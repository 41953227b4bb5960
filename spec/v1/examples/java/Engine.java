// Engine.java — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1).
import java.util.ArrayList;
import java.util.List;

public final class Engine {
    private Engine() {}

    /** The corridor state advanced in resonance-time. */
    public record CorridorState(double t, double C, double D, double Q, double R,
                                String device, String scenario, String difficulty) {}

    /** One observation of the state, as written to session logs. */
    public record Sample(double t, double C, double D, double Q, double R) {}

    public static CorridorState makeInitialState() {
        return new CorridorState(0.0, 0.10, 1.0, 0.5, 0.0, "COMT", "COMT_LOCK_01", "Journeyman");
    }

    /** One step: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt (IEEE-754 strict since Java 17). */
    public static CorridorState update(CorridorState s, double dt) {
        return new CorridorState(s.t() + dt, s.C() + 0.01 * dt, s.D() * (1 - 0.001 * dt), s.Q(), s.R(),
                s.device(), s.scenario(), s.difficulty());
    }

    public static Sample sampleFromState(CorridorState s) {
        return new Sample(s.t(), s.C(), s.D(), s.Q(), s.R());
    }

    /** The initial sample plus one sample per step. */
    public static List<Sample> runSimulation(int steps, double dt, CorridorState initial) {
        List<Sample> samples = new ArrayList<>(steps + 1);
        CorridorState s = initial;
        samples.add(sampleFromState(s));
        for (int i = 0; i < steps; i++) {
            s = update(s, dt);
            samples.add(sampleFromState(s));
        }
        return samples;
    }
}
