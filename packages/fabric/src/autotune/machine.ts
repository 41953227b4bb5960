import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../canonical.js";

/** What a tuned profile is keyed by (spec/fabric/autotune.md, "Keying"): the CPU model and the NUMA topology. */
export interface MachineInfo {
  /** `model name` of /proc/cpuinfo (os.cpus() elsewhere), whitespace collapsed. */
  cpu_model: string;
  /** Logical CPUs online. */
  cpus: number;
  /** NUMA nodes with their CPUs (/sys/devices/system/node/node*\/cpulist); one node 0 with every CPU when absent. */
  numa: Array<{ node: number; cpus: number[] }>;
}

/** The profile key: `sha256:` of the canonical `{cpu_model, cpus, numa}` (stable across runs on one machine). */
export function machineKey(m: MachineInfo): string {
  const numa = [...m.numa]
    .sort((a, b) => a.node - b.node)
    .map((n) => `${n.node}:${[...n.cpus].sort((a, b) => a - b).join(",")}`);
  return `sha256:${sha256Hex(JSON.stringify({ cpu_model: m.cpu_model, cpus: m.cpus, numa }))}`;
}

/** Parses a Linux CPU list ("0-3,8,10-11") into CPU numbers; an empty or unreadable list is []. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i - a < 65_536; i++) out.push(i);
  }
  return out;
}

/** Formats CPU numbers as a Linux CPU list (the form taskset -c and cpuset.cpus take). */
export function formatCpuList(list: readonly number[]): string {
  const s = [...new Set(list)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && (s[j + 1] as number) === (s[j] as number) + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
};

/** Reads this machine's CPU model and NUMA topology. Needs no privileges: procfs and sysfs are world-readable. */
export function readMachine(sys = "/sys/devices/system/node", cpuinfo = "/proc/cpuinfo"): MachineInfo {
  const info = read(cpuinfo);
  const model =
    /^model name\s*:\s*(.+)$/m.exec(info ?? "")?.[1] ??
    /^Hardware\s*:\s*(.+)$/m.exec(info ?? "")?.[1] ??
    cpus()[0]?.model ??
    "unknown";
  const online = parseCpuList(read("/sys/devices/system/cpu/online") ?? "");
  const n = online.length || cpus().length || 1;
  const numa: MachineInfo["numa"] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(sys);
  } catch {}
  for (const e of entries) {
    const m = /^node(\d+)$/.exec(e);
    if (!m) continue;
    numa.push({ node: Number(m[1]), cpus: parseCpuList(read(join(sys, e, "cpulist")) ?? "") });
  }
  numa.sort((a, b) => a.node - b.node);
  if (numa.length === 0) numa.push({ node: 0, cpus: Array.from({ length: n }, (_, i) => i) });
  return { cpu_model: model.replace(/\s+/g, " ").trim(), cpus: n, numa };
}

/** The CPUs this process may run on (`Cpus_allowed_list` of /proc/self/status: a cgroup cpuset or taskset narrows it). */
export function allowedCpus(m: MachineInfo): number[] {
  const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(read("/proc/self/status") ?? "")?.[1];
  const list = line ? parseCpuList(line) : [];
  return list.length ? list : m.numa.flatMap((n) => n.cpus);
}

export interface PinningSuggestion {
  /** The NUMA node the hot path should live on (the node with the most CPUs this process may use; lowest id on ties). */
  node: number;
  /** CPUs for the daemon (its main thread and SHM lane workers) and for drivers; disjoint when there are ≥ 2 CPUs. */
  daemon_cpus: string;
  driver_cpus: string;
  /** Commands to run them so; none needs privileges (taskset on one's own processes; systemd-run --user for a cpuset). */
  commands: string[];
  notes: string[];
}

/**
 * CPU pinning suggestions (never applied: the operator runs them). SHM lanes spin, so each side wants a CPU of its
 * own on one NUMA node — a ring that crosses nodes pays a remote cache line per frame. On a 1- or 2-CPU machine the
 * suggestion is to leave the scheduler alone (pinning a spinning pair onto shared cores makes tails worse).
 */
export function suggestPinning(m: MachineInfo, allowed = allowedCpus(m)): PinningSuggestion {
  const ok = new Set(allowed);
  let best = m.numa[0] ?? { node: 0, cpus: allowed };
  let bestCount = -1;
  for (const n of m.numa) {
    const c = n.cpus.filter((x) => ok.has(x)).length;
    if (c > bestCount) {
      best = n;
      bestCount = c;
    }
  }
  const usable = best.cpus.filter((x) => ok.has(x));
  const notes: string[] = [];
  if (m.numa.length > 1)
    notes.push(
      `${m.numa.length} NUMA nodes: keep the daemon and its SHM drivers on node ${best.node} (one ring, one node)`,
    );
  else notes.push("one NUMA node: placement across nodes does not arise");
  if (usable.length < 3) {
    notes.push(
      `${usable.length} CPU(s) usable: no pinning suggested — a spinning daemon and driver pinned onto the same few shared cores wait on each other; prefer a smaller spin budget`,
    );
    const all = formatCpuList(usable);
    return { node: best.node, daemon_cpus: all, driver_cpus: all, commands: [], notes };
  }
  // The daemon's main thread plus one lane worker: two CPUs; drivers the rest of the node.
  const daemon = usable.slice(0, Math.max(1, Math.min(2, usable.length - 1)));
  const drivers = usable.slice(daemon.length);
  const d = formatCpuList(daemon);
  const r = formatCpuList(drivers);
  return {
    node: best.node,
    daemon_cpus: d,
    driver_cpus: r,
    commands: [
      `taskset -c ${d} rtt fabric up`,
      `taskset -c ${r} <driver command>   # drivers.json commands, or: taskset -a -c ${r} -p <driver pid>`,
      `systemd-run --user --scope -p AllowedCPUs=${d} rtt fabric up   # the same as a cgroup cpuset (cgroup v2, no root)`,
    ],
    notes,
  };
}
