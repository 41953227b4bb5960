// RttInsideTest.kt — JUnit 4: the engine reproduces spec/v1/reference_samples.json within 1e-9 (seed §10), the logs
// have the required shape, numbers round-trip, and the protocol answers skips and errors.
// RTT_REFERENCE_SAMPLES names the file (default ../../reference_samples.json).
package rttinside

import com.google.gson.JsonArray
import com.google.gson.JsonObject
import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test

class RttInsideTest {
    private val eps = 1e-9

    @Test
    fun engineMatchesReferenceSamples() {
        val path = System.getenv("RTT_REFERENCE_SAMPLES") ?: "../../reference_samples.json"
        val reference = parseCase(File(path).readText()) as JsonArray
        val got = runSimulation(3, 0.1, makeInitialState())
        assertEquals("sample count", reference.size(), got.size)
        got.forEachIndexed { i, s ->
            val want = reference[i].asJsonObject
            assertEquals("sample $i, t", want["t"].asDouble, s.t, eps)
            assertEquals("sample $i, C", want["C"].asDouble, s.C, eps)
            assertEquals("sample $i, D", want["D"].asDouble, s.D, eps)
            assertEquals("sample $i, Q", want["Q"].asDouble, s.Q, eps)
            assertEquals("sample $i, R", want["R"].asDouble, s.R, eps)
        }
    }

    @Test
    fun updateKeepsQRAndMeta() {
        val s = update(makeInitialState(), 0.1)
        assertEquals(0.5, s.Q, 0.0)
        assertEquals(0.0, s.R, 0.0)
        assertEquals("COMT", s.device)
    }

    @Test
    fun logHasRequiredMembersAndRoundTrips() {
        val session = linkedMapOf("session_id" to "x", "timestamp" to "2026-01-06T00:00:00Z", "device" to "CO\"MT<",
            "scenario" to "S", "difficulty" to "D")
        val samples = runSimulation(2, 0.1, makeInitialState())
        val log = parseCase(toJson(sessionLog(session, samples))) as JsonObject
        for (key in listOf("session_id", "timestamp", "device", "scenario", "difficulty", "samples", "anomalies", "scores"))
            assertTrue("missing $key", log.has(key))
        assertEquals("CO\"MT<", log["device"].asString)
        assertEquals(3, log["samples"].asJsonArray.size())
        assertEquals("numbers must round-trip exactly", samples[2].D, log["samples"].asJsonArray[2].asJsonObject["D"].asDouble, 0.0)
    }

    @Test
    fun segmentedLogKeepsSegmentIdsAndLabels() {
        val log = parseCase(toJson(segmentedLog(mapOf("session_id" to "x"), listOf(
            Segment("seg-1", "warmup", runSimulation(1, 0.1, makeInitialState())),
            Segment("seg-2", "main", runSimulation(0, 0.1, makeInitialState()))
        )))) as JsonObject
        assertEquals("v2", log["spec_version"].asString)
        val segments = log["segments"].asJsonArray
        assertEquals("seg-1", segments[0].asJsonObject["segment_id"].asString)
        assertEquals("warmup", segments[0].asJsonObject["label"].asString)
        assertEquals(2, segments[0].asJsonObject["samples"].asJsonArray.size())
        assertEquals("seg-2", segments[1].asJsonObject["segment_id"].asString)
    }

    @Test
    fun protocolAnswersSkips() {
        val reply = parseCase(answer(parseCase("""{"id":"a","spec_version":"v9","session":{}}""") as JsonObject)) as JsonObject
        assertEquals("a", reply["id"].asString)
        assertNotNull(reply["skipped"])
    }
}
