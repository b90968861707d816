import type { Tenant } from "../contract/tenant";

/** Who may open a mailbox, from the tenant files: its owner and the members it is shared with. */
export interface MailboxLogins {
  owner?: string;
  shared: string[];
}

/**
 * Pure: every mailbox of the tenants, by address, with who opens it (`owner`, `sharedWith`),
 * the same rule the mail domain's `logins` lines follow (components/tenant/mail-domain-config.ts).
 */
export function mailboxLogins(tenants: readonly Tenant[]): Map<string, MailboxLogins> {
  const out = new Map<string, MailboxLogins>();
  for (const tenant of tenants) {
    for (const domain of tenant.mail?.domains ?? []) {
      for (const m of domain.mailboxes) {
        const shared = [...new Set(m.sharedWith)].filter((u) => u !== m.owner).sort();
        out.set(m.address.toLowerCase(), { ...(m.owner ? { owner: m.owner } : {}), shared });
      }
    }
  }
  return out;
}

/** Pure: how `user` signs in to `mailbox` with an app password, or why they may not. */
export function appPasswordLogin(
  logins: ReadonlyMap<string, MailboxLogins>,
  mailbox: string,
  user: string,
): { login: string } | { refused: string } {
  const who = logins.get(mailbox.toLowerCase());
  if (!who) return { refused: `${mailbox} is no mailbox of any tenant file` };
  if (who.owner === user) return { login: mailbox.toLowerCase() };
  if (who.shared.includes(user)) return { login: `${mailbox.toLowerCase()}*${user}` };
  return { refused: `${user} neither owns ${mailbox} nor is it shared with them in the tenant file` };
}
