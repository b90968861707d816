import { createHash } from "node:crypto";
import type { Tenant } from "./tenant";

/**
 * Tenant files this process has seen validated, with the bytes' digest they were validated from.
 * The offline plan validates every file (the cross-file rules need them all), then runs thousands
 * of tenant stacks whose program reads its own file again: for the same bytes, the program takes
 * the validated tenant instead of parsing and checking it a second time. The real CLI, one stack
 * per process, never fills it and always checks the file itself.
 */
export interface ValidatedTenant {
  /** Absolute path of the file. */
  path: string;
  digest: string;
  tenant: Tenant;
  /** The file's warnings, as validate formats them (the program logs them again). */
  warnings: string[];
}

const validated = new Map<string, ValidatedTenant>();

export function digestOf(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

export function rememberValidated(tenants: readonly ValidatedTenant[]): void {
  for (const t of tenants) validated.set(t.path, t);
}

/** The validated tenant of a file, if these are the bytes it was validated from. */
export function validatedTenant(path: string, bytes: Uint8Array): ValidatedTenant | undefined {
  const known = validated.get(path);
  return known && known.digest === digestOf(bytes) ? known : undefined;
}
