// rtt loads only the module of the command it runs (commands/index.ts). That holds only while each module's
// `names` are the top-level commands it registers, so this checks them against what register() does.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMAND_MODULES, registerAll } from "../src/commands/index.js";

const registered = (program: Command) => program.commands.map((c) => c.name());

describe("rtt's command modules", () => {
  it.each(COMMAND_MODULES.map((m) => [m.names.join(", "), m] as const))(
    "%s: names are what it registers",
    async (_, m) => {
      const program = new Command("rtt");
      (await m.load()).register(program);
      expect(registered(program)).toEqual(m.names);
    },
  );

  it("no top-level name belongs to two modules", () => {
    const names = COMMAND_MODULES.flatMap((m) => m.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it("a named command loads its module only; help, flags and unknown words load every module", async () => {
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    const load = async (args: string[]) => {
      const program = new Command("rtt");
      await registerAll(program, args);
      return registered(program);
    };
    expect(await load(["ctf", "diff", "a.ctf", "b.ctf"])).toEqual(["ctf"]);
    expect(await load(["sign", "--key", "k", "f"])).toEqual(["keys", "sign", "verify"]);
    expect(await load([])).toEqual(all);
    expect(await load(["--help"])).toEqual(all);
    expect(await load(["help", "ctf"])).toEqual(all);
    expect(await load(["ctff"])).toEqual(all);
  });
});
