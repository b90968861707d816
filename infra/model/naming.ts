import { createHash } from "node:crypto";
import { HOSTNAME_MAX } from "../contract/names";

/**
 * Stack names. The platform stack of an environment is named after it (`prod`); a tenant stack is
 * `<env>.<slug>` (slugs have no dot, so the split is unambiguous).
 */
export interface StackId {
  name: string;
  env: string;
  /** The tenant's slug, or null for the platform stack. */
  slug: string | null;
}

export function platformStackName(env: string): string {
  return env;
}

export function tenantStackName(env: string, slug: string): string {
  return `${env}.${slug}`;
}

export function parseStackName(name: string): StackId {
  const match = /^([a-z][a-z0-9-]*)(?:\.([a-z0-9]+(?:-[a-z0-9]+)*))?$/.exec(name);
  if (!match) {
    throw new Error(
      `stack "${name}" is neither a platform stack (<env>, e.g. prod) nor a tenant stack (<env>.<slug>, e.g. prod.amis-du-velo)`,
    );
  }
  return { name, env: match[1]!, slug: match[2] ?? null };
}

/** The fully qualified name a tenant stack uses to reference its platform stack. */
export function platformStackReference(organization: string, project: string, env: string): string {
  return `${organization}/${project}/${platformStackName(env)}`;
}

/**
 * The hostname a tenant's name is served on in an environment: itself in production, and under
 * the staging suffix elsewhere so that staging never answers for a real name. `maxLength` is the
 * longest name where it is used: a hostname's 253, or a static site's alias in the object store
 * (63, infra/contract/names.ts BUCKET_ALIAS_MAX).
 * @throws Error when even the digest form does not fit under the suffix (a platform setting).
 */
export function environmentHostname(hostname: string, suffix: string | undefined, maxLength: number = HOSTNAME_MAX): string {
  if (!suffix) return hostname;
  const served = `${hostname}.${suffix}`;
  if (served.length <= maxLength) return served;
  // A name too long to sit under the suffix is served under a digest of itself: still one name per
  // hostname, and a valid one, so staging plans every hostname production accepts.
  const digest = `h-${createHash("sha256").update(hostname).digest("hex").slice(0, 16)}.${suffix}`;
  if (digest.length > maxLength)
    throw new Error(`tenantHostSuffix "${suffix}" leaves no room for a name of at most ${maxLength} characters`);
  return digest;
}

/** Physical name of a tenant's resource in a shared namespace (bucket, Keycloak client, database). */
export function tenantResourceName(slug: string, offer: string): string {
  return `${slug}-${offer}`;
}
