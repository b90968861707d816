/**
 * The files `npm run import-legacy` writes (docs/migration.md "What the import writes"), as text
 * by relative path: the same import result always gives the same bytes (sorted keys and lists, no
 * time stamps), so a second run over the same export changes nothing.
 */
import { stringify } from "yaml";
import type { ImportResult } from "./legacy-import";

/** What the import writes besides the tenant files (the `.gitignore` keeps them out of git when `--out` is tenants/). */
export const IMPORT_SIDE_FILES = [
  "keycloak-users.json",
  "import-report.md",
  "import-report.json",
  "cutover-runbook.md",
  "mail-copy.sh",
  "reset-mails.sh",
  "mail-passwords/",
  ".import-legacy.json",
] as const;

export interface FileOptions {
  today: string;
  /** The Keycloak realm (docs/accounts.md "Environment"). @default "alacarte" */
  realm?: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function importFiles(result: ImportResult, options: FileOptions): Map<string, string> {
  const files = new Map<string, string>();
  for (const tenant of result.tenants) {
    const head = `# Imported from the 2019 member space by npm run import-legacy (docs/migration.md); once edited by hand, the import leaves it alone.\n`;
    files.set(`${tenant.slug}.yaml`, head + stringify(tenant, { lineWidth: 0 }));
  }
  // Keycloak's partial import (POST /admin/realms/{realm}/partialImport, PartialImportRepresentation):
  // SKIP leaves an account that exists meanwhile as it is (keycloak/keycloak services/.../partialimport/PartialImportManager.java).
  files.set("keycloak-users.json", json({ ifResourceExists: "SKIP", users: result.users }));
  for (const p of result.mailPasswords) files.set(`mail-passwords/${p.username}/${p.mailbox}`, `${p.hash}\n`);
  files.set(".gitignore", `${IMPORT_SIDE_FILES.map((f) => `/${f}`).join("\n")}\n/.gitignore\n`);
  files.set("import-report.json", json(reportJson(result, options)));
  files.set("import-report.md", reportMarkdown(result, options));
  files.set("reset-mails.sh", resetScript(result, options));
  files.set("mail-copy.sh", mailCopyScript(result));
  files.set("cutover-runbook.md", runbook(result));
  return files;
}

function counts(result: ImportResult) {
  const byFile: Record<string, Record<string, number>> = {};
  for (const r of result.rows) {
    const f = (byFile[r.file] ??= {});
    f[r.outcome] = (f[r.outcome] ?? 0) + 1;
  }
  const anomalies: Record<string, number> = {};
  for (const a of result.anomalies) anomalies[a.kind] = (anomalies[a.kind] ?? 0) + 1;
  return {
    rows: byFile,
    tenants: result.tenants.length,
    accountsCreated: result.users.length,
    credentialsCarried: result.users.filter((u) => u.credentials).length,
    resetMails: result.resetAccounts.length,
    appPasswordsCarried: result.mailPasswords.length,
    mailboxes: result.mailboxes.length,
    sharedMailboxes: result.sharedMailboxes.length,
    anomalies: Object.fromEntries(Object.entries(anomalies).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

function reportJson(result: ImportResult, options: FileOptions) {
  return {
    today: options.today,
    counts: counts(result),
    tenants: result.tenants.map((t) => ({
      slug: t.slug,
      type: t.type,
      members: t.members.map((m) => m.username),
      domains: (t.mail?.domains ?? []).map((d) => d.domain),
    })),
    resetMail: result.resetAccounts,
    mailboxResets: result.mailboxResets,
    sharedMailboxes: result.sharedMailboxes,
    existingAccounts: result.existing,
    anomalies: result.anomalies,
    rules: result.rules,
    rows: result.rows,
  };
}

function reportMarkdown(result: ImportResult, options: FileOptions): string {
  const c = counts(result);
  const out: string[] = [
    "# Import of the 2019 member space",
    "",
    `Run for ${options.today}. The rules are docs/migration.md's; every input row is listed at the end with what became of it.`,
    "This file names people and addresses: it is ops' and stays out of git.",
    "",
    "## Counts",
    "",
    "| file | imported | merged | rejected | not imported |",
    "|---|---|---|---|---|",
    ...Object.entries(c.rows).map(
      ([f, n]) => `| ${f} | ${n.imported ?? 0} | ${n.merged ?? 0} | ${n.rejected ?? 0} | ${n["not-imported"] ?? 0} |`,
    ),
    "",
    `${c.tenants} tenant files, ${c.accountsCreated} Keycloak accounts to create (${c.credentialsCarried} with their password carried, ${c.resetMails} get the reset mail), ${c.appPasswordsCarried} mailbox passwords carried as app passwords, ${c.sharedMailboxes} shared mailboxes.`,
    "",
    "## Gets Keycloak's reset mail",
    "",
    "Keycloak cannot verify these accounts' passwords, so they cannot sign in; the account's required action",
    "`UPDATE_PASSWORD` alone never reaches them. Send the reset mail once the accounts are imported:",
    "`sh reset-mails.sh` (Keycloak's admin API `PUT /admin/realms/{realm}/users/{id}/execute-actions-email`,",
    "actions `UPDATE_PASSWORD`, 7 days). `npm run accounts -- --send` does not send it: it invites only listed",
    "members without an account, and the import's accounts exist (docs/accounts.md).",
    "",
    ...(result.resetAccounts.length === 0
      ? ["None."]
      : result.resetAccounts.map((r) => `- ${r.username} (${r.scheme}; ${r.tenants.join(", ")}; members.csv:${r.line})`)),
    "",
    "## Mailboxes whose password is not carried",
    "",
    "Dovecot cannot verify these hashes: the owner signs in to the mailbox with their Keycloak password, or makes an app",
    "password (`npm run mail-passwords -- set --user <username> --mailbox <address>`).",
    "",
    ...(result.mailboxResets.length === 0
      ? ["None."]
      : result.mailboxResets.map((m) => `- ${m.address} (owner ${m.owner}, ${m.scheme}; mailboxes.csv:${m.line})`)),
    "",
    "## Shared mailboxes (no owner, no password kept)",
    "",
    "Opened by the members listed in `sharedWith`, each with an app password in Dovecot's master-user form",
    "(`<mailbox>*<username>`, docs/services/mail.md). Widen `sharedWith` in the tenant file as the collective asks.",
    "",
    ...(result.sharedMailboxes.length === 0
      ? ["None."]
      : result.sharedMailboxes.map(
          (m) => `- ${m.address} (${m.tenant}): sharedWith ${m.sharedWith!.join(", ")} (mailboxes.csv:${m.line})`,
        )),
    "",
    "## People who already have a Keycloak account",
    "",
    ...(result.existing.length === 0
      ? ["None (or no --existing-accounts given)."]
      : result.existing.map((e) => `- ${e.username}: ${e.status} (${e.tenants.join(", ")}; members.csv:${e.line})`)),
    "",
    "## Anomalies",
    "",
    ...(result.anomalies.length === 0 ? ["None."] : result.anomalies.map((a) => `- ${a.file}:${a.line} ${a.kind}: ${a.detail}`)),
    "",
    "## Rules applied",
    "",
    ...result.rules.map((r) => `- ${r.file}:${r.line} ${r.rule}: ${r.detail}`),
    "",
    "## Every row",
    "",
    ...result.rows.map(
      (r) => `- ${r.file}:${r.line} ${r.key ? `${r.key} ` : ""}${r.outcome}${r.as ? `: ${r.as}` : ""}${r.reason ? `: ${r.reason}` : ""}`,
    ),
    "",
  ];
  return out.join("\n");
}

/** Keycloak's reset mail for each account in the list, through the admin API, the secret read from the environment on standard input. */
function resetScript(result: ImportResult, options: FileOptions): string {
  const realm = options.realm ?? "alacarte";
  return [
    "#!/bin/sh",
    "# Sends Keycloak's reset mail (execute-actions-email, UPDATE_PASSWORD, 7 days) to the imported accounts whose",
    "# password Keycloak cannot verify (import-report.md). KEYCLOAK_URL and KEYCLOAK_CLIENT_SECRET as for npm run accounts",
    '# (docs/accounts.md "Environment"); the secret goes to curl on standard input, the token through a header file.',
    "set -eu",
    `realm=\${KEYCLOAK_REALM:-${realm}}`,
    `client=\${KEYCLOAK_CLIENT_ID:-alacarte-accounts}`,
    "headers=$(mktemp); trap 'rm -f \"$headers\"' EXIT",
    'token=$(printf %s "$KEYCLOAK_CLIENT_SECRET" | curl -fsS -d grant_type=client_credentials -d "client_id=$client" --data-urlencode client_secret@- "$KEYCLOAK_URL/realms/$realm/protocol/openid-connect/token" | jq -r .access_token)',
    'printf "Authorization: Bearer %s\\n" "$token" > "$headers"',
    "reset() {",
    '  id=$(curl -fsS -H @"$headers" "$KEYCLOAK_URL/admin/realms/$realm/users?username=$1&exact=true" | jq -r ".[0].id // empty")',
    '  if [ -z "$id" ]; then echo "$1: no account" >&2; return 1; fi',
    '  curl -fsS -X PUT -H @"$headers" -H "Content-Type: application/json" -d \'["UPDATE_PASSWORD"]\' "$KEYCLOAK_URL/admin/realms/$realm/users/$id/execute-actions-email?lifespan=604800" && echo "$1: reset mail sent"',
    "}",
    "failed=0",
    ...result.resetAccounts.map((r) => `reset ${shq(r.username)} || failed=$((failed + 1))`),
    'echo "$failed failed"',
    '[ "$failed" -eq 0 ]',
    "",
  ].join("\n");
}

/**
 * One `doveadm sync` line per mailbox, run in the new mail server's container: imapc reads the old
 * server as its master user (Dovecot's imapc settings, docs/migration.md "Mail"), whose password
 * Dovecot reads from a file, so no password is in this script. One-way (-1) and reversed (-R): from
 * the old server into the new, never deleting on either side (doveadm-sync(1)).
 */
function mailCopyScript(result: ImportResult): string {
  return [
    "#!/bin/sh",
    '# Copies each imported mailbox from the old server into the new one (docs/migration.md "Mail"). Needs the imapc',
    "# settings of cutover-runbook.md in the new server's Dovecot (imapc_master_user, imapc_password = <file).",
    "# Safe to run again: each run copies what is new. Then compares the messages on both sides.",
    "set -u",
    `DOVEADM=\${DOVEADM:-doveadm}`,
    "failed=0",
    // The sum of every folder's messages; global -o options go before the command (doveadm(1)).
    "count() { u=$1; shift; $DOVEADM \"$@\" mailbox status -u \"$u\" messages '*' | awk -F'messages=' '{ n += $2 } END { print n + 0 }'; }",
    "check() {",
    '  old=$(count "$1" -o mail_location=imapc:); new=$(count "$1")',
    '  if [ "$old" -ne "$new" ]; then echo "$1: $old messages on the old server, $new here" >&2; failed=$((failed + 1)); fi',
    "}",
    ...result.mailboxes.map(
      (m) => `$DOVEADM -o mail_fsync=never sync -1 -R -u ${shq(m.address)} imapc: && check ${shq(m.address)} || failed=$((failed + 1))`,
    ),
    `echo "${result.mailboxes.length} mailboxes, $failed failed or differing"`,
    '[ "$failed" -eq 0 ]',
    "",
  ].join("\n");
}

function runbook(result: ImportResult): string {
  const domains = [...new Set(result.tenants.flatMap((t) => (t.mail?.domains ?? []).map((d) => d.domain)))].sort();
  return [
    "# Cutover from the 2019 member space",
    "",
    `${result.tenants.length} tenants, ${domains.length} mail domains, ${result.mailboxes.length} mailboxes, ${result.users.length} accounts to create,`,
    `${result.serviceUsers.git.length} Git users and ${result.serviceUsers.nextcloud.length} shared-Nextcloud users to link. The reasons for each step are docs/migration.md's.`,
    "",
    "## 48 hours before (T-48 h)",
    "",
    "1. Lower the TTL of every record the cutover changes (MX, the mail host's A/AAAA, autoconfig, the Git and Nextcloud",
    "   names) to 300 s, for each domain below, so the switch and a rollback take minutes. Wait for the old TTL to pass.",
    "2. Run `npm run import-legacy -- <export> --out <dir> --existing-accounts <users.json>` on a fresh export; fix in the",
    "   old application what import-report.md rejects, export again, until nothing is rejected that should not be.",
    "3. Open the pull request of the tenant files; CI validates and previews them. Do not merge yet.",
    "",
    "## The cutover (T)",
    "",
    "1. Freeze the old application (read-only): no new member, domain or password from here.",
    "2. Export once more and run the import again; it must report the same rows (byte-identical files when nothing changed).",
    "3. Import the accounts: `POST /admin/realms/alacarte/partialImport` with `keycloak-users.json` (`ifResourceExists: SKIP`).",
    "4. Copy the app passwords: `mail-passwords/<username>/<mailbox>` into the mail host's store",
    "   (`/srv/alacarte/mail/app-passwords/`, mode 0600, root's) with `rsync -a --chmod=D700,F600`.",
    "5. Merge the pull request: the tenant stacks create the groups, memberships and mail domains. `npm run accounts`",
    "   finds every imported account `ok` and invites nobody.",
    "6. Copy the mail: add the imapc settings (below) to the new mail server, then `sh mail-copy.sh`; it ends with one",
    "   line per mailbox whose message count differs. Run it again right after the MX switch for what arrived meanwhile.",
    "7. Switch the DNS: MX and the mail names to the new host, DKIM/SPF/DMARC records of each tenant stack.",
    "8. Link Git and Nextcloud (below), move their data, check the counts.",
    "9. `sh reset-mails.sh`: the accounts whose password Keycloak cannot verify get the reset mail.",
    "10. Run `sh mail-copy.sh` a last time after 24 h, then raise the TTLs again.",
    "",
    "Old server's imapc settings in the new Dovecot (a file under conf.d; the master password in a root-only file):",
    "",
    "```",
    "imapc_host = <old mail host>",
    "imapc_port = 993",
    "imapc_ssl = imaps",
    "imapc_user = %u",
    "imapc_master_user = <the old server's master user>",
    "imapc_password = </run/secrets/legacy-imap-master",
    "imapc_features = rfc822.size fetch-headers",
    "mail_prefetch_count = 20",
    "```",
    "",
    "## Git (Forgejo) and the members' Nextcloud: link, not duplicate",
    "",
    "- Forgejo: the existing local users keep their repositories. The Keycloak source (docs/services/forgejo.md) with",
    "  `[oauth2_client] USERNAME = preferred_username`, `ACCOUNT_LINKING = auto`, `ENABLE_AUTO_REGISTRATION = true`:",
    "  a Keycloak sign-in whose username or email is a local user's is linked to that user, never a second one.",
    "  Resolve the import's `conflict-username` and `conflict-email` people first: only then is the same name the same person.",
    "- Nextcloud: `user_oidc` with `--unique-uid=0 --mapping-uid=preferred_username` (docs/services/nextcloud.md):",
    "  soft auto-provisioning reuses the existing uid of the same username, so the files stay the person's. A legacy uid",
    "  that differs from the imported username (import-report.md, case-or-space-variant) is moved first:",
    "  `occ files:transfer-ownership <old uid> <username>`.",
    "- Data: Forgejo `forgejo dump` on the old host, restored on the new one (repositories, database, LFS); Nextcloud in",
    "  maintenance mode, `rsync -aHAX` of the data folder, the database dump restored, `occ files:scan --all`.",
    '- Count check, before and after: Forgejo `SELECT count(*) FROM repository` and `FROM "user"`, Nextcloud',
    "  `occ user:list --output=json | jq length` and `find <data> -type f | wc -l`; they must match.",
    "",
    "## Rollback",
    "",
    "Until the MX switch: unfreeze the old application, close the pull request; nothing the import wrote is in use.",
    "After it: point the MX and mail names back (the 300 s TTL makes it quick), unfreeze the old application, and copy",
    "back what arrived on the new server (`doveadm sync -1 -u <mailbox> imapc:` from the new server to the old one).",
    "The Keycloak accounts and tenant stacks stay; they serve nobody until the next attempt, which runs the import again.",
    "",
    "## Domains whose TTL is lowered",
    "",
    ...domains.map((d) => `- ${d}`),
    "",
  ].join("\n");
}
