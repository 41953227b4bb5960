/** Builds the POST /api/rtt/validate payload (seed 001: build_validate_payload). */
import type { ValidatePayload } from "./types.js";

export function buildValidatePayload(input: {
  system_map: ValidatePayload["system_map"];
  flows?: ValidatePayload["flows"];
  constraints?: ValidatePayload["constraints"];
}): ValidatePayload {
  if (input?.system_map === null || typeof input?.system_map !== "object")
    throw new TypeError("buildValidatePayload: system_map must be an object");
  return { system_map: input.system_map, flows: input.flows ?? [], constraints: input.constraints ?? [] };
}

/** The seeds' snake_case spelling. */
export const build_validate_payload = buildValidatePayload;
