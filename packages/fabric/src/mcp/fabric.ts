/** MCP through the fabric (issue 16 item 5): routes to MCP tools, and the fabric served as one MCP server. */

export { type ServedTool, type ServeOptions, servedName, serveMcp, toolsOfManifest, toolsOfView } from "./serve.js";
export { McpPool, McpUpstream, parseMcpSymbol, readMcpManifest, type UpstreamOptions } from "./upstream.js";
