// The bench server (server.mjs) as a child process, for run.mjs and smoke.test.ts.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const server = fileURLToPath(new URL("./server.mjs", import.meta.url));

/** Starts `server.mjs <args>`; resolves with the process and its URL once it prints {"url"}. */
export function startChild(args) {
  const proc = spawn(process.execPath, [server, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (c) => {
      out += c;
      if (out.includes("\n")) resolve({ proc, url: JSON.parse(out.split("\n")[0]).url });
    });
    proc.on("exit", (code) => reject(new Error(`bench server (${args[0]}) exited ${code}`)));
  });
}

/** Stops a child from startChild and waits for it to exit (the server closes its storage on SIGTERM). */
export async function stopChild(child) {
  const exited = new Promise((r) => child.proc.once("exit", r));
  child.proc.kill("SIGTERM");
  await exited;
}
