import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { environmentPolicyConfig } from "../plan/offline-plan";
import { runCli } from "./run";

/**
 * npm run policy-config [-- --env prod] [--out policy-config.json]
 *
 * Writes the policy pack's config for `pulumi preview --policy-pack policies --policy-pack-config
 * <file>`: every host's capacity and every stack's load (all tenant files), each tenant's paid
 * tiers, mail allowance and paid-until. The offline plan computes the same.
 */
runCli(() => {
  const { values } = parseArgs({
    options: {
      env: { type: "string", default: "prod" },
      out: { type: "string" },
    },
  });
  const json = `${JSON.stringify(environmentPolicyConfig(values.env!), null, 2)}\n`;
  if (values.out) fs.writeFileSync(values.out, json);
  else process.stdout.write(json);
  return 0;
});
