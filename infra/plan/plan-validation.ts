import { loadCatalog } from "../catalog/catalog";
import { readPlatformConfig } from "../model/platform-config";
import { validateTenantsInParallel, type ValidateResult } from "../contract/validate";

/** What the plan's validation of the tenant files depends on (offline-plan.ts PlanOptions). */
export interface PlanValidationOptions {
  env?: string;
  today?: string;
  tenantsDir?: string;
}

/**
 * The validation the plan starts with: every tenant file, the cross-file rules included, even when
 * one tenant is planned. Without Pulumi, so the plan command can start it in other threads
 * before it loads the program and Pulumi (its longest import), and find it done afterwards.
 */
export function startPlanValidation(options: PlanValidationOptions, here = false): Promise<ValidateResult> {
  const platformConfig = readPlatformConfig(options.env ?? "prod");
  const validation = validateTenantsInParallel(
    {
      sharedMailDomains: platformConfig.sharedMailDomains,
      catalog: loadCatalog(),
      ...(options.today ? { today: options.today } : {}),
      ...(options.tenantsDir ? { tenantsDir: options.tenantsDir } : {}),
    },
    { here },
  );
  // Awaited later: a failure meanwhile is not an unhandled rejection.
  validation.catch(() => undefined);
  return validation;
}
