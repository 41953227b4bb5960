import { basename } from "node:path";
import { FabricError } from "../errors.js";
import { readJsonFile } from "../json-file.js";

/** A tool as MCP's tools/list gives it. Members beyond these (title, annotations, icons, _meta, …) are kept as-is. */
export interface McpTool {
  name: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  [member: string]: unknown;
}

/** MCP names tools in 1–128 characters (SEP-986); the bound also keeps every symbol under the schema's 512. */
export const TOOL_NAME_MAX = 128;

export interface ToolList {
  tools: McpTool[];
  /** Set when the list is one page of several: the tools after it are missing. */
  nextCursor?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const isSchema = (v: unknown) => v === undefined || isObject(v) || typeof v === "boolean";

/**
 * Checks a tool list in any of the forms it is saved in: a bare array, tools/list's result `{tools, nextCursor?}`, or
 * the whole JSON-RPC response `{jsonrpc, id, result: {tools}}`. Live listings go through the same check, so a saved
 * list and a live one of the same tools store the same objects.
 */
export function toolsFromList(value: unknown, where: string): ToolList {
  const body = isObject(value) && isObject(value.result) && "jsonrpc" in value ? value.result : value;
  const tools = Array.isArray(body) ? body : isObject(body) ? body.tools : undefined;
  if (!Array.isArray(tools))
    throw new FabricError("RTT_FABRIC_INVALID", "not a tool list: expected {tools: [...]} or an array of tools", where);
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    const at = `${where}: tools[${i}]`;
    if (!isObject(t)) throw new FabricError("RTT_FABRIC_INVALID", "a tool must be an object", at);
    if (typeof t.name !== "string" || t.name.length === 0 || t.name.length > TOOL_NAME_MAX)
      throw new FabricError("RTT_FABRIC_INVALID", `a tool needs a name of 1 to ${TOOL_NAME_MAX} characters`, at);
    if (seen.has(t.name))
      throw new FabricError("RTT_FABRIC_INVALID", `tool ${JSON.stringify(t.name)} is listed twice`, at);
    seen.add(t.name);
    if (t.description !== undefined && typeof t.description !== "string")
      throw new FabricError("RTT_FABRIC_INVALID", "description must be a string", at);
    if (!isSchema(t.inputSchema) || !isSchema(t.outputSchema))
      throw new FabricError("RTT_FABRIC_INVALID", "inputSchema and outputSchema must be JSON Schemas (objects)", at);
  });
  const list: ToolList = { tools: tools as McpTool[] };
  if (isObject(body) && typeof body.nextCursor === "string") list.nextCursor = body.nextCursor;
  return list;
}

/** Reads a saved tool list (guarded JSON: depth, repeated and `__proto__` keys refused). */
export const readToolsFile = (path: string): ToolList => toolsFromList(readJsonFile(path), path);

/**
 * The server name a tools file stands for when no --name is given: its file name without `.json` and a trailing
 * `.tools`/`-tools` (memory.tools.json → memory). A file named just tools.json names nothing.
 */
export function serverNameOfFile(path: string): string {
  const stem = basename(path)
    .replace(/\.json$/i, "")
    .replace(/[.-]tools$/i, "");
  if (stem === "" || stem.toLowerCase() === "tools")
    throw new FabricError("RTT_FABRIC_USAGE", "the file name does not name a server: pass --name", path);
  return stem;
}
