import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, loadTrustStore, signDocument, trustKey, verifyDocument, writeKeyPair } from "@rtt/fabric";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "rtt-trust-prop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("any JSON object signs and verifies", () => {
  const pair = generateKeyPair();
  trustKey(join(dir, "registry"), writeKeyPair(pair, join(dir, "keys"), "p").publicKeyFile);
  const store = loadTrustStore(join(dir, "registry"));
  // JSON-safe values only: -0 and non-finite numbers do not survive JSON text.
  const json = fc.jsonValue({ maxDepth: 4, noUnicodeString: false }).map((v) => JSON.parse(JSON.stringify(v)));
  const object = fc.dictionary(fc.string(), json, { maxKeys: 8 });

  it("signs, survives a JSON text round trip, and breaks when a member changes", () => {
    fc.assert(
      fc.property(object, (doc) => {
        const signed = signDocument(doc, pair.privateKey);
        const back = JSON.parse(JSON.stringify(signed, null, 2));
        expect(verifyDocument(back, store).status).toBe("valid");
        const changed = { ...back, "\u0000added": true };
        expect(verifyDocument(changed, store).status).toBe("bad_signature");
      }),
      { numRuns: 200 },
    );
  });
});
