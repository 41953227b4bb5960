/**
 * The drivers' seccomp-BPF filter, generated here (no libseccomp): classic BPF over `struct seccomp_data`, the bytes
 * bwrap loads with `--seccomp FD` (an array of `struct sock_filter`, 8 bytes each, host byte order). The list and
 * the reasons are in spec/fabric/sandbox.md; `SECCOMP_RULES` is that list as data.
 *
 * Shape: a deny list on top of bubblewrap's namespaces (allow by default, EPERM for what a driver never needs and an
 * attacker wants). The seed's "specific syscalls only" as a strict allow list is left for later: Node, V8 and libuv
 * use a broad, version-dependent set, and a filter that kills the runtime after an upgrade is worse than one that
 * denies the dangerous few. The architecture is checked first: any other ABI (i386 or x32 on x86_64, arm32 on
 * aarch64) would see different syscall numbers and slip past the list, so it kills the process.
 */

/** `struct seccomp_data` offsets: nr (int), arch (u32), instruction_pointer (u64), args[6] (u64, little-endian). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const offArgLow = (i: number) => 16 + 8 * i;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

export const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
export type SeccompArch = keyof typeof AUDIT_ARCH;

export const EPERM = 1;
export const ENOSYS = 38;
export const AF_UNIX = 1;
/** x32 syscalls on x86_64 are numbered from here (`__X32_SYSCALL_BIT`). */
const X32_SYSCALL_BIT = 0x40000000;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (CLONE_NEWTIME overlaps the exit signal). */
export const CLONE_NEW_MASK = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

export type SeccompAction =
  | { kind: "errno"; errno: number }
  /** EPERM unless the first argument (the socket family) is AF_UNIX. */
  | { kind: "unix-only" }
  /** EPERM when the clone flags (first argument) ask for a new namespace; threads and fork pass. */
  | { kind: "no-new-namespace" };

export interface SeccompRule {
  name: string;
  /** Syscall numbers; absent where the architecture has no such call (aarch64 never had iopl, uselib, …). */
  nr: { x86_64?: number; aarch64?: number };
  action: SeccompAction;
  why: string;
}

const DENY: SeccompAction = { kind: "errno", errno: EPERM };
const r = (
  name: string,
  x86_64: number | undefined,
  aarch64: number | undefined,
  why: string,
  action: SeccompAction = DENY,
): SeccompRule => ({
  name,
  nr: { ...(x86_64 !== undefined ? { x86_64 } : {}), ...(aarch64 !== undefined ? { aarch64 } : {}) },
  action,
  why,
});

const NET = "no network: only AF_UNIX sockets (the fabric's own channels); AF_INET/INET6/NETLINK/PACKET/… are refused";
const MOUNT = "the filesystem view is bwrap's; a driver must not change it";
const NS = "no new namespaces: they are the usual first step of a kernel exploit and could undo the sandbox's view";
const KERNEL = "kernel attack surface a driver never needs";
const SYSTEM = "changes the whole machine, not the driver";

/** The filter's rules, in the order they are tested. Numbers from the kernel's unistd_64.h / asm-generic/unistd.h. */
export const SECCOMP_RULES: readonly SeccompRule[] = [
  r("socket", 41, 198, NET, { kind: "unix-only" }),
  r("socketpair", 53, 199, NET, { kind: "unix-only" }),
  r("clone", 56, 220, NS, { kind: "no-new-namespace" }),
  // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc and libuv fall back to clone().
  r("clone3", 435, 435, "flags out of the filter's reach; ENOSYS makes libc fall back to clone", {
    kind: "errno",
    errno: ENOSYS,
  }),
  r("unshare", 272, 97, NS),
  r("setns", 308, 268, NS),
  r("ptrace", 101, 117, "no tracing or memory access of other processes"),
  r("process_vm_readv", 310, 270, "reads another process's memory"),
  r("process_vm_writev", 311, 271, "writes another process's memory"),
  r("pidfd_getfd", 438, 438, "steals another process's file descriptors"),
  r("mount", 165, 40, MOUNT),
  r("umount2", 166, 39, MOUNT),
  r("pivot_root", 155, 41, MOUNT),
  r("chroot", 161, 51, MOUNT),
  r("open_tree", 428, 428, MOUNT),
  r("move_mount", 429, 429, MOUNT),
  r("fsopen", 430, 430, MOUNT),
  r("fsconfig", 431, 431, MOUNT),
  r("fsmount", 432, 432, MOUNT),
  r("fspick", 433, 433, MOUNT),
  r("mount_setattr", 442, 442, MOUNT),
  r("name_to_handle_at", 303, 264, "file handles bypass the mount view (the 'shocker' escape)"),
  r("open_by_handle_at", 304, 265, "file handles bypass the mount view (the 'shocker' escape)"),
  r("keyctl", 250, 219, "the kernel keyring is not namespaced"),
  r("add_key", 248, 217, "the kernel keyring is not namespaced"),
  r("request_key", 249, 218, "the kernel keyring is not namespaced"),
  r("bpf", 321, 280, KERNEL),
  r("perf_event_open", 298, 241, `${KERNEL}; also a side channel`),
  r("userfaultfd", 323, 282, `${KERNEL}; used to win kernel races`),
  r("io_uring_setup", 425, 425, "io_uring runs socket and file operations the filter never sees"),
  r("io_uring_enter", 426, 426, "io_uring runs socket and file operations the filter never sees"),
  r("io_uring_register", 427, 427, "io_uring runs socket and file operations the filter never sees"),
  r("fanotify_init", 300, 262, "watches other processes' file access"),
  r("lookup_dcookie", 212, 18, KERNEL),
  r("syslog", 103, 116, "reads the kernel log (addresses)"),
  r("kexec_load", 246, 104, SYSTEM),
  r("kexec_file_load", 320, 294, SYSTEM),
  r("reboot", 169, 142, SYSTEM),
  r("init_module", 175, 105, SYSTEM),
  r("finit_module", 313, 273, SYSTEM),
  r("delete_module", 176, 106, SYSTEM),
  r("swapon", 167, 224, SYSTEM),
  r("swapoff", 168, 225, SYSTEM),
  r("acct", 163, 89, SYSTEM),
  r("settimeofday", 164, 170, SYSTEM),
  r("clock_settime", 227, 112, SYSTEM),
  r("clock_adjtime", 305, 266, SYSTEM),
  r("adjtimex", 159, 171, SYSTEM),
  r("sethostname", 170, 161, SYSTEM),
  r("setdomainname", 171, 162, SYSTEM),
  r("quotactl", 179, 60, SYSTEM),
  r("quotactl_fd", 443, 443, SYSTEM),
  r("vhangup", 153, 58, SYSTEM),
  r("nfsservctl", 180, 42, SYSTEM),
  r("iopl", 172, undefined, "raw I/O port access"),
  r("ioperm", 173, undefined, "raw I/O port access"),
  r("uselib", 134, undefined, "obsolete"),
  r("_sysctl", 156, undefined, "obsolete"),
  r("ustat", 136, undefined, "obsolete"),
  r("sysfs", 139, undefined, "obsolete"),
  r("create_module", 174, undefined, "obsolete"),
  r("get_kernel_syms", 177, undefined, "obsolete"),
  r("query_module", 178, undefined, "obsolete"),
];

/** One classic BPF instruction before jump offsets are resolved: jt/jf are label names or 0 (fall through). */
interface Insn {
  code: number;
  k: number;
  jt?: string;
  jf?: string;
  label?: string;
}

function assemble(prog: Insn[]): Buffer {
  const at = new Map<string, number>();
  prog.forEach((ins, i) => {
    if (ins.label) at.set(ins.label, i);
  });
  const out = Buffer.alloc(prog.length * 8);
  const rel = (from: number, label: string | undefined): number => {
    if (label === undefined) return 0;
    const to = at.get(label);
    if (to === undefined) throw new Error(`seccomp: no label ${label}`);
    const off = to - from - 1;
    if (off < 0 || off > 255) throw new Error(`seccomp: jump to ${label} out of range (${off})`);
    return off;
  };
  prog.forEach((ins, i) => {
    const o = i * 8;
    out.writeUInt16LE(ins.code, o);
    out.writeUInt8(rel(i, ins.jt), o + 2);
    out.writeUInt8(rel(i, ins.jf), o + 3);
    out.writeUInt32LE(ins.k >>> 0, o + 4);
  });
  return out;
}

const ld = (offset: number, label?: string): Insn => ({ code: BPF_LD_W_ABS, k: offset, ...(label ? { label } : {}) });
const ret = (k: number, label?: string): Insn => ({ code: BPF_RET_K, k, ...(label ? { label } : {}) });
const jeq = (k: number, jt?: string, jf?: string): Insn => ({
  code: BPF_JEQ_K,
  k,
  ...(jt ? { jt } : {}),
  ...(jf ? { jf } : {}),
});

/**
 * The filter program for the given architectures (default both): the bytes to hand to `bwrap --seccomp FD`. The
 * machine's byte order is little-endian on both; the program is the same bytes on either, and checks which one it
 * runs on.
 */
export function buildSeccompFilter(
  rules: readonly SeccompRule[] = SECCOMP_RULES,
  arches: readonly SeccompArch[] = ["x86_64", "aarch64"],
): Buffer {
  if (arches.length === 0) throw new Error("seccomp: no architecture");
  // Classic BPF jumps forward only: the shared returns (allow, kill, errno) sit at the end.
  const p: Insn[] = [ld(OFF_ARCH)];
  arches.forEach((a, i) => {
    p.push(jeq(AUDIT_ARCH[a], `arch_${a}`, i === arches.length - 1 ? "kill" : undefined));
  });
  const errnos = new Set<number>();
  for (const a of arches) {
    p.push(ld(OFF_NR, `arch_${a}`));
    if (a === "x86_64") p.push({ code: BPF_JGE_K, k: X32_SYSCALL_BIT, jt: "kill" });
    for (const rule of rules) {
      const nr = rule.nr[a];
      if (nr === undefined) continue;
      const act = rule.action;
      const target = act.kind === "errno" ? `errno_${act.errno}` : `${act.kind}_${a}`;
      if (act.kind === "errno") errnos.add(act.errno);
      p.push(jeq(nr, target));
    }
    p.push(ret(SECCOMP_RET_ALLOW));
    if (rules.some((x) => x.action.kind === "unix-only" && x.nr[a] !== undefined))
      p.push(ld(offArgLow(0), `unix-only_${a}`), jeq(AF_UNIX, "allow", "errno_1"));
    if (rules.some((x) => x.action.kind === "no-new-namespace" && x.nr[a] !== undefined))
      p.push(ld(offArgLow(0), `no-new-namespace_${a}`), { code: BPF_JSET_K, k: CLONE_NEW_MASK, jt: "errno_1" });
    if (p.at(-1)?.code !== BPF_RET_K) p.push(ret(SECCOMP_RET_ALLOW));
  }
  errnos.add(EPERM);
  p.push(ret(SECCOMP_RET_ALLOW, "allow"));
  p.push(ret(SECCOMP_RET_KILL_PROCESS, "kill"));
  for (const e of [...errnos].sort((x, y) => x - y)) p.push(ret(SECCOMP_RET_ERRNO | e, `errno_${e}`));
  return assemble(p);
}

/**
 * Runs a filter program on one syscall, as the kernel would: for tests and `rtt` diagnostics. Returns the action
 * word (SECCOMP_RET_*). Supports exactly the instructions buildSeccompFilter emits.
 */
export function runSeccompFilter(
  program: Buffer,
  call: { arch: number; nr: number; args?: readonly number[] },
): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(call.nr | 0, OFF_NR);
  data.writeUInt32LE(call.arch >>> 0, OFF_ARCH);
  (call.args ?? []).forEach((v, i) => {
    data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 16 + 8 * i);
  });
  let acc = 0;
  let pc = 0;
  const n = program.length / 8;
  while (pc < n) {
    const o = pc * 8;
    const code = program.readUInt16LE(o);
    const jt = program.readUInt8(o + 2);
    const jf = program.readUInt8(o + 3);
    const k = program.readUInt32LE(o + 4);
    switch (code) {
      case BPF_LD_W_ABS:
        acc = data.readUInt32LE(k);
        pc++;
        break;
      case BPF_JEQ_K:
        pc += 1 + (acc === k ? jt : jf);
        break;
      case BPF_JGE_K:
        pc += 1 + (acc >= k ? jt : jf);
        break;
      case BPF_JSET_K:
        pc += 1 + ((acc & k) >>> 0 !== 0 ? jt : jf);
        break;
      case BPF_RET_K:
        return k;
      default:
        throw new Error(`seccomp: unknown instruction 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("seccomp: program fell off the end");
}
