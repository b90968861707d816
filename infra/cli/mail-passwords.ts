import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  appPasswordScript,
  DEFAULT_MAIL_FRAGMENTS_DIR,
  mailContainerName,
  type AppPasswordAction,
} from "../../components/platform/mail-server";
import { shellQuote } from "../../components/blocks/shell";
import { loadCatalog } from "../catalog/catalog";
import { usernameProblem } from "../contract/names";
import { hasErrors, validateTenantsInParallel } from "../contract/validate";
import { appPasswordLogin, mailboxLogins } from "../model/mail-logins";
import { readPlatformConfig } from "../model/platform-config";
import { hostConnections, PLATFORM_COMPONENT } from "../program/platform-stack";
import { mailComponentName } from "../../components/platform/platform";
import { runCli, UsageError } from "./run";

const USAGE =
  "usage: npm run mail-passwords -- set|revoke --user <username> --mailbox <address> | list --user <username> [--env <env>] [--mail-dir <dir>]";

/**
 * npm run mail-passwords -- set|revoke|list: a person's app passwords for the mailboxes they
 * open (docs/services/mail.md "Signing in to mail"), on the mail host over ssh. `set` makes a new
 * random one (replacing the previous one for that mailbox) and prints it once, with the login a
 * mail client uses; `revoke` removes it; `list` names the mailboxes that have one. Only a login
 * the tenant files allow (owner, or a member it is shared with) can be set. ssh is `ALACARTE_SSH`
 * when set (a command line), else `ssh -o BatchMode=yes`.
 */
runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      env: { type: "string", default: "prod" },
      user: { type: "string" },
      mailbox: { type: "string" },
      "mail-dir": { type: "string", default: path.posix.dirname(DEFAULT_MAIL_FRAGMENTS_DIR) },
    },
  });
  const action = positionals[0] as AppPasswordAction | undefined;
  if (!action || !["set", "revoke", "list"].includes(action) || positionals.length !== 1) throw new UsageError(USAGE);
  const user = values.user;
  if (!user || usernameProblem(user)) throw new UsageError(`--user: a member's username is needed. ${USAGE}`);
  const mailbox = values.mailbox?.toLowerCase();
  if (action !== "list" && !mailbox) throw new UsageError(`--mailbox is needed for ${action}. ${USAGE}`);

  const platform = readPlatformConfig(values.env!);
  const mailDir = values["mail-dir"]!;
  let login: string | undefined;
  if (action === "set") {
    const result = await validateTenantsInParallel({ sharedMailDomains: platform.sharedMailDomains, catalog: loadCatalog() });
    if (hasErrors(result.problems)) throw new UsageError("invalid tenant files: run npm run validate and fix them first");
    const allowed = appPasswordLogin(mailboxLogins(result.tenants.map((t) => t.tenant)), mailbox!, user);
    if ("refused" in allowed) throw new UsageError(`no app password: ${allowed.refused}`);
    login = allowed.login;
  }

  const host = hostConnections(platform)[platform.placement.mail]!;
  const script = appPasswordScript({
    action,
    user,
    ...(mailbox ? { mailbox } : {}),
    container: mailContainerName(mailComponentName(PLATFORM_COMPONENT)),
    // The maps and the store are the fragments folder's siblings (mailFolders), as on the mail host.
    folders: { fragmentsDir: path.posix.join(mailDir, "fragments") },
  });
  const password = action === "set" ? randomBytes(18).toString("base64url") : "";
  const ssh = (process.env.ALACARTE_SSH ?? "ssh -o BatchMode=yes").split(/\s+/).filter(Boolean);
  // The script is one argument of the remote shell; the password is its standard input only.
  const run = spawnSync(ssh[0]!, [...ssh.slice(1), `${host.user}@${host.address}`, "sh", "-c", shellQuote(script)], {
    input: action === "set" ? `${password}\n` : "",
    encoding: "utf8",
  });
  if (run.error) throw new UsageError(`cannot run ${ssh[0]}: ${run.error.message}`);
  if (run.status !== 0) {
    console.error(`the mail host ${host.name} refused (${run.status}): ${run.stderr.trim()}`);
    return 1;
  }
  if (action === "list") {
    process.stdout.write(run.stdout || `${user} has no app password\n`);
  } else if (action === "revoke") {
    console.log(`revoked ${user}'s app password for ${mailbox}`);
  } else {
    console.log(`app password of ${user} for ${mailbox} (shown once; it replaces the previous one):`);
    console.log(`  login:    ${login}`);
    console.log(`  password: ${password}`);
  }
  return 0;
});
