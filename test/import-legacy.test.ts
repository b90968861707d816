/**
 * npm run import-legacy (docs/migration.md): the CSV reader, the slugs, then a generated export at
 * the association's scale with every kind of planted anomaly, imported into a temporary folder and
 * checked with the repository's own validator, the accounts plan, byte-identical re-runs, --force,
 * atomic writes and the command end to end. Credentials are opaque here: the tests check which
 * accounts and mailboxes get one (by infra/model/legacy-hashes.ts's own verdict), not their content.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { hasErrors, validateTenants } from "../infra/contract/validate";
import { runImportLegacy, type WriteIo } from "../infra/cli/import-legacy-run";
import { type ExistingAccount, listedAccounts, planAccounts } from "../infra/model/accounts";
import { parseCsv, readLegacyExport, readLegacyFile } from "../infra/model/legacy-export";
import { classifyLegacyHash } from "../infra/model/legacy-hashes";
import type { Anomaly, ImportedUser, MailboxNotice, ResetAccount, RowReport } from "../infra/model/legacy-import";
import { importLegacy, slugFrom } from "../infra/model/legacy-import";
import { readPlatformConfig } from "../infra/model/platform-config";
import { requireTool } from "./helpers/debian-tools";
import { folderDigest } from "./helpers/folder-digest";
import { type LegacyFixture, legacyExportFixture, writeLegacyExport } from "./helpers/legacy-export-fixture";

const ROOT = path.resolve(__dirname, "..");
const TODAY = "2026-12-01";
const platform = readPlatformConfig("prod");

/** The repository's validator over a folder of tenant files, with production's shared domains and the test's day. */
const validateIn = (tenantsDir: string, files?: string[]) =>
  validateTenants({
    ...(files ? { files } : {}),
    tenantsDir,
    sharedMailDomains: platform.sharedMailDomains,
    catalog: loadCatalog(),
    today: TODAY,
  });

describe("the export's CSV (RFC 4180)", () => {
  it("reads quoted fields with commas, quotes and line breaks, and gives each record the line it starts on", () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",z\n3,,\n';
    const { records } = parseCsv(text);
    expect(records).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "x, y", 'say "hi"'] },
      { line: 3, fields: ["2", "two\nlines", "z"] },
      { line: 5, fields: ["3", "", ""] },
    ]);
  });

  it("names the line of a record of the wrong width and of an unclosed quote, and reads the other rows", () => {
    const { rows, problems } = readLegacyFile("domains.csv", 'domain,member_id\na.example.org,1\nb.example.org\nc.example.org,"3\n');
    expect(rows.map((r) => [r.line, r.fields.domain])).toEqual([[2, "a.example.org"]]);
    expect(problems).toEqual([
      { file: "domains.csv", line: 3, message: "has 1 fields where the header has 2: the row is not read" },
      { file: "domains.csv", line: 4, message: "a quote opened on this line is never closed: the rest of the file is not read" },
    ]);
  });

  it("reads the columns by their header names, in any order, and refuses a header that lacks one", () => {
    expect(readLegacyFile("domains.csv", "member_id,domain\n7,a.example.org\n").rows[0]!.fields).toEqual({
      domain: "a.example.org",
      member_id: "7",
    });
    expect(readLegacyFile("domains.csv", "domain\na.example.org\n").problems[0]!.message).toBe(
      "the header lacks member_id (it has domain)",
    );
  });
});

describe("the CSV reader on any text a writer makes", () => {
  it("gives back every field and the line each record starts on", () => {
    const field = fc.string({ unit: fc.constantFrom("a", "é", " ", ",", '"', "\n", "\r\n", "x") });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }), (records) => {
        const quote = (f: string) => (/[",\r\n]/.test(f) || f === "" ? `"${f.replaceAll('"', '""')}"` : f);
        const lines = records.map((r) => r.map(quote).join(","));
        const starts: number[] = [];
        let line = 1;
        for (const l of lines) {
          starts.push(line);
          line += 1 + (l.match(/\n/g)?.length ?? 0);
        }
        const { records: read, unclosedQuoteLine } = parseCsv(`${lines.join("\r\n")}\r\n`);
        expect(unclosedQuoteLine).toBeUndefined();
        expect(read).toEqual(records.map((fields, k) => ({ line: starts[k], fields })));
      }),
    );
  });
});

describe("slugs", () => {
  it("transliterates, lowercases, joins with hyphens and keeps at most 40 characters", () => {
    expect(slugFrom("Les Amis du Vélo")).toBe("les-amis-du-velo");
    expect(slugFrom("Théâtre de l'Œuf")).toBe("theatre-de-l-oeuf");
    expect(slugFrom("Łukasz Żółć")).toBe("lukasz-zolc");
    expect(slugFrom("Fédération Régionale des Associations d'Éducation Populaire")).toBe("federation-regionale-des-associations-d");
    expect(slugFrom("Ольга")).toBe("");
  });
});

describe("the mapping of a small export", () => {
  const small = (members: string, domains: string, mailboxes: string, redirections = "") =>
    importLegacy(
      readLegacyExport({
        "members.csv": `id,username,email,display_name,kind,organisation,password_hash,created_at,paid_until,services\n${members}`,
        "domains.csv": `domain,member_id\n${domains}`,
        "mailboxes.csv": `address,member_id,quota_mb,password_hash\n${mailboxes}`,
        "redirections.csv": `source,destinations,member_id\n${redirections}`,
      }),
      { today: TODAY, sharedMailDomains: platform.sharedMailDomains, maxMailboxGb: 10 },
    );

  it("writes a domain given in Unicode, and its addresses, in punycode, and says so", () => {
    const r = small(
      "1,anne,anne@café.example,Anne,individual,,,,,mail\n",
      "Café.example,1\n",
      "moi@café.example,1,1024,\n",
      "alias@café.example,moi@café.example,1\n",
    );
    const domain = r.tenants[0]!.mail!.domains[0]!;
    expect(domain.domain).toBe("xn--caf-dma.example");
    expect(domain.mailboxes[0]!.address).toBe("moi@xn--caf-dma.example");
    expect(domain.redirections[0]).toEqual({ from: "alias@xn--caf-dma.example", to: ["moi@xn--caf-dma.example"] });
    expect(r.tenants[0]!.members[0]!.email).toBe("anne@xn--caf-dma.example");
    expect(r.rules.filter((x) => x.rule === "punycode").length).toBeGreaterThanOrEqual(4);
  });

  it("refuses two collectives without persons that would be one account", () => {
    const r = small(
      "1,asso,bureau@example.org,A,collective,Asso A,,,,mail\n2,asso,autre@example.org,B,collective,Asso B,,,,mail\n",
      "",
      "",
    );
    expect(r.rows.filter((x) => x.outcome === "rejected").map((x) => x.line)).toEqual([2, 3]);
    expect(r.tenants).toEqual([]);
  });
});

describe("an export at the association's scale", () => {
  let fixture: LegacyFixture;
  let work: string;
  let exportDir: string;
  let out: string;
  let report: {
    counts: { rows: Record<string, Record<string, number>> };
    rows: RowReport[];
    anomalies: Anomaly[];
    resetMail: ResetAccount[];
    mailboxResets: MailboxNotice[];
    sharedMailboxes: MailboxNotice[];
    existingAccounts: { username: string; status: string }[];
  };
  let users: ImportedUser[];
  let importMs: number;
  const args = (dir: string, ...more: string[]) => [
    exportDir,
    "--out",
    dir,
    "--today",
    TODAY,
    "--existing-accounts",
    path.join(work, "existing.json"),
    ...more,
  ];

  beforeAll(() => {
    fixture = legacyExportFixture();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-import-test-"));
    exportDir = writeLegacyExport(path.join(work, "export"), fixture);
    fs.writeFileSync(path.join(work, "existing.json"), JSON.stringify(fixture.existingAccounts));
    out = path.join(work, "out");
    const started = performance.now();
    const run = runImportLegacy(args(out));
    importMs = performance.now() - started;
    expect(run.lines, run.lines.join("\n")).toHaveLength(4);
    expect(run.exitCode).toBe(0);
    report = JSON.parse(fs.readFileSync(path.join(out, "import-report.json"), "utf8"));
    users = JSON.parse(fs.readFileSync(path.join(out, "keycloak-users.json"), "utf8")).users;
  });

  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("has the association's size", () => {
    expect(fixture.rowCounts["mailboxes.csv"]).toBe(360);
    expect(fixture.rowCounts["redirections.csv"]).toBe(1600);
    expect(fixture.rowCounts["domains.csv"]).toBeGreaterThanOrEqual(50);
  });

  it("writes tenant files the repository's validator accepts", () => {
    const result = validateIn(out);
    expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(hasErrors(result.problems)).toBe(false);
    expect(result.tenants.length).toBeGreaterThan(90);
    // An expired membership is carried and flagged, not dropped.
    expect(result.problems.some((p) => p.severity === "warning" && p.file.endsWith("olga.yaml"))).toBe(true);
  });

  it("accounts for every input row of every file, once", () => {
    for (const [file, text] of Object.entries(fixture.texts)) {
      const lines = parseCsv(text)
        .records.slice(1)
        .map((r) => r.line);
      const reported = report.rows.filter((r) => r.file === file).map((r) => r.line);
      expect(
        reported.sort((a, b) => a - b),
        file,
      ).toEqual(lines);
    }
    for (const r of report.rows) {
      if (r.outcome === "rejected" || r.outcome === "not-imported") expect(r.reason, `${r.file}:${r.line}`).toBeTruthy();
      else expect(r.as, `${r.file}:${r.line}`).toBeTruthy();
    }
  });

  it("finds each planted anomaly at its line", () => {
    const missing = fixture.planted.filter(
      (p) => !report.anomalies.some((a) => a.kind === p.kind && a.file === p.file && a.line === p.line),
    );
    expect(missing).toEqual([]);
    // The fixture's other hashes are well formed (canonical base64 of random bytes): only the planted ones are unknown.
    expect(report.anomalies.filter((a) => a.kind === "unknown-hash").length).toBe(
      fixture.planted.filter((p) => p.kind === "unknown-hash").length,
    );
    const kinds = new Set(fixture.planted.map((p) => p.kind));
    for (const kind of [
      "duplicate-username",
      "duplicate-email",
      "case-or-space-variant",
      "outside-domains",
      "domain-claimed-twice",
      "redirection-loop",
      "invalid-address",
      "unknown-hash",
      "empty-hash",
      "expired-membership",
      "username-rule",
      "over-maximum-quota",
      "non-ascii-name",
    ]) {
      expect(kinds.has(kind as Anomaly["kind"]), kind).toBe(true);
    }
  });

  it("carries a password to Keycloak exactly when Keycloak can verify it, and lists the others for the reset mail", () => {
    const data = readLegacyExport(fixture.texts);
    const hashOf = new Map<string, string>();
    for (const m of data.members) {
      const u = m.fields.username.trim().toLowerCase();
      if (!hashOf.has(u)) hashOf.set(u, m.fields.password_hash);
    }
    const resets = new Set(report.resetMail.map((r) => r.username));
    for (const user of users) {
      const carried = classifyLegacyHash(hashOf.get(user.username)!).keycloak !== undefined;
      expect(user.credentials !== undefined, user.username).toBe(carried);
      expect(resets.has(user.username), user.username).toBe(!carried);
      expect(user.requiredActions, user.username).toEqual(carried ? undefined : ["UPDATE_PASSWORD"]);
      expect(user.emailVerified).toBe(true);
    }
    expect(resets.has("olga") && resets.has("lukasz")).toBe(true); // unknown and empty hashes
    const md = fs.readFileSync(path.join(out, "import-report.md"), "utf8");
    expect(md).toContain("## Gets Keycloak's reset mail");
    expect(md).toContain("execute-actions-email");
    const script = fs.readFileSync(path.join(out, "reset-mails.sh"), "utf8");
    for (const r of report.resetMail) expect(script).toContain(`reset '${r.username}'`);
  });

  it("gives an owned mailbox its password only when Dovecot can verify it; a shared one none, and says who opens it", () => {
    const data = readLegacyExport(fixture.texts);
    const tenants = validateIn(out).tenants;
    const owners = new Map<string, string | undefined>();
    const sharedWith = new Map<string, string[]>();
    for (const t of tenants)
      for (const d of t.tenant.mail?.domains ?? [])
        for (const m of d.mailboxes) {
          owners.set(m.address, m.owner);
          sharedWith.set(m.address, m.sharedWith);
        }
    const seen = new Set<string>();
    let carried = 0;
    for (const row of data.mailboxes) {
      const address = row.fields.address.trim().toLowerCase();
      if (!owners.has(address) || seen.has(address)) continue;
      seen.add(address);
      const owner = owners.get(address);
      const file = owner ? path.join(out, "mail-passwords", owner, address) : undefined;
      const dovecot = classifyLegacyHash(row.fields.password_hash).dovecot;
      if (owner && dovecot) {
        expect(fs.readFileSync(file!, "utf8")).toBe(`${dovecot}\n`);
        carried++;
      } else if (owner) {
        expect(fs.existsSync(file!), address).toBe(false);
        expect(report.mailboxResets.map((m) => m.address)).toContain(address);
      } else {
        expect(sharedWith.get(address)!.length, address).toBeGreaterThan(0);
        expect(report.sharedMailboxes.find((m) => m.address === address)?.sharedWith).toEqual(sharedWith.get(address));
      }
    }
    expect(carried).toBeGreaterThan(100);
    // A Django PBKDF2 mailbox hash: Dovecot cannot verify it, so its owner is listed.
    expect(report.mailboxResets.map((m) => m.address)).toContain("tresorier@collectif-1.example.org");
    // No hash is anywhere else than the store and Keycloak's file.
    expect(fs.readFileSync(path.join(out, "mail-copy.sh"), "utf8")).not.toMatch(/\$argon2|\$2b\$|\$6\$/);
  });

  it("follows the collective rules: first person admin, the collective's email as contact, its own row as account when no person names it", () => {
    const read = (slug: string) => validateIn(out, [path.join(out, `${slug}.yaml`)]).tenants.find((t) => t.tenant.slug === slug)!.tenant;
    const velo = read("les-amis-du-velo-1");
    const data = readLegacyExport(fixture.texts);
    const persons = data.members.filter((m) => m.fields.organisation === "Les Amis du Vélo 1" && m.fields.kind === "individual");
    expect(velo.members.map((m) => m.username)).toEqual(persons.map((p) => p.fields.username));
    expect(velo.members.map((m) => m.admin)).toEqual(persons.map((_, k) => k === 0));
    expect(velo.contact).toBe("contact@collectif-1.example.org");
    const contact = velo.mail!.domains[0]!.mailboxes.find((m) => m.address === "contact@collectif-1.example.org")!;
    expect(contact.owner).toBeUndefined();
    expect(contact.sharedWith).toEqual([persons[0]!.fields.username]);
    const alone = read("association-seule");
    expect(alone.members).toEqual([expect.objectContaining({ username: "asso-seule", admin: true })]);
    // Two names that make one slug: the second gets -2, in file order.
    expect(read("cafe-associatif").name).toBe("Café Associatif");
    expect(read("cafe-associatif-2").name).toBe("Cafe associatif");
    expect(read("federation-regionale-des-associations-d").slug).toHaveLength(39);
    // The collective rows themselves are no account.
    expect(users.map((u) => u.username)).not.toContain("collectif1");
    expect(users.map((u) => u.username)).toContain("asso-seule");
  });

  it("keeps quotas whole and never cuts one, and keeps names as written", () => {
    const all = fs
      .readdirSync(out)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => fs.readFileSync(path.join(out, f), "utf8"))
      .join("\n");
    expect(all).not.toContain("archives@collectif-1.example.org");
    expect(report.rows.find((r) => r.key === "archives@collectif-1.example.org")?.outcome).toBe("rejected");
    expect(all).toContain("name: Ольга Петрова");
    expect(all).toContain("name: Łukasz Żółć");
    // 1,500 MB is rounded up to 2 GB.
    expect(all).toMatch(/address: moi@famille-1\.example\.fr\n\s+owner: \S+\n\s+quotaGb: 2\n/);
  });

  it("makes accounts that npm run accounts never invites again, and duplicates no one who registered by themselves", () => {
    const tenants = validateIn(out).tenants;
    const listed = listedAccounts(
      tenants.map((t) => ({ slug: t.tenant.slug, tenant: t.tenant })),
      [],
    );
    // After the partial import the realm holds the import's users and those who were there before.
    const realm: ExistingAccount[] = [
      ...users.map((u, k) => ({
        id: `imported-${k}`,
        username: u.username,
        email: u.email,
        enabled: u.enabled,
        emailVerified: u.emailVerified,
        requiredActions: u.requiredActions ?? [],
      })),
      ...fixture.existingAccounts,
    ];
    const planned = planAccounts(listed.accounts, realm, new Set(), { recreateDeleted: false });
    const byStatus = (s: string) => planned.filter((p) => p.status === s).map((p) => p.username);
    expect(byStatus("create")).toEqual([]);
    expect(byStatus("pending")).toEqual([]);
    const [registered, taken] = fixture.existingAccounts.map((a) => a.username);
    expect(byStatus("conflict-username")).toEqual([taken]);
    expect(byStatus("conflict-email")).toHaveLength(1);
    expect(byStatus("ok")).toContain(registered);
    // Those three are reported and not in Keycloak's file.
    expect(report.existingAccounts.map((e) => e.status).sort()).toEqual(["already-registered", "conflict-email", "conflict-username"]);
    for (const e of report.existingAccounts) expect(users.some((u) => u.username === e.username)).toBe(false);
  });

  it("gives Dovecot a store entry it verifies with the old password", () => {
    // A mailbox of the old server with a real SHA-512 crypt hash (openssl passwd -6), imported alone.
    const hash = execFileSync(requireTool("openssl"), ["passwd", "-6", "-stdin"], {
      input: "ancien mot de passe\n",
      encoding: "utf8",
    }).trim();
    const dir = path.join(work, "dovecot");
    fs.mkdirSync(path.join(dir, "export"), { recursive: true });
    const files = {
      "members.csv": `id,username,email,display_name,kind,organisation,password_hash,created_at,paid_until,services\n1,anne,anne@example.net,Anne,individual,,,2019-01-01,2027-01-01,mail\n`,
      "domains.csv": "domain,member_id\nanne.example.org,1\n",
      "mailboxes.csv": `address,member_id,quota_mb,password_hash\nmoi@anne.example.org,1,1024,${hash}\n`,
      "redirections.csv": "source,destinations,member_id\n",
    };
    for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, "export", f), t);
    expect(runImportLegacy([path.join(dir, "export"), "--out", path.join(dir, "out"), "--today", TODAY]).exitCode).toBe(0);
    const stored = fs.readFileSync(path.join(dir, "out", "mail-passwords", "anne", "moi@anne.example.org"), "utf8").trim();
    expect(stored).toBe(classifyLegacyHash(hash).dovecot);
    expect(() => execFileSync(requireTool("doveadm"), ["pw", "-t", stored, "-p", "ancien mot de passe"], { stdio: "pipe" })).not.toThrow();
    expect(() => execFileSync(requireTool("doveadm"), ["pw", "-t", stored, "-p", "autre"], { stdio: "pipe" })).toThrow();
  });

  it("writes a mail copy line per mailbox and scripts that sh and shellcheck accept", () => {
    const script = fs.readFileSync(path.join(out, "mail-copy.sh"), "utf8");
    const lines = script.split("\n").filter((l) => l.includes(" sync -1 -R -u "));
    const imported = report.rows.filter((r) => r.file === "mailboxes.csv" && r.outcome === "imported").length;
    expect(lines).toHaveLength(imported);
    for (const file of ["mail-copy.sh", "reset-mails.sh"]) {
      const sh = spawnSync(requireTool("sh"), ["-n", path.join(out, file)], { encoding: "utf8" });
      expect(sh.stderr, file).toBe("");
      expect(sh.status, file).toBe(0);
      const lint = spawnSync(requireTool("shellcheck"), ["-s", "sh", path.join(out, file)], { encoding: "utf8" });
      expect(lint.stdout, file).toBe("");
      expect(lint.status, file).toBe(0);
    }
    const runbook = fs.readFileSync(path.join(out, "cutover-runbook.md"), "utf8");
    expect(runbook).toMatch(/48 hours before/);
    expect(runbook).toMatch(/## Rollback/);
    expect(runbook).toMatch(/preferred_username/);
  });

  it("writes the same bytes again from the same export", () => {
    const before = folderDigest(out);
    const again = runImportLegacy(args(out));
    expect(again.exitCode).toBe(0);
    expect(again.lines.at(-1)).toMatch(/^0 files written/);
    expect(folderDigest(out)).toBe(before);
    const other = path.join(work, "other");
    expect(runImportLegacy(args(other)).exitCode).toBe(0);
    expect(folderDigest(other)).toBe(before);
  });

  it("writes among the tenant files of a folder such as tenants/, leaving the others as they are", () => {
    const dir = path.join(work, "tenants");
    fs.cpSync(path.join(ROOT, "tenants"), dir, { recursive: true });
    const examples = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")] as const);
    const run = runImportLegacy(args(dir));
    expect(run.exitCode, run.lines.join("\n")).toBe(0);
    for (const [f, text] of examples) expect(fs.readFileSync(path.join(dir, f), "utf8")).toBe(text);
    const result = validateIn(dir);
    expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(result.tenants.length).toBe(examples.length + fs.readdirSync(out).filter((f) => f.endsWith(".yaml")).length);
    // Everything but the tenant files stays out of git.
    const ignored = fs.readFileSync(path.join(dir, ".gitignore"), "utf8");
    for (const f of ["/keycloak-users.json", "/mail-passwords/", "/import-report.md", "/import-report.json"]) expect(ignored).toContain(f);
  });

  it("leaves a tenant file edited by hand alone without --force, and replaces it with --force", () => {
    const dir = path.join(work, "force");
    expect(runImportLegacy(args(dir)).exitCode).toBe(0);
    const file = path.join(dir, "olga.yaml");
    const edited = `${fs.readFileSync(file, "utf8")}# edited by hand\n`;
    fs.writeFileSync(file, edited);
    const before = folderDigest(dir);
    const refused = runImportLegacy(args(dir));
    expect(refused.exitCode).toBe(1);
    expect(refused.lines.join("\n")).toContain("olga.yaml");
    expect(folderDigest(dir)).toBe(before);
    // A file the import did not write counts as edited too.
    fs.writeFileSync(path.join(dir, "mail-copy.sh"), "echo mine\n");
    expect(runImportLegacy(args(dir)).lines.join("\n")).toContain("mail-copy.sh");
    const forced = runImportLegacy(args(dir, "--force"));
    expect(forced.exitCode).toBe(0);
    expect(fs.readFileSync(file, "utf8")).not.toContain("# edited by hand");
    // A changed export updates what the previous run wrote, without --force.
    const changed = path.join(work, "export-changed");
    fs.cpSync(exportDir, changed, { recursive: true });
    const members = path.join(changed, "members.csv");
    fs.writeFileSync(members, fs.readFileSync(members, "utf8").replace("2026-01-31", "2027-01-31"));
    const rerun = runImportLegacy([changed, ...args(dir).slice(1)]);
    expect(rerun.exitCode, rerun.lines.join("\n")).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toContain("paidUntil: 2027-01-31");
  });

  it("writes nothing when the tenant files would not validate beside the folder's others, and says why without an email", () => {
    const dir = path.join(work, "invalid");
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(ROOT, "tenants", "amis-du-velo.yaml"), path.join(dir, "amis-du-velo.yaml"));
    const hand = fs.readFileSync(path.join(dir, "amis-du-velo.yaml"), "utf8").replaceAll("amisduvelo.org", "collectif-1.example.org");
    fs.writeFileSync(path.join(dir, "amis-du-velo.yaml"), hand);
    const before = folderDigest(dir);
    const run = runImportLegacy(args(dir));
    expect(run.exitCode).toBe(1);
    expect(run.lines[0]).toBe("nothing written: the tenant files would not validate:");
    expect(run.lines.join("\n")).toMatch(/les-amis-du-velo-1\.yaml:\d+:\d+ mail\.domains\[0\]\.domain: .*claimed/);
    expect(run.lines.join("\n")).not.toMatch(/@[a-z]/);
    expect(folderDigest(dir)).toBe(before);
  });

  it("removes what the previous run wrote and the export no longer gives, such as a mailbox's app password", () => {
    const dir = path.join(work, "stale");
    expect(runImportLegacy(args(dir)).exitCode).toBe(0);
    const owner = fs.readdirSync(path.join(dir, "mail-passwords")).sort()[0]!;
    const [mailbox] = fs.readdirSync(path.join(dir, "mail-passwords", owner));
    const stale = path.join(dir, "mail-passwords", owner, mailbox!);
    const changed = path.join(work, "export-stale");
    fs.cpSync(exportDir, changed, { recursive: true });
    const file = path.join(changed, "mailboxes.csv");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(
      file,
      text
        .split("\n")
        .filter((l) => !l.startsWith(`${mailbox},`))
        .join("\n"),
    );
    // A failure while setting the removed file aside puts everything back.
    const before = folderDigest(dir);
    const failing: WriteIo = {
      writeFile: (f, d) => fs.writeFileSync(f, d),
      rename: (a, b) => {
        if (a === stale) throw new Error("rename refused");
        fs.renameSync(a, b);
      },
    };
    expect(() => runImportLegacy([changed, ...args(dir).slice(1)], failing)).toThrow("rename refused");
    expect(folderDigest(dir)).toBe(before);
    const run = runImportLegacy([changed, ...args(dir).slice(1)]);
    expect(run.exitCode, run.lines.join("\n")).toBe(0);
    expect(run.lines.at(-1)).toMatch(/, 1 removed/);
    expect(fs.existsSync(stale)).toBe(false);
    const left = fs.existsSync(path.dirname(stale)) ? fs.readdirSync(path.dirname(stale)) : [];
    expect(left.filter((f) => /\.import-(tmp|old)-/.test(f))).toEqual([]);
  });

  it("refuses an export that claims a domain of the repository's own tenant files", () => {
    const changed = path.join(work, "export-claims");
    fs.cpSync(exportDir, changed, { recursive: true });
    fs.appendFileSync(path.join(changed, "domains.csv"), "amisduvelo.org,1\n");
    const dir = path.join(work, "claims");
    const run = runImportLegacy([changed, ...args(dir).slice(1)]);
    expect(run.exitCode).toBe(1);
    expect(run.lines.join("\n")).toMatch(/amis-du-velo\.yaml|les-amis-du-velo-1\.yaml/);
    expect(run.lines.join("\n")).toMatch(/amisduvelo\.org/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("leaves nothing when a write fails, and puts back what was there when a rename fails", () => {
    const dir = path.join(work, "atomic");
    let writes = 0;
    const failingWrite: WriteIo = {
      writeFile: (f, d) => {
        if (++writes === 40) throw new Error("disk full");
        fs.writeFileSync(f, d);
      },
      rename: (a, b) => fs.renameSync(a, b),
    };
    expect(() => runImportLegacy(args(dir), failingWrite)).toThrow("disk full");
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);

    expect(runImportLegacy(args(dir)).exitCode).toBe(0);
    const before = folderDigest(dir);
    const changed = path.join(work, "export-renamed");
    fs.cpSync(exportDir, changed, { recursive: true });
    const members = path.join(changed, "members.csv");
    fs.writeFileSync(members, fs.readFileSync(members, "utf8").replaceAll("2028-", "2029-"));
    let renames = 0;
    const failingRename: WriteIo = {
      writeFile: (f, d) => fs.writeFileSync(f, d),
      rename: (a, b) => {
        if (++renames === 5) throw new Error("rename refused");
        fs.renameSync(a, b);
      },
    };
    expect(() => runImportLegacy([changed, ...args(dir).slice(1)], failingRename)).toThrow("rename refused");
    expect(folderDigest(dir)).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.includes("import-tmp"))).toEqual([]);
  });

  it("runs as ops run it, printing counts and slugs but no email, and reports its time and memory", () => {
    const launch = path.join(ROOT, "infra", "cli", "launch.cjs");
    const peakFile = path.join(work, "peak.cjs");
    // The command's own peak resident memory, written when it exits (process.resourceUsage, kilobytes).
    fs.writeFileSync(
      peakFile,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(path.join(work, "peak.txt"))}, String(process.resourceUsage().maxRSS)));\n`,
    );
    const dir = path.join(work, "cli");
    const cli = (...more: string[]) =>
      spawnSync(process.execPath, ["--require", peakFile, launch, "import-legacy", ...args(dir), ...more], { cwd: ROOT, encoding: "utf8" });
    cli(); // builds the commands if needed; the run below is timed
    fs.rmSync(dir, { recursive: true, force: true });
    const started = performance.now();
    const run = cli();
    const ms = performance.now() - started;
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\d+ tenant files: /);
    expect(run.stdout).not.toMatch(/@/);
    expect(fs.readdirSync(dir)).toEqual(
      expect.arrayContaining([
        "keycloak-users.json",
        "import-report.md",
        "import-report.json",
        "cutover-runbook.md",
        "mail-copy.sh",
        "mail-passwords",
        "olga.yaml",
      ]),
    );
    const peakMb = Number(fs.readFileSync(path.join(work, "peak.txt"), "utf8")) / 1024;
    console.log(
      `import-legacy at the association's scale (${fixture.rowCounts["members.csv"]} members, ${fixture.rowCounts["domains.csv"]} domains, ${fixture.rowCounts["mailboxes.csv"]} mailboxes, ${fixture.rowCounts["redirections.csv"]} redirections): ` +
        `${Math.round(importMs)} ms in process, ${Math.round(ms)} ms as a command, peak ${Math.round(peakMb)} MB resident`,
    );
    const usage = spawnSync(process.execPath, [launch, "import-legacy", exportDir], { cwd: ROOT, encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^usage: npm run import-legacy/);
  });
});
