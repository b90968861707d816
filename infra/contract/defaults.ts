/** Defaults and enumerations of the tenant file contract v1, readable without zod. The name rules are in names.ts. */
export const TENANT_DEFAULTS = {
  version: 1,
  rate: "standard",
  admin: false,
  tracking: false,
  live: false,
} as const;

export const NEXTCLOUD_APPS = ["forms", "polls", "calendar", "contacts", "deck", "notes", "tasks", "office"] as const;
export const MEMBER_ACCESS = ["git", "nextcloud"] as const;
