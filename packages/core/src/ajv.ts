import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import type Ajv2020Module from "ajv/dist/2020.js";
import type addFormatsModule from "ajv-formats";

export type { ErrorObject, ValidateFunction };

// Ajv and ajv-formats ship CommonJS; under NodeNext the constructor and the plugin sit on `.default`.
type Ajv2020Class = (typeof Ajv2020Module)["default"];
type AddFormats = (typeof addFormatsModule)["default"];

/** An Ajv instance as `createAjv` makes it. */
export type Ajv = InstanceType<Ajv2020Class>;

/**
 * Ajv's modules, loaded on the first createAjv: a process that imports @rtt/core but checks no schema (a diff's
 * worker thread, which must start fast; `rtt --version`) does not pay the 0.1–0.2 s of loading them.
 */
let loaded: { Ajv2020: Ajv2020Class; addFormats: AddFormats } | undefined;
function ajvModules(): { Ajv2020: Ajv2020Class; addFormats: AddFormats } {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = {
      Ajv2020: (require("ajv/dist/2020.js") as typeof Ajv2020Module).default,
      addFormats: (require("ajv-formats") as typeof addFormatsModule).default,
    };
  }
  return loaded;
}

/**
 * How much a validator reports:
 * - `"first-error"` stops at the first problem: the hot path, for the common valid case;
 * - `"all-errors"` names every problem and keeps the offending value on each error (`verbose`), for reports.
 */
export type AjvMode = "first-error" | "all-errors";

/**
 * The one Ajv setup for every schema in spec/ (session logs, CTF events, beacon requests): JSON Schema 2020-12
 * with ajv-formats.
 *
 * Strictness, the strictest that every schema in spec/ passes: `strict: true` — unknown keywords, ignored keywords,
 * ambiguous types and tuples are compile errors, and `type: "number"` rejects NaN and ±Infinity (`strictNumbers`;
 * JSON.parse yields Infinity for `1e999`) — except `strictRequired`: spec/v2's session schema
 * (`anyOf: [{required: ["samples"]}, …]`) and spec/beacon/validate.schema.json (`if`/`then` with `required`) name
 * properties defined beside, not inside, the subschema — valid JSON Schema that `strictRequired` rejects.
 */
export function createAjv(mode: AjvMode): Ajv {
  const { Ajv2020, addFormats } = ajvModules();
  const allErrors = mode === "all-errors";
  const ajv = new Ajv2020({ allErrors, verbose: allErrors, strict: true, strictRequired: false });
  addFormats(ajv);
  return ajv;
}
