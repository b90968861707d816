/**
 * The tenant gate, WordPress's must-use plugin (components/tenant/scripts/wordpress-tenant-gate.php),
 * run by Debian's PHP against a harness of the WordPress hook functions it uses
 * (test/helpers/wordpress-gate-harness.php): a member signs in as editor, an admin as
 * administrator, anyone else (another tenant, a look-alike group, no groups) neither signs in
 * nor gets an account; no password sign-in, application passwords or XML-RPC; mail through SMTP.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { needTools, requireTool } from "./helpers/debian-tools";

needTools("php");

const GATE = path.resolve(__dirname, "..", "components/tenant/scripts/wordpress-tenant-gate.php");
const HARNESS = path.resolve(__dirname, "helpers", "wordpress-gate-harness.php");
const ENV = {
  ALACARTE_TENANT_GROUP: "/tenants/acme",
  ALACARTE_ADMINS_GROUP: "/tenants/acme/admins",
  ALACARTE_SMTP_HOST: "mail.example.org",
  ALACARTE_SMTP_PORT: "587",
  ALACARTE_SMTP_SECURE: "tls",
  ALACARTE_SMTP_USER: "apps@example.org",
  ALACARTE_SMTP_PASSWORD: "smtp-secret",
  ALACARTE_MAIL_FROM: "noreply@example.org",
  ALACARTE_MAIL_FROM_NAME: "Les Amis du Vélo",
};

function runGate(gate: string): Record<string, any> {
  const r = spawnSync(requireTool("php"), [HARNESS, gate], { env: { ...process.env, ...ENV }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`harness exited ${r.status}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
}

/** What the gate must do, as problems in words (empty when it does all of it). */
function gateProblems(result: Record<string, any>): string[] {
  const problems: string[] = [];
  const want = {
    member: { login: true, create: true, createdRoles: ["editor"], updatedRoles: ["editor"] },
    admin: { login: true, create: true, createdRoles: ["administrator"], updatedRoles: ["administrator"] },
    other: { login: false, create: false, createdRoles: [], updatedRoles: [] },
    prefix: { login: false, create: false, createdRoles: [], updatedRoles: [] },
    "no-groups": { login: false, create: false, createdRoles: [], updatedRoles: [] },
  };
  for (const [claim, expected] of Object.entries(want)) {
    if (JSON.stringify(result.claims[claim]) !== JSON.stringify(expected))
      problems.push(`${claim}: ${JSON.stringify(result.claims[claim])}, want ${JSON.stringify(expected)}`);
  }
  if (result.passwordSignIn !== "WP_Error") problems.push("password sign-in is not refused");
  if (result.emptySignIn !== "cookie-user") problems.push("a sign-in without a password is changed");
  if (result.applicationPasswords !== false) problems.push("application passwords are available");
  if (result.xmlrpc !== false) problems.push("XML-RPC is on");
  return problems;
}

describe("the tenant gate", () => {
  it("is valid PHP", () => {
    const r = spawnSync(requireTool("php"), ["-l", GATE], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("lets in the tenant's members only, with the role of their groups, and no other way in", () => {
    const result = runGate(GATE);
    expect(gateProblems(result)).toEqual([]);
  });

  it("sends mail through the platform's SMTP with the environment's login, from the platform's sender", () => {
    const result = runGate(GATE);
    expect(result.mailer).toEqual({
      Mailer: "smtp",
      Host: "mail.example.org",
      Port: 587,
      SMTPSecure: "tls",
      SMTPAuth: true,
      Username: "apps@example.org",
      Password: "smtp-secret",
    });
    expect(result.from).toBe("noreply@example.org");
    expect(result.fromName).toBe("Les Amis du Vélo");
  });

  it("can tell: a gate that skips the groups check, or gives every member administrator, is caught", () => {
    const text = fs.readFileSync(GATE, "utf8");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-wp-gate-"));
    try {
      const open = text.replace("return $login_user && alacarte_is_member( $user_claim );", "return $login_user;");
      const allAdmins = text.replace("? 'administrator' : 'editor'", "? 'administrator' : 'administrator'");
      for (const [name, variant] of Object.entries({ open, allAdmins })) {
        expect(variant, name).not.toBe(text);
        const file = path.join(dir, `${name}.php`);
        fs.writeFileSync(file, variant);
        expect(gateProblems(runGate(file)), name).not.toEqual([]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
