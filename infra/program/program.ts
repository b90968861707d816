import { parseStackName } from "../model/naming";
import { buildPlatformStack } from "./platform-stack";
import { buildTenantStack } from "./tenant-stack";

export type { PlatformReference } from "./platform-stack";

/**
 * The Pulumi program. The stack name decides what it builds: `<env>` is the platform stack of
 * that environment, `<env>.<slug>` the stack of one tenant (infra/model/naming.ts).
 */
export function buildStack(stackName: string): Record<string, unknown> {
  const id = parseStackName(stackName);
  return id.slug === null ? buildPlatformStack(id.env) : buildTenantStack(id.env, id.slug);
}
