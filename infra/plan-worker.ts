import { planTenantShare, type TenantShare } from "./offline-plan";

/**
 * A process of the offline plan: plans the tenant stacks it is sent (offline-plan.ts `plan`, which
 * starts it with `--import tsx`), sends the result back and ends.
 */
process.once("message", (share: TenantShare) => {
  const reply = (message: object) => process.send!(message, () => process.disconnect()); // disconnect only once sent
  planTenantShare(share).then(
    (runs) => reply({ runs }),
    (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
  );
});
