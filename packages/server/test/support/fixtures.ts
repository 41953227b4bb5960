import { type Anomaly, buildSessionV1, buildSessionV2, runSimulation, type Sample, type SessionLogV2 } from "@rtt/core";

const ISO0 = Date.UTC(2026, 0, 6, 8, 0, 0);

export interface V2Options {
  samples?: number;
  /** anomalies per segment: [t offset fraction, type, severity] */
  anomalies?: Array<[number, string, number]>;
  operator?: string;
  level?: number;
  day?: number;
  device_type?: SessionLogV2["device_type"];
  scenario?: string;
  difficulty?: string;
  mode?: SessionLogV2["mode"];
  scoreFinal?: number;
  dt?: number;
}

/** A realistic v2 log: warmup (10% of samples) and main segments, anomalies inside main's time range. */
export function makeV2(id: string, o: V2Options = {}): SessionLogV2 {
  const n = o.samples ?? 200;
  const dt = o.dt ?? 0.1;
  const warm = Math.max(2, Math.round(n * 0.1));
  const main = n - warm;
  const initial = { t: 0, C: 0.1, D: 1, Q: 0.5, R: 0 };
  const warmSamples = runSimulation(warm - 1, dt, initial);
  const mainSamples = runSimulation(main - 1, dt, initial);
  const tMax = mainSamples[mainSamples.length - 1].t;
  const anomalies: Anomaly[] = (o.anomalies ?? []).map(([f, type, severity]) => ({ t: f * tMax, type, severity }));
  const final = o.scoreFinal ?? 70;
  return buildSessionV2(
    {
      session_id: id,
      timestamp: new Date(ISO0 + (o.day ?? 0) * 86_400_000).toISOString(),
      device: o.device_type ?? "COMT",
      scenario: o.scenario ?? "COMT_LOCK_01",
      difficulty: o.difficulty ?? "Journeyman",
    },
    [
      { segment_id: "seg-warmup", label: "warmup", samples: warmSamples, anomalies: [] },
      { segment_id: "seg-main", label: "main", samples: mainSamples, anomalies },
    ],
    {
      device_type: o.device_type ?? "COMT",
      mode: o.mode ?? "TRAINING",
      operator_id: o.operator,
      operator_display: o.operator ? o.operator.split(":").pop() : undefined,
      mastery_level: o.level,
      scores: { stability: final, response: final, quality: final, final },
    },
  );
}

export function makeV1(id: string, samples = 4): ReturnType<typeof buildSessionV1> {
  const s: Sample[] = runSimulation(samples - 1, 0.1, { t: 0, C: 0.1, D: 1, Q: 0.5, R: 0 });
  return buildSessionV1(
    {
      session_id: id,
      timestamp: "2026-01-05T10:00:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
    },
    s,
    [{ t: 0.1, type: "DECOHERENCE_SPIKE", severity: 2 }],
    { stability: 50, response: 50, quality: 50, final: 50 },
  );
}

export const json = (v: unknown) => JSON.stringify(v);
