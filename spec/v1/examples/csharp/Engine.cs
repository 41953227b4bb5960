// Engine.cs — RTT-Inside corridor state and the v1 reference update rule (seed §3.2.1, §8.1). Pure, no I/O.
using System.Collections.Generic;

namespace RttInside
{
    /// <summary>The corridor state advanced in resonance-time (immutable, like the seed's record).</summary>
    public sealed class CorridorState
    {
        public CorridorState(double t, double c, double d, double q, double r,
                             string device = "", string scenario = "", string difficulty = "")
        {
            T = t; C = c; D = d; Q = q; R = r;
            Device = device; Scenario = scenario; Difficulty = difficulty;
        }

        public double T { get; }
        public double C { get; }
        public double D { get; }
        public double Q { get; }
        public double R { get; }
        public string Device { get; }
        public string Scenario { get; }
        public string Difficulty { get; }
    }

    /// <summary>One observation of the state, as written to session logs.</summary>
    public struct Sample
    {
        public Sample(double t, double c, double d, double q, double r) { T = t; C = c; D = d; Q = q; R = r; }

        public double T { get; }
        public double C { get; }
        public double D { get; }
        public double Q { get; }
        public double R { get; }
    }

    public static class Engine
    {
        public static CorridorState MakeInitialState() =>
            new CorridorState(0.0, 0.10, 1.0, 0.5, 0.0, "COMT", "COMT_LOCK_01", "Journeyman");

        /// <summary>One step: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt (binary64, never fused).</summary>
        public static CorridorState Update(CorridorState s, double dt) =>
            new CorridorState(s.T + dt, s.C + 0.01 * dt, s.D * (1 - 0.001 * dt), s.Q, s.R,
                              s.Device, s.Scenario, s.Difficulty);

        public static Sample SampleFromState(CorridorState s) => new Sample(s.T, s.C, s.D, s.Q, s.R);

        /// <summary>The initial sample plus one sample per step.</summary>
        public static List<Sample> RunSimulation(int steps, double dt, CorridorState initial)
        {
            var samples = new List<Sample>(steps + 1) { SampleFromState(initial) };
            var s = initial;
            for (var i = 0; i < steps; i++)
            {
                s = Update(s, dt);
                samples.Add(SampleFromState(s));
            }
            return samples;
        }
    }
}
