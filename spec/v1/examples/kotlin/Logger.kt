// Logger.kt — RTT-Inside session logs serialized by Gson: v1 with samples, v2 with segments.
package rttinside

import com.google.gson.Gson
import com.google.gson.GsonBuilder
import com.google.gson.JsonObject
import com.google.gson.annotations.SerializedName

/** One v2 segment; Gson writes it as {"segment_id", "label", "samples"}. */
data class Segment(
    @field:SerializedName("segment_id") val segmentId: String,
    val label: String,
    val samples: List<Sample>
)

data class Scores(val stability: Int = 0, val response: Int = 0, val quality: Int = 0, val final: Int = 0)

/**
 * Gson writes a double with Double.toString, which parses back to the same double ("0.30000000000000004",
 * "1.0E-7"); NaN and Infinity, which JSON lacks, are refused.
 */
val gson: Gson = GsonBuilder().disableHtmlEscaping().serializeNulls().create()

/** A v1 log: the session's string fields (in order), samples, anomalies (none), scores (zeros). */
fun sessionLog(session: Map<String, String>, samples: List<Sample>): Map<String, Any> =
    session + mapOf("samples" to samples, "anomalies" to emptyList<Any>(), "scores" to Scores())

/** A v2 log: spec_version "v2", the session's string fields, segments. */
fun segmentedLog(session: Map<String, String>, segments: List<Segment>): Map<String, Any> =
    mapOf("spec_version" to "v2") + session +
        mapOf("segments" to segments, "anomalies" to emptyList<Any>(), "scores" to Scores())

/** {"id": …, "errored"|"skipped": message}; a null id when the case had none. */
fun status(id: String?, key: String, message: String): String =
    gson.toJson(JsonObject().apply {
        addProperty("id", id)
        addProperty(key, message)
    })

fun toJson(log: Map<String, Any>): String = gson.toJson(log)
