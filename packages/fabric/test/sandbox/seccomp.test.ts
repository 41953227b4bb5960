import { existsSync, readFileSync } from "node:fs";
import {
  AF_UNIX,
  AUDIT_ARCH,
  Backoff,
  buildSeccompFilter,
  ENOSYS,
  EPERM,
  runSeccompFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RULES,
} from "@rtt/fabric";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const prog = buildSeccompFilter();
const X86 = AUDIT_ARCH.x86_64;
const ARM = AUDIT_ARCH.aarch64;
const run = (arch: number, nr: number, args: number[] = []) => runSeccompFilter(prog, { arch, nr, args });
const nrOf = (name: string, arch: "x86_64" | "aarch64") => SECCOMP_RULES.find((r) => r.name === name)!.nr[arch]!;
const AF = { INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, UNIX: AF_UNIX, VSOCK: 40, BLUETOOTH: 31 };

describe("the seccomp-BPF program", () => {
  it("is a whole number of 8-byte sock_filter instructions, within the kernel's 4096", () => {
    expect(prog.length % 8).toBe(0);
    expect(prog.length / 8).toBeGreaterThan(10);
    expect(prog.length / 8).toBeLessThanOrEqual(4096);
  });

  it("kills on any other architecture (i386, arm32, x32 numbers)", () => {
    expect(run(0x40000003, 1)).toBe(SECCOMP_RET_KILL_PROCESS); // AUDIT_ARCH_I386
    expect(run(0x40000028, 1)).toBe(SECCOMP_RET_KILL_PROCESS); // AUDIT_ARCH_ARM
    expect(run(X86, 0x40000000 + 41, [AF.INET])).toBe(SECCOMP_RET_KILL_PROCESS); // x32 socket
    expect(run(ARM, 0x40000000 + 41)).toBe(SECCOMP_RET_ALLOW); // aarch64 has no x32 bit: an unknown nr is ENOSYS in the kernel
  });

  for (const [arch, a] of [
    ["x86_64", X86],
    ["aarch64", ARM],
  ] as const) {
    it(`${arch}: socket and socketpair only for AF_UNIX`, () => {
      for (const call of ["socket", "socketpair"]) {
        const nr = nrOf(call, arch);
        expect(run(a, nr, [AF.UNIX, 1, 0])).toBe(SECCOMP_RET_ALLOW);
        for (const fam of [AF.INET, AF.INET6, AF.NETLINK, AF.PACKET, AF.VSOCK, AF.BLUETOOTH, 0])
          expect(run(a, nr, [fam, 1, 0])).toBe(SECCOMP_RET_ERRNO | EPERM);
        // The kernel reads the family as an int: the high word is ignored, like the filter does.
        expect(run(a, nr, [2 ** 32 + AF.UNIX])).toBe(SECCOMP_RET_ALLOW);
      }
    });

    it(`${arch}: clone without namespace flags passes (threads, fork); with them EPERM; clone3 ENOSYS`, () => {
      const clone = nrOf("clone", arch);
      expect(run(a, clone, [0x3d0f00])).toBe(SECCOMP_RET_ALLOW); // pthread_create's flags
      expect(run(a, clone, [17])).toBe(SECCOMP_RET_ALLOW); // fork: SIGCHLD
      expect(run(a, clone, [0x10000000 | 17])).toBe(SECCOMP_RET_ERRNO | EPERM); // CLONE_NEWUSER
      expect(run(a, clone, [0x40000000 | 17])).toBe(SECCOMP_RET_ERRNO | EPERM); // CLONE_NEWNET
      expect(run(a, nrOf("clone3", arch))).toBe(SECCOMP_RET_ERRNO | ENOSYS);
    });

    it(`${arch}: every denied call gets its errno; everything else is allowed`, () => {
      const denied = new Map<number, number>();
      for (const r of SECCOMP_RULES) {
        const nr = r.nr[arch];
        if (nr !== undefined && r.action.kind === "errno") denied.set(nr, r.action.errno);
      }
      for (const [nr, errno] of denied) expect(run(a, nr, [0])).toBe(SECCOMP_RET_ERRNO | errno);
      const special = new Set(SECCOMP_RULES.filter((r) => r.action.kind !== "errno").map((r) => r.nr[arch]));
      for (let nr = 0; nr < 600; nr++)
        if (!denied.has(nr) && !special.has(nr)) expect(run(a, nr, [AF.INET])).toBe(SECCOMP_RET_ALLOW);
    });
  }

  it("property: the program never falls off its end or jumps out of it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(X86, ARM, 0, 0x40000003, 0xffffffff),
        fc.integer({ min: -1, max: 0x7fffffff }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (arch, nr, args) => {
          const action = runSeccompFilter(prog, { arch, nr, args });
          expect([
            SECCOMP_RET_ALLOW,
            SECCOMP_RET_KILL_PROCESS,
            SECCOMP_RET_ERRNO | EPERM,
            SECCOMP_RET_ERRNO | ENOSYS,
          ]).toContain(action);
        },
      ),
      { numRuns: 2000 },
    );
  });

  // The numbers are typed in by hand; check them against this machine's kernel headers when it has them.
  const headers = [
    ["x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"],
    ["aarch64", "/usr/include/asm-generic/unistd.h"],
  ] as const;
  for (const [arch, file] of headers) {
    it.skipIf(!existsSync(file))(`${arch} numbers match ${file}`, () => {
      const text = readFileSync(file, "utf8");
      let checked = 0;
      for (const r of SECCOMP_RULES) {
        const m = new RegExp(`^#define __NR(?:3264)?_${r.name}\\s+(\\d+)`, "m").exec(text);
        const ours = r.nr[arch];
        if (m) {
          expect(ours, r.name).toBe(Number(m[1]));
          checked++;
        } else expect(ours, `${r.name} is not in ${file}`).toBeUndefined();
      }
      expect(checked).toBeGreaterThan(40);
    });
  }
});

describe("restart back-off", () => {
  it("doubles from initialMs to the cap, jitter only shortens, and the same seed gives the same delays", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 2000, jitter: 0.5, seed: 7 });
    const delays = Array.from({ length: 10 }, (_, i) => b.delay(i + 1));
    const ceilings = [100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000];
    delays.forEach((d, i) => {
      expect(d).toBeLessThanOrEqual(ceilings[i]!);
      expect(d).toBeGreaterThanOrEqual(ceilings[i]! / 2);
    });
    const again = new Backoff({ initialMs: 100, maxMs: 2000, jitter: 0.5, seed: 7 });
    expect(Array.from({ length: 10 }, (_, i) => again.delay(i + 1))).toEqual(delays);
    const other = new Backoff({ initialMs: 100, maxMs: 2000, jitter: 0.5, seed: 8 });
    expect(Array.from({ length: 10 }, (_, i) => other.delay(i + 1))).not.toEqual(delays);
    expect(new Backoff({ jitter: 0, initialMs: 10, maxMs: 50 }).delay(4)).toBe(50);
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
  });
});
