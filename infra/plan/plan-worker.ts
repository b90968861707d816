import { planTenantShare, type TenantChunk, type TenantShareSetup } from "./offline-plan";

/**
 * A process of the offline plan (plan-workers.ts starts it): it is sent what every stack shares
 * once, then chunks of tenant stacks, plans each chunk in turn and sends its runs back, until the
 * plan disconnects.
 */
let setup: TenantShareSetup | undefined;
let planned: Promise<void> = Promise.resolve();
process.on("message", (message: { setup: TenantShareSetup } | { chunk: TenantChunk }) => {
  if ("setup" in message) {
    setup = message.setup;
    return;
  }
  const { chunk } = message;
  planned = planned.then(() => planTenantShare({ ...setup!, ...chunk }).then(
    (runs) => { process.send!({ runs }); },
    (e: unknown) => { process.send!({ error: e instanceof Error ? e.message : String(e) }); },
  ));
});
process.on("disconnect", () => process.exit(0));
