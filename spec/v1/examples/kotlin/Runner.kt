// Runner.kt — file mode (default): run the reference vector and write a session log.
// Protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
package rttinside

import com.google.gson.GsonBuilder
import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import com.google.gson.JsonPrimitive
import com.google.gson.JsonSyntaxException
import com.google.gson.stream.JsonReader
import com.google.gson.stream.JsonToken
import java.io.File
import java.io.StringReader
import java.time.Instant
import java.time.temporal.ChronoUnit

/** One case line → its JSON tree, strictly (Gson's JsonParser would be lenient). */
fun parseCase(line: String): JsonElement {
    val reader = JsonReader(StringReader(line))
    val tree = gson.getAdapter(JsonElement::class.java).read(reader)
    if (reader.peek() != JsonToken.END_DOCUMENT) throw JsonSyntaxException("unexpected text after the JSON value")
    return tree
}

private class BadCase(message: String) : Exception(message)

private fun JsonObject.obj(key: String): JsonObject =
    get(key) as? JsonObject ?: throw BadCase("$key must be an object")

private fun JsonObject.str(key: String): String =
    (get(key) as? JsonPrimitive)?.takeIf { it.isString }?.asString ?: throw BadCase("$key must be a string")

private fun JsonObject.num(key: String): Double =
    (get(key) as? JsonPrimitive)?.takeIf { it.isNumber }?.asDouble ?: throw BadCase("$key must be a number")

private fun JsonObject.steps(): Int {
    val n = num("steps")
    if (n < 0 || n != Math.floor(n) || n >= Int.MAX_VALUE) throw BadCase("steps must be an integer >= 0")
    return n.toInt()
}

/** One {initial_state, dt, steps} object → its samples. */
private fun run(spec: JsonObject): List<Sample> {
    val s0 = spec.obj("initial_state")
    val initial = CorridorState(s0.num("t"), s0.num("C"), s0.num("D"), s0.num("Q"), s0.num("R"))
    return runSimulation(spec.steps(), spec.num("dt"), initial)
}

private fun JsonObject.id(): String? = (get("id") as? JsonPrimitive)?.takeIf { it.isString }?.asString

fun answer(case: JsonObject): String {
    val session = LinkedHashMap<String, String>()
    for ((key, value) in case.obj("session").entrySet()) {
        if (value is JsonPrimitive && value.isString) session[key] = value.asString
    }
    val version = case.get("spec_version")
    return when ((version as? JsonPrimitive)?.takeIf { it.isString }?.asString) {
        "v1" -> toJson(sessionLog(session, run(case)))
        "v2" -> {
            val segments = (case.get("segments") as? JsonArray ?: throw BadCase("segments must be an array")).map {
                val g = it as? JsonObject ?: throw BadCase("each segment must be an object")
                Segment(g.str("segment_id"), g.str("label"), run(g))
            }
            toJson(segmentedLog(session, segments))
        }
        else -> status(case.id(), "skipped", "spec_version ${version ?: "(none)"} not supported")
    }
}

private fun protocolMode() {
    val out = System.out.bufferedWriter(Charsets.UTF_8)
    System.`in`.bufferedReader(Charsets.UTF_8).lineSequence().filter { it.isNotBlank() }.forEach { line ->
        var id: String? = null
        val reply = try {
            val case = parseCase(line) as? JsonObject ?: throw BadCase("a case must be a JSON object")
            id = case.id()
            answer(case)
        } catch (e: Exception) { // a bad case (BadCase), malformed JSON (IOException, JsonParseException), a NaN
            status(id, "errored", "${e.javaClass.simpleName}: ${e.message}")
        } catch (e: OutOfMemoryError) { // steps beyond the heap
            status(id, "errored", "OutOfMemoryError: ${e.message}")
        }
        out.write(reply)
        out.write("\n")
        out.flush()
    }
}

private fun fileMode(path: String) {
    val s0 = makeInitialState()
    val session = linkedMapOf(
        "session_id" to "RTT-KT-TEST",
        "timestamp" to Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
        "device" to s0.device,
        "scenario" to s0.scenario,
        "difficulty" to s0.difficulty
    )
    val pretty = GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create()
    File(path).writeText(pretty.toJson(sessionLog(session, runSimulation(3, 0.1, s0))) + "\n")
    println("wrote $path")
}

fun main(args: Array<String>) {
    if ("--protocol" in args) return protocolMode()
    val i = args.indexOf("--out")
    fileMode(if (i >= 0 && i + 1 < args.size) args[i + 1] else "rtt_kt_session.json")
}
