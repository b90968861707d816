/** Defaults of the tenant file contract v1, readable without zod. */
export const TENANT_DEFAULTS = {
  version: 1,
  rate: "standard",
  admin: false,
  access: [] as string[],
  sharedWith: [] as string[],
  tracking: false,
  live: false,
} as const;

export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SLUG_MAX = 40;
export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,31}$/;
/** A PeerTube channel name (actor name): lowercase letters, digits, dot and underscore. */
export const CHANNEL_PATTERN = /^[a-z0-9_.]{1,50}$/;
/** A DNS hostname in lowercase, at least two labels. */
export const HOSTNAME_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
export const NEXTCLOUD_APPS = ["forms", "polls", "calendar", "contacts", "deck", "notes", "tasks", "office"] as const;
export const MEMBER_ACCESS = ["git", "nextcloud"] as const;
