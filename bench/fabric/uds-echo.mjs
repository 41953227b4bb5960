// The far end of bench/fabric/recorder.mjs's UDS lane: echoes every frame back as a response, in another process.
import { FLAG_RESPONSE, FrameSocket, listenUds } from "@rtt/fabric";

const path = process.argv[2];
const server = await listenUds(path, (s) => {
  new FrameSocket(s, {
    onFrame: (f, conn) => conn.send(FLAG_RESPONSE, f.routeId, f.frameId, f.payload),
    onClose: () => {},
  });
});
process.send?.("ready");
process.on("disconnect", () => {
  server.close();
  process.exit(0);
});
