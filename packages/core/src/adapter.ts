import type { DimCore, SessionLogV1, SessionLogV2 } from "./types.js";

/**
 * The deterministic v1 → v2 mapping (spec/v2/adapter_v1_to_v2.md):
 * root samples and anomalies become one segment `seg-1` labelled `main`; SET → sample triadic.set;
 * nodes → triadic.snr.nodes; dimensional_core → triadic.dimcore; every other field is copied unchanged.
 * Lossless: every sample and anomaly is kept, in order.
 */
export function upgradeV1ToV2(v1: SessionLogV1): SessionLogV2 {
  const { samples, anomalies, nodes, dimensional_core, scores, ...rest } = v1;
  const segSamples = samples.map((s) => {
    if (!s.SET) return { ...s };
    const { SET, ...sample } = s;
    return { ...sample, triadic: { ...(s.triadic ?? {}), set: SET } };
  });
  const segAnomalies = (anomalies ?? []).map((a) => ({ ...a }));
  const triadic: NonNullable<SessionLogV2["triadic"]> = {};
  if (nodes) triadic.snr = { nodes: nodes.map((n) => ({ ...n })) };
  if (dimensional_core)
    triadic.dimcore = { ...dimensional_core, dims: { ...(dimensional_core.dims ?? {}) } } as DimCore;

  const extensions: NonNullable<SessionLogV2["extensions"]> = [];
  if (segSamples.some((s) => "triadic" in s)) extensions.push("SET");
  if (triadic.snr) extensions.push("SNR");
  if (triadic.dimcore) extensions.push("DIMCORE");

  const out: SessionLogV2 = {
    spec_version: "v2",
    ...rest,
    sample_count: segSamples.length,
    segment_count: 1,
    anomaly_count: segAnomalies.length,
    score_final: scores.final,
    segments: [{ segment_id: "seg-1", label: "main", samples: segSamples, anomalies: segAnomalies }],
    scores: { ...scores },
  } as SessionLogV2;
  if (extensions.length) out.extensions = extensions;
  if (Object.keys(triadic).length) out.triadic = triadic;
  return out;
}
