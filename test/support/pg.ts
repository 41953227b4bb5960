import { randomBytes } from "node:crypto";
import pg from "pg";

export const PG_URL = process.env.RTT_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** CI sets RTT_REQUIRE_PG=1: PostgreSQL must be there, so its tests fail instead of quietly skipping. */
export const PG_REQUIRED = process.env.RTT_REQUIRE_PG === "1";

/**
 * Undefined when PostgreSQL answers; otherwise why the PostgreSQL runs are skipped (printed once). With
 * RTT_REQUIRE_PG=1 an unreachable PostgreSQL throws instead, failing the test file.
 */
export async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (e) {
    const problem = `PostgreSQL at ${PG_URL} unreachable (${(e as Error).message})`;
    if (PG_REQUIRED) throw new Error(`${problem}, and RTT_REQUIRE_PG=1 requires it`);
    const reason = `${problem}; PostgreSQL tests skipped`;
    console.warn(reason);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema name unique to this run (dropped by the test afterwards). */
export const uniqueSchema = (tag: string) => `rtt_test_${tag}_${process.pid}_${randomBytes(3).toString("hex")}`;
