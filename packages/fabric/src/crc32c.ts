import { crc32c as nativeCrc32c } from "@node-rs/crc32";

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) lookup table for the byte-at-a-time path. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Below this many bytes the JS table loop beats the native call's overhead. Measured here (Node 20, loaded 2-core
 * machine): 32 B 0.16 µs both; 64 B JS 0.33 µs vs native 0.14 µs; 200 B 1.08 vs 0.23 µs. FABRIC.md's 256 B guess
 * came from 24 B and 64 KiB points only; WAL records (~100–300 B) sit right in the range it got wrong.
 */
const NATIVE_FROM = 48;

/**
 * CRC-32C of `bytes` (`zlib.crc32` is IEEE CRC-32, a different polynomial). `previous` chains: the CRC of a ‖ b equals
 * `crc32c(b, crc32c(a))`, which is how the WAL chains each record's CRC over all earlier records.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  if (bytes.length >= NATIVE_FROM) return nativeCrc32c(bytes, previous) >>> 0;
  let c = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
