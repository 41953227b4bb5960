// Engine.kt — RTT-Inside corridor state and the v1 reference update rule (seed §3.2.2, §8.1). Pure, no I/O.
package rttinside

/** The corridor state advanced in resonance-time. */
data class CorridorState(
    val t: Double,
    val C: Double,
    val D: Double,
    val Q: Double,
    val R: Double,
    val device: String = "",
    val scenario: String = "",
    val difficulty: String = ""
)

/** One observation of the state, as written to session logs (Gson writes the properties under these names). */
data class Sample(val t: Double, val C: Double, val D: Double, val Q: Double, val R: Double)

fun makeInitialState() = CorridorState(0.0, 0.10, 1.0, 0.5, 0.0, "COMT", "COMT_LOCK_01", "Journeyman")

/** One step: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt — binary64 on the JVM, never fused. */
fun update(s: CorridorState, dt: Double) = s.copy(t = s.t + dt, C = s.C + 0.01 * dt, D = s.D * (1 - 0.001 * dt))

fun CorridorState.toSample() = Sample(t, C, D, Q, R)

/** The initial sample plus one sample per step. */
fun runSimulation(steps: Int, dt: Double, initial: CorridorState): List<Sample> {
    val samples = ArrayList<Sample>(steps + 1)
    var s = initial
    samples += s.toSample()
    repeat(steps) {
        s = update(s, dt)
        samples += s.toSample()
    }
    return samples
}
