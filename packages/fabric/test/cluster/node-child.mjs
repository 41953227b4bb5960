// A cluster node in its own process (cluster.test.ts SIGKILLs it at fault points). It runs the built package
// (dist) so it starts in tens of milliseconds; build with `npx tsc -p packages/fabric`.
//
//   node node-child.mjs ROOT NAME SERVERS NAMESPACE MEMBERS [REPLICAS]
//     starts the node (RTT_FABRIC_CRASH_AT may name a fault point), prints "ready <plan in force>" once it has
//     handled the head, then "head <plan in force>" after each head it handles; exits on SIGTERM.
import { ClusterNode } from "../../dist/cluster/index.js";

const [root, name, servers, namespace, members, replicas] = process.argv.slice(2);
const node = await ClusterNode.start({
  root,
  name,
  servers,
  namespace,
  members: members.split(","),
  replicas: Number(replicas ?? "3"),
  voteTimeoutMs: 4000,
  decisionTimeoutMs: 20000,
  doneTimeoutMs: 4000,
  heartbeatMs: 500,
  connectTimeoutMs: 5000,
  warn: (m) => process.stderr.write(`${m}\n`),
});
await node.settle();
process.stdout.write(`ready ${node.planInForce}\n`);
let last = node.planInForce;
const timer = setInterval(() => {
  if (node.planInForce !== last) {
    last = node.planInForce;
    process.stdout.write(`head ${last}\n`);
  }
}, 20);
process.on("SIGTERM", async () => {
  clearInterval(timer);
  await node.close();
  process.exit(0);
});
