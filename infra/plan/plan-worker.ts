import type { TenantChunk, TenantChunkSetup } from "./offline-plan";

/**
 * A process of the offline plan (plan-workers.ts starts it): it is sent what every chunk of tenant
 * stacks needs once, then chunks, plans each chunk in turn and sends its runs back, until the
 * plan disconnects.
 */

// Required rather than imported, so that installed SDK versions the plan was not written for
// (sdk-internals.ts) end this process quietly: the plan's own process, loading the same modules,
// says why in one line.
let offlinePlan: typeof import("./offline-plan");
try {
  offlinePlan = require("./offline-plan") as typeof import("./offline-plan");
} catch (e) {
  if ((e as { code?: unknown }).code !== "ALACARTE_SDK_VERSION") throw e;
  process.exit(1);
}
const { planTenantChunk } = offlinePlan;

let setup: TenantChunkSetup | undefined;
let planned: Promise<void> = Promise.resolve();
process.on("message", (message: { setup: TenantChunkSetup } | { chunk: TenantChunk }) => {
  if ("setup" in message) {
    setup = message.setup;
    return;
  }
  const { chunk } = message;
  planned = planned.then(() =>
    planTenantChunk(setup!, chunk).then(
      (runs) => {
        process.send!({ runs });
      },
      (e: unknown) => {
        process.send!({ error: e instanceof Error ? e.message : String(e) });
      },
    ),
  );
});
process.on("disconnect", () => process.exit(0));
