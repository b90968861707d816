/**
 * Every loader rule of docs/contract.md ("Rules `validate` enforces"), checked
 * through validateTenants on files written to a fresh folder, down to the formatted line
 * `<file>:<line>:<col> <field.path>: <message>`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { displayName, formatProblem, type Problem } from "../infra/contract/load";
import { hasErrors, validateTenants, type ValidateResult } from "../infra/contract/validate";
import { loadCatalog } from "../infra/catalog/catalog";

const SHARED = ["lautre.example.org"];
const TODAY = "2026-06-01";
const ROOT = path.resolve(__dirname, "..");

/** A valid tenant: every test edits a copy of it. Keep each needle used below unique in it. */
const BASE = `slug: velo
name: Les Amis du Vélo
type: collective
contact: contact@velo.org
membership:
  paidUntil: 2027-06-30
members:
  - username: alice
    email: alice@velo.org
    admin: true
  - username: bruno
    email: bruno@velo.net
mail:
  domains:
    - domain: velo.org
      mailboxes:
        - address: alice@velo.org
          owner: alice
          quotaGb: 5
        - address: contact@velo.org
          quotaGb: 2
          sharedWith: [alice, bruno]
      redirections:
        - from: bureau@velo.org
          to: [alice@velo.org, bruno@velo.net]
services:
  website:
    engine: wordpress
    domains: [velo.org, www.velo.org]
    storageGb: 5
  nextcloud:
    domain: cloud.velo.org
    storageGb: 20
  newsletter:
    engine: listmonk
    domain: lettre.velo.org
    subscribers: 500
  video:
    channel: velo
    storageGb: 10
`;

/** The base tenant under another slug, sharing no name, person or address with the base. */
function variant(slug: string): string {
  return BASE.replaceAll("velo", slug).replace(/\b(alice|bruno)\b/g, `$1-${slug}`);
}

/** Replaces exactly one occurrence of `from`; a test whose edit matches nothing must fail, not pass. */
function edit(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === "string" ? text.split(from).length - 1 : (text.match(new RegExp(from, "g")) ?? []).length;
  if (count !== 1) throw new Error(`edit: ${String(from)} occurs ${count} times`);
  return text.replace(from, to);
}

/** `line:col` (1-based) of the first character of the nth occurrence of `needle`. */
function pos(text: string, needle: string, nth = 0, shift = 0): string {
  let index = -1;
  for (let i = 0; i <= nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`pos: "${needle}" #${nth} not in the text`);
  }
  index += shift;
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return `${line}:${index - before.lastIndexOf("\n")}`;
}

/** `line:col` of the value in the first occurrence of `key: value` (the part after the first ": "). */
function val(text: string, keyValue: string): string {
  return pos(text, keyValue, 0, keyValue.indexOf(": ") + 2);
}

/** The line number alone, as messages naming another file give it. */
function lineOf(text: string, needle: string): string {
  return pos(text, needle).split(":")[0]!;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Run extends ValidateResult {
  dir: string;
  lines: string[];
  /** How a file of the folder is named in messages. */
  name(file: string): string;
}

function validate(files: Record<string, string>, options: { report?: string[]; outside?: Record<string, string> } = {}): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-rules-"));
  dirs.push(dir);
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  let reported = options.report?.map((f) => path.join(dir, f));
  if (options.outside) {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-given-"));
    dirs.push(elsewhere);
    for (const [file, text] of Object.entries(options.outside)) fs.writeFileSync(path.join(elsewhere, file), text);
    reported = [...(reported ?? []), ...Object.keys(options.outside).map((f) => path.join(elsewhere, f))];
  }
  const result = validateTenants({ tenantsDir: dir, files: reported, sharedMailDomains: SHARED, catalog: loadCatalog(), today: TODAY });
  return {
    ...result,
    dir,
    lines: result.problems.map(formatProblem),
    name: (file) => displayName(path.join(dir, file)),
  };
}

/**
 * Asserts one formatted problem line starts with exactly `<file>:<line:col> <field>: ` and carries
 * `message`; returns it.
 */
function expectLine(run: Run, file: string, at: string, field: string, message: string): string {
  const prefix = `${run.name(file)}:${at} ${field}: `;
  const found = run.lines.filter((l) => l.startsWith(prefix) && l.slice(prefix.length).includes(message));
  expect(found, `no line "${prefix}…${message}…" among:\n${run.lines.join("\n")}`).toHaveLength(1);
  return found[0]!;
}

function only(run: Run): string {
  expect(run.lines, run.lines.join("\n")).toHaveLength(1);
  return run.lines[0]!;
}

describe("the base tenant", () => {
  it("is valid alone, and beside a variant of itself", () => {
    expect(validate({ "velo.yaml": BASE }).lines).toEqual([]);
    const run = validate({ "velo.yaml": BASE, "jardin.yaml": variant("jardin") });
    expect(run.lines).toEqual([]);
    expect(run.tenants.map((t) => t.tenant.slug).sort()).toEqual(["jardin", "velo"]);
  });
});

describe("unknown keys", () => {
  it("names the key where it is written, with a did-you-mean", () => {
    const text = edit(BASE, "contact: contact@velo.org", "contcat: contact@velo.org");
    const run = validate({ "velo.yaml": text });
    expectLine(run, "velo.yaml", pos(text, "contcat"), "contcat", 'unknown field "contcat"; did you mean "contact"?');
    // The real field is then missing, reported at the top of the file.
    expectLine(run, "velo.yaml", "1:1", "contact", "is required");
    expect(run.lines).toHaveLength(2);
  });

  it("works inside nested mappings and list entries", () => {
    const text = edit(edit(BASE, "    storageGb: 20", "    storagGb: 20"), "    admin: true", "    admni: true");
    const run = validate({ "velo.yaml": text });
    expectLine(run, "velo.yaml", pos(text, "storagGb"), "services.nextcloud.storagGb", 'did you mean "storageGb"?');
    expectLine(run, "velo.yaml", pos(text, "admni"), "members[0].admni", 'did you mean "admin"?');
  });

  it("lists the allowed keys when nothing is close", () => {
    const text = edit(BASE, "type: collective", "type: collective\nzzzzzzzz: 1");
    const line = only(validate({ "velo.yaml": text }));
    expect(line).toContain(`:${pos(text, "zzzzzzzz")} zzzzzzzz: unknown field "zzzzzzzz"; allowed here: version, slug, name`);
  });
});

describe("slug and file name", () => {
  it("reports a slug that differs from the file name", () => {
    const run = validate({ "bicyclette.yaml": BASE });
    expect(only(run)).toBe(
      `${run.name("bicyclette.yaml")}:1:7 slug: "velo" differs from the file name; the slug must equal the file name "bicyclette"`,
    );
  });

  it("holds for files given on the command line too", () => {
    const run = validate({}, { outside: { "autre.yaml": BASE } });
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(/autre\.yaml:1:7 slug: "velo" differs from the file name; .*"autre"$/);
  });
});

describe("the tenant's name", () => {
  it("must be one line people read: the notices carry it in a mail's Subject", () => {
    const run = validate({ "velo.yaml": edit(BASE, "name: Les Amis du Vélo\n", 'name: "Les Amis\\r\\nBcc: x@example.org"\n') });
    expect(only(run)).toBe(`${run.name("velo.yaml")}:2:7 name: must be one line, without control characters`);
    const blank = validate({ "velo.yaml": edit(BASE, "name: Les Amis du Vélo\n", 'name: "   "\n') });
    expect(only(blank)).toBe(`${blank.name("velo.yaml")}:2:7 name: must not be empty`);
  });
});

describe("missing required fields", () => {
  it("reports top-level fields at the top of the file", () => {
    const text = edit(edit(BASE, "name: Les Amis du Vélo\n", ""), "type: collective\n", "");
    const run = validate({ "velo.yaml": text });
    expect(run.lines).toEqual([`${run.name("velo.yaml")}:1:1 name: is required`, `${run.name("velo.yaml")}:1:1 type: is required`]);
  });

  it("reports a field of a list entry at that entry", () => {
    const text = edit(BASE, "    email: bruno@velo.net\n", "");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(`${run.name("velo.yaml")}:${pos(text, "username: bruno")} members[1].email: is required`);
  });

  it("reports a field of a service at that service", () => {
    const text = edit(BASE, "    engine: wordpress\n", "");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(`${run.name("velo.yaml")}:${pos(text, "domains: [velo.org")} services.website.engine: is required`);
  });

  it("needs at least one member", () => {
    const text = BASE.replace(/members:\n( {2}.*\n)+/, "members: []\n");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(`${run.name("velo.yaml")}:${pos(text, "[]")} members: needs at least one member`);
  });
});

describe("catalog tiers and brackets", () => {
  it("rejects a website, Nextcloud or video storage that is not a tier, naming the tiers", () => {
    let text = edit(BASE, "    storageGb: 5\n", "    storageGb: 7\n");
    text = edit(text, "    storageGb: 20\n", "    storageGb: 30\n");
    text = edit(text, "    storageGb: 10\n", "    storageGb: 11\n");
    const run = validate({ "velo.yaml": text });
    expect(run.lines).toEqual([
      `${run.name("velo.yaml")}:${val(text, "storageGb: 7")} services.website.storageGb: 7 GB is not a website tier; the catalog offers 5, 10, 20 GB`,
      `${run.name("velo.yaml")}:${val(text, "storageGb: 30")} services.nextcloud.storageGb: 30 GB is not a nextcloud tier; the catalog offers 20, 50, 100 GB`,
      `${run.name("velo.yaml")}:${val(text, "storageGb: 11")} services.video.storageGb: 11 GB is not a video tier; the catalog offers 10, 50, 100 GB`,
    ]);
  });

  it("rejects subscribers that are not a bracket, naming the brackets", () => {
    const text = edit(BASE, "subscribers: 500", "subscribers: 300");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "subscribers: 300")} services.newsletter.subscribers: 300 is not a subscriber bracket; the catalog offers 100, 500, 2000`,
    );
  });

  it("rejects a mailbox quota above the catalog's maximum", () => {
    const text = edit(BASE, "quotaGb: 5", "quotaGb: 12");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "quotaGb: 12")} mail.domains[0].mailboxes[0].quotaGb: 12 GB is above the 10 GB a mailbox may hold`,
    );
  });

  it("accepts a mailbox of exactly the maximum", () => {
    expect(validate({ "velo.yaml": edit(BASE, "quotaGb: 5", "quotaGb: 10") }).lines).toEqual([]);
  });
});

describe("newsletter", () => {
  const paheko = (text: string) => edit(text, "engine: listmonk", "engine: paheko");

  it("rejects tracking with the Paheko engine", () => {
    const text = edit(paheko(BASE), "subscribers: 500", "subscribers: 500\n    tracking: true");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "tracking: true")} services.newsletter.tracking: engagement tracking exists only with engine: listmonk`,
    );
  });

  it("allows tracking with Listmonk", () => {
    expect(validate({ "velo.yaml": edit(BASE, "subscribers: 500", "subscribers: 500\n    tracking: true") }).lines).toEqual([]);
  });

  it("requires a domain for Listmonk", () => {
    const text = edit(BASE, "    domain: lettre.velo.org\n", "");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "engine: listmonk")} services.newsletter.domain: is required with engine: listmonk`,
    );
  });

  it("requires a domain for Paheko without accounting", () => {
    const text = paheko(edit(BASE, "    domain: lettre.velo.org\n", ""));
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "engine: paheko")} services.newsletter.domain: is required with engine: paheko when there is no accounting`,
    );
  });

  it("needs no domain for Paheko with accounting (the one Paheko serves both)", () => {
    const text = paheko(edit(BASE, "    domain: lettre.velo.org\n", "")).replace(
      "  newsletter:",
      "  accounting:\n    domain: compta.velo.org\n  newsletter:",
    );
    expect(validate({ "velo.yaml": text }).lines).toEqual([]);
  });
});

describe("version pins", () => {
  const catalog = loadCatalog();
  const offered = (offer: "website" | "nextcloud" | "accounting" | "newsletter") => catalog.offers[offer].versions;
  /** A version of the catalog other than the default, for the lagging-pin warning. */
  const other = (offer: "website" | "nextcloud" | "accounting" | "newsletter") =>
    offered(offer).available.find((v) => v !== offered(offer).default)!;
  const withAccounting = (text: string) => edit(text, "  newsletter:\n", "  accounting:\n    domain: compta.velo.org\n  newsletter:\n");
  /** The base with a version line added under each offer named. */
  const pin = (text: string, pins: { website?: string; nextcloud?: string; accounting?: string; newsletter?: string }) => {
    let out = text;
    if (pins.website) out = edit(out, "    storageGb: 5\n", `    storageGb: 5\n    version: ${pins.website}\n`);
    if (pins.nextcloud) out = edit(out, "    storageGb: 20\n", `    storageGb: 20\n    version: ${pins.nextcloud}\n`);
    if (pins.accounting) out = edit(out, "    domain: compta.velo.org\n", `    domain: compta.velo.org\n    version: ${pins.accounting}\n`);
    if (pins.newsletter) out = edit(out, "    subscribers: 500\n", `    subscribers: 500\n    version: ${pins.newsletter}\n`);
    return out;
  };
  const quoted = (v: string) => `"${v}"`;

  it("lists, for every offer that runs an app, versions that include a different one to pin", () => {
    for (const offer of ["website", "nextcloud", "accounting", "newsletter"] as const) {
      expect(offered(offer).available, offer).toContain(offered(offer).default);
      expect(other(offer), offer).toBeDefined();
    }
  });

  it("accepts a pin at each offer's default, with neither error nor warning", () => {
    const text = pin(withAccounting(BASE), {
      website: quoted(offered("website").default),
      nextcloud: quoted(offered("nextcloud").default),
      accounting: quoted(offered("accounting").default),
      newsletter: quoted(offered("newsletter").default),
    });
    expect(validate({ "velo.yaml": text }).lines).toEqual([]);
  });

  it("rejects a version the catalog does not list, naming the field and the versions it offers, for every offer", () => {
    const text = pin(withAccounting(BASE), { website: '"5.0.1"', nextcloud: '"29.0.0"', accounting: '"1.0.0"', newsletter: '"2.0.0"' });
    const run = validate({ "velo.yaml": text });
    const offers = (offer: "website" | "nextcloud" | "accounting" | "newsletter") =>
      `${offered(offer).available.join(", ")} (default ${offered(offer).default})`;
    expect(run.lines).toEqual([
      `${run.name("velo.yaml")}:${val(text, 'version: "5.0.1"')} services.website.version: 5.0.1 is not a WordPress version of the catalog; it offers ${offers("website")}`,
      `${run.name("velo.yaml")}:${val(text, 'version: "29.0.0"')} services.nextcloud.version: 29.0.0 is not a Nextcloud version of the catalog; it offers ${offers("nextcloud")}`,
      `${run.name("velo.yaml")}:${val(text, 'version: "1.0.0"')} services.accounting.version: 1.0.0 is not a Paheko version of the catalog; it offers ${offers("accounting")}`,
      `${run.name("velo.yaml")}:${val(text, 'version: "2.0.0"')} services.newsletter.version: 2.0.0 is not a Listmonk version of the catalog; it offers ${offers("newsletter")}`,
    ]);
    expect(hasErrors(run.problems)).toBe(true);
  });

  it("warns, without an error, of a pin other than the default, so ops see who lags behind; Nextcloud one major at a time", () => {
    const nc = other("nextcloud");
    const text = pin(withAccounting(BASE), { nextcloud: quoted(nc), accounting: quoted(other("accounting")) });
    const run = validate({ "velo.yaml": text });
    const side = (offer: "nextcloud" | "accounting", v: string) =>
      offered(offer).available.indexOf(v) < offered(offer).available.indexOf(offered(offer).default) ? "older than" : "newer than";
    expect(run.lines).toEqual([
      `${run.name("velo.yaml")}:${val(text, `version: "${nc}"`)} services.nextcloud.version: warning: pins Nextcloud ${nc}, ${side("nextcloud", nc)} the catalog's default ${offered("nextcloud").default}; move the pin one major at a time, then remove it (docs/operations.md, Updates)`,
      `${run.name("velo.yaml")}:${val(text, `version: "${other("accounting")}"`)} services.accounting.version: warning: pins Paheko ${other("accounting")}, ${side("accounting", other("accounting"))} the catalog's default ${offered("accounting").default}; move the pin, or remove it, once the tenant is ready (docs/operations.md, Updates)`,
    ]);
    expect(run.problems.map((p) => p.severity)).toEqual(["warning", "warning"]);
    expect(hasErrors(run.problems)).toBe(false);
  });

  it("calls a pin listed before the default older", () => {
    // The catalog lists its versions oldest first: a pin before the default is older.
    const { available, default: standard } = offered("nextcloud");
    expect(available).toEqual([...available].sort((a, b) => a.localeCompare(b, "en", { numeric: true })));
    const older = available[available.indexOf(standard) - 1];
    if (older === undefined) throw new Error("the catalog's Nextcloud default is its oldest version: no lagging pin to test");
    const run = validate({ "velo.yaml": pin(BASE, { nextcloud: quoted(older) }) });
    expect(only(run)).toContain(`pins Nextcloud ${older}, older than the catalog's default ${standard}`);
  });

  it("refuses a version on a static site, which runs no app of its own", () => {
    const text = pin(edit(BASE, "engine: wordpress", "engine: static"), { website: quoted(offered("website").default) });
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, `version: "${offered("website").default}"`)} services.website.version: a static site runs no app of its own, so it has no version; remove it (engine: wordpress has one)`,
    );
  });

  it("refuses a version on a Paheko newsletter, with accounting or without", () => {
    const v = quoted(offered("accounting").default);
    const paheko = (text: string) => edit(text, "engine: listmonk", "engine: paheko");
    const alone = pin(paheko(BASE), { newsletter: v });
    let run = validate({ "velo.yaml": alone });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(alone, `version: ${v}`)} services.newsletter.version: with engine: paheko the newsletter runs on the tenant's one Paheko, at the catalog's default Paheko version: it has none of its own; remove it`,
    );
    const shared = pin(paheko(withAccounting(edit(BASE, "    domain: lettre.velo.org\n", ""))), { newsletter: v });
    run = validate({ "velo.yaml": shared });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(shared, `version: ${v}`)} services.newsletter.version: with engine: paheko the newsletter runs on the tenant's one Paheko, whose version is services.accounting.version: it has none of its own; remove it`,
    );
  });

  it("wants the version in quotes: YAML reads 7.10 as the number 7.1", () => {
    const text = pin(BASE, { website: "7.10" });
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "version: 7.10")} services.website.version: must be a string, not number 7.1; write it in quotes`,
    );
  });

  it("rejects what is no version, such as a floating tag", () => {
    const text = pin(BASE, { nextcloud: '"latest"' });
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, 'version: "latest"')} services.nextcloud.version: must be a version such as "34.0.2": numbers joined by dots`,
    );
  });

  it("reports every pin problem of every file in one run, beside the other rules' problems", () => {
    const velo = pin(edit(BASE, "subscribers: 500", "subscribers: 300"), { nextcloud: '"1.0"' });
    const jardin = pin(variant("jardin").replace("engine: wordpress", "engine: static"), { website: '"1.0"' });
    const run = validate({ "velo.yaml": velo, "jardin.yaml": jardin });
    expect(run.lines).toEqual([
      `${run.name("jardin.yaml")}:${val(jardin, 'version: "1.0"')} services.website.version: a static site runs no app of its own, so it has no version; remove it (engine: wordpress has one)`,
      `${run.name("velo.yaml")}:${val(velo, 'version: "1.0"')} services.nextcloud.version: 1.0 is not a Nextcloud version of the catalog; it offers ${offered("nextcloud").available.join(", ")} (default ${offered("nextcloud").default})`,
      `${run.name("velo.yaml")}:${val(velo, "subscribers: 300")} services.newsletter.subscribers: 300 is not a subscriber bracket; the catalog offers 100, 500, 2000`,
    ]);
  });
});

describe("mail addresses and the declared domains", () => {
  it("rejects a mailbox outside the declared domains", () => {
    const text = edit(BASE, "address: contact@velo.org", "address: contact@ailleurs.org");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "contact@ailleurs.org")} mail.domains[0].mailboxes[1].address: "contact@ailleurs.org" is outside the domains this tenant declares (velo.org); declare ailleurs.org under mail.domains first`,
    );
  });

  it("rejects a redirection outside the declared domains", () => {
    const text = edit(BASE, "from: bureau@velo.org", "from: bureau@ailleurs.org");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "bureau@ailleurs.org")} mail.domains[0].redirections[0].from: "bureau@ailleurs.org" is outside the domains this tenant declares (velo.org); declare ailleurs.org under mail.domains first`,
    );
  });

  it("rejects an address listed under another of the tenant's domains", () => {
    const text = edit(BASE, "      redirections:\n", "    - domain: velo.net\n      redirections:\n");
    const run = validate({ "velo.yaml": text });
    expectLine(
      run,
      "velo.yaml",
      pos(text, "bureau@velo.org"),
      "mail.domains[1].redirections[0].from",
      '"bureau@velo.org" belongs under the mail domain velo.org, not velo.net',
    );
  });

  it("accepts redirections to anywhere, and addresses on a shared mail domain the tenant lists", () => {
    const text = edit(
      BASE,
      "services:\n",
      "    - domain: lautre.example.org\n      mailboxes:\n        - address: velo@lautre.example.org\n          quotaGb: 1\nservices:\n",
    );
    expect(validate({ "velo.yaml": text }).lines).toEqual([]);
  });
});

describe("members named by other fields", () => {
  it("rejects a mailbox owner who is not a member", () => {
    const text = edit(BASE, "owner: alice", "owner: zoe");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "zoe")} mail.domains[0].mailboxes[0].owner: owner "zoe" is not a member of this tenant; add them under members or pick one of: alice, bruno`,
    );
  });

  it("rejects a sharer who is not a member", () => {
    const text = edit(BASE, "sharedWith: [alice, bruno]", "sharedWith: [alice, zoe]");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "zoe")} mail.domains[0].mailboxes[1].sharedWith[1]: sharer "zoe" is not a member of this tenant; add them under members or pick one of: alice, bruno`,
    );
  });

  it("rejects a video owner who is not a member", () => {
    const text = edit(BASE, "    channel: velo\n", "    channel: velo\n    owner: zoe\n");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "zoe")} services.video.owner: video owner "zoe" is not a member of this tenant; add them under members or pick one of: alice, bruno`,
    );
  });
});

describe("admins and the solidarity rate", () => {
  it("needs at least one admin", () => {
    const text = edit(BASE, "    admin: true\n", "");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "- username: alice")} members: needs at least one member with admin: true`,
    );
  });

  it("rejects solidarityPercent at the standard rate", () => {
    const text = edit(BASE, "type: collective\n", "type: collective\nsolidarityPercent: 30\n");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "solidarityPercent: 30")} solidarityPercent: applies only with rate: solidarity`,
    );
  });

  it("accepts solidarityPercent with rate: solidarity", () => {
    const text = edit(BASE, "type: collective\n", "type: collective\nrate: solidarity\nsolidarityPercent: 30\n");
    expect(validate({ "velo.yaml": text }).lines).toEqual([]);
  });
});

describe("duplicates within a file", () => {
  it("rejects a repeated username", () => {
    const text = edit(BASE, "    email: bruno@velo.net\n", "    email: bruno@velo.net\n  - username: alice\n    email: alice2@velo.org\n");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "username: alice\n    email: alice2")} members[2].username: duplicate username "alice", already at members[0].username (line ${lineOf(text, "username: alice")})`,
    );
  });

  it("rejects a repeated address, mailbox or redirection", () => {
    const text = edit(BASE, "from: bureau@velo.org", "from: contact@velo.org");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "contact@velo.org", 2)} mail.domains[0].redirections[0].from: duplicate address "contact@velo.org", already at mail.domains[0].mailboxes[1].address (line ${lineOf(text, "address: contact@velo.org")})`,
    );
  });

  it("rejects a repeated mail domain", () => {
    const text = edit(BASE, "services:\n", "    - domain: velo.org\nservices:\n");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "velo.org\nservices")} mail.domains[1].domain: duplicate mail domain "velo.org", already at mail.domains[0].domain (line ${lineOf(text, "domain: velo.org")})`,
    );
  });

  it("rejects a repeated website domain and a hostname used by two services", () => {
    const text = edit(
      edit(BASE, "domains: [velo.org, www.velo.org]", "domains: [velo.org, www.velo.org, velo.org]"),
      "domain: cloud.velo.org",
      "domain: www.velo.org",
    );
    const run = validate({ "velo.yaml": text });
    expectLine(
      run,
      "velo.yaml",
      pos(text, "velo.org]"),
      "services.website.domains[2]",
      'duplicate domain "velo.org", already at services.website.domains[0]',
    );
    expectLine(
      run,
      "velo.yaml",
      pos(text, "www.velo.org\n"),
      "services.nextcloud.domain",
      'duplicate hostname "www.velo.org", already at services.website.domains[1]',
    );
  });

  it("rejects a repeated email within a file", () => {
    const text = edit(BASE, "email: bruno@velo.net", "email: alice@velo.org");
    const run = validate({ "velo.yaml": text });
    expectLine(
      run,
      "velo.yaml",
      pos(text, "alice@velo.org", 1),
      "members[1].email",
      'duplicate email "alice@velo.org", already at members[0].email',
    );
  });
});

describe("claims across tenants", () => {
  /** The other tenant, with one line replaced to claim something of the base. */
  function claim(from: string, to: string) {
    const other = edit(variant("jardin"), from, to);
    const run = validate({ "velo.yaml": BASE, "jardin.yaml": other });
    return { run, other };
  }

  it("a mail domain claimed by two tenants is reported in both files, each naming the other file and line", () => {
    const { run, other } = claim("- domain: jardin.org", "- domain: velo.org");
    // The base's velo.org is also its website's domain: it counts once per tenant.
    const inJardin = expectLine(
      run,
      "jardin.yaml",
      pos(other, "velo.org"),
      "mail.domains[0].domain",
      `domain "velo.org" is also claimed by velo at ${run.name("velo.yaml")}:${lineOf(BASE, "velo.org\n      mailboxes")}`,
    );
    expect(inJardin).toContain("it can belong to one tenant only");
    expectLine(
      run,
      "velo.yaml",
      pos(BASE, "velo.org\n      mailboxes"),
      "mail.domains[0].domain",
      `domain "velo.org" is also claimed by jardin at ${run.name("jardin.yaml")}:${lineOf(other, "velo.org")}`,
    );
  });

  it("a service hostname claimed by two tenants", () => {
    const { run, other } = claim("domain: cloud.jardin.org", "domain: cloud.velo.org");
    expectLine(
      run,
      "jardin.yaml",
      pos(other, "cloud.velo.org"),
      "services.nextcloud.domain",
      `domain "cloud.velo.org" is also claimed by velo at ${run.name("velo.yaml")}:${lineOf(BASE, "cloud.velo.org")}`,
    );
    expectLine(
      run,
      "velo.yaml",
      pos(BASE, "cloud.velo.org"),
      "services.nextcloud.domain",
      `domain "cloud.velo.org" is also claimed by jardin at ${run.name("jardin.yaml")}:${lineOf(other, "cloud.velo.org")}`,
    );
  });

  it("a website domain of one tenant that is another's mail domain", () => {
    const { run, other } = claim("domains: [jardin.org, www.jardin.org]", "domains: [jardin.org, www.velo.org]");
    expectLine(
      run,
      "jardin.yaml",
      pos(other, "www.velo.org"),
      "services.website.domains[1]",
      `domain "www.velo.org" is also claimed by velo at ${run.name("velo.yaml")}:${lineOf(BASE, "www.velo.org")}`,
    );
  });

  it("an address on a shared mail domain claimed by two tenants (the shared domain itself is no claim)", () => {
    const shared = (slug: string, text: string) =>
      edit(
        text,
        "services:\n",
        `    - domain: lautre.example.org\n      mailboxes:\n        - address: ${slug}@lautre.example.org\n          quotaGb: 1\nservices:\n`,
      );
    const velo = shared("velo", BASE);
    const jardin = shared("velo", variant("jardin"));
    const run = validate({ "velo.yaml": velo, "jardin.yaml": jardin });
    expect(run.lines).toHaveLength(2);
    expectLine(
      run,
      "jardin.yaml",
      pos(jardin, "velo@lautre.example.org"),
      "mail.domains[1].mailboxes[0].address",
      `address "velo@lautre.example.org" is also claimed by velo at ${run.name("velo.yaml")}:${lineOf(velo, "velo@lautre")}`,
    );
    expectLine(
      run,
      "velo.yaml",
      pos(velo, "velo@lautre.example.org"),
      "mail.domains[1].mailboxes[0].address",
      `address "velo@lautre.example.org" is also claimed by jardin at ${run.name("jardin.yaml")}:${lineOf(jardin, "velo@lautre")}`,
    );
    // Distinct addresses on the shared domain are fine.
    expect(validate({ "velo.yaml": velo, "jardin.yaml": shared("jardin", variant("jardin")) }).lines).toEqual([]);
  });

  it("a video channel claimed by two tenants", () => {
    const { run, other } = claim("channel: jardin", "channel: velo");
    expectLine(
      run,
      "jardin.yaml",
      val(other, "channel: velo"),
      "services.video.channel",
      `video channel "velo" is also claimed by velo at ${run.name("velo.yaml")}:${lineOf(BASE, "channel: velo")}`,
    );
    expectLine(
      run,
      "velo.yaml",
      pos(BASE, "velo\n    storageGb: 10"),
      "services.video.channel",
      `video channel "velo" is also claimed by jardin at ${run.name("jardin.yaml")}:${lineOf(other, "channel: velo")}`,
    );
  });
});

describe("redirection loops", () => {
  it("a redirection to itself", () => {
    const text = edit(BASE, "to: [alice@velo.org, bruno@velo.net]", "to: [alice@velo.org, bureau@velo.org]");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "bureau@velo.org", 1)} mail.domains[0].redirections[0].to[1]: redirects "bureau@velo.org" to itself: a redirection loop`,
    );
  });

  it("a loop within one file", () => {
    const text = edit(
      BASE,
      "          to: [alice@velo.org, bruno@velo.net]\n",
      "          to: [tresor@velo.org]\n        - from: tresor@velo.org\n          to: [bruno@velo.net, bureau@velo.org]\n",
    );
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "bureau@velo.org")} mail.domains[0].redirections[0].from: redirection loop: bureau@velo.org → tresor@velo.org → bureau@velo.org`,
    );
  });

  it("a loop across two files, reported in each file it passes through", () => {
    const velo = edit(BASE, "to: [alice@velo.org, bruno@velo.net]", "to: [bureau@jardin.org]");
    const jardin = edit(variant("jardin"), /to: \[alice-jardin@jardin\.org, bruno-jardin@jardin\.net\]/, "to: [bureau@velo.org]");
    const run = validate({ "velo.yaml": velo, "jardin.yaml": jardin });
    const inJardin = `${run.name("jardin.yaml")}:${pos(jardin, "bureau@jardin.org")} mail.domains[0].redirections[0].from: redirection loop: bureau@jardin.org → bureau@velo.org → bureau@jardin.org`;
    const inVelo = `${run.name("velo.yaml")}:${pos(velo, "bureau@velo.org")} mail.domains[0].redirections[0].from: redirection loop: bureau@velo.org → bureau@jardin.org → bureau@velo.org`;
    expect([...run.lines].sort()).toEqual([inJardin, inVelo].sort());
  });

  it("a chain that does not come back is no loop", () => {
    const velo = edit(BASE, "to: [alice@velo.org, bruno@velo.net]", "to: [bureau@jardin.org]");
    expect(validate({ "velo.yaml": velo, "jardin.yaml": variant("jardin") }).lines).toEqual([]);
  });
});

describe("one account per person across files", () => {
  // jardin lists alice (of velo) under another email.
  const clash = edit(
    variant("jardin"),
    "    email: bruno-jardin@jardin.net\n",
    "    email: bruno-jardin@jardin.net\n  - username: alice\n    email: alice@ailleurs.org\n",
  );

  it("the same username with different emails, reported in both files", () => {
    const run = validate({ "velo.yaml": BASE, "jardin.yaml": clash });
    expect(run.lines).toEqual([
      `${run.name("jardin.yaml")}:${pos(clash, "alice@ailleurs.org")} members[2].email: username "alice" has email alice@ailleurs.org here but alice@velo.org at ${run.name("velo.yaml")}:${lineOf(BASE, "alice@velo.org")}; one person has one email everywhere`,
      `${run.name("velo.yaml")}:${pos(BASE, "alice@velo.org")} members[0].email: username "alice" has email alice@velo.org here but alice@ailleurs.org at ${run.name("jardin.yaml")}:${lineOf(clash, "alice@ailleurs.org")}; one person has one email everywhere`,
    ]);
  });

  it("validate <file> shows the clash whichever of the two files sorts first", () => {
    for (const report of ["jardin.yaml", "velo.yaml"]) {
      const run = validate({ "velo.yaml": BASE, "jardin.yaml": clash }, { report: [report] });
      expect(run.lines, report).toHaveLength(1);
      expect(run.lines[0]).toMatch(
        new RegExp(
          `^${run.name(report).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+ members\\[\\d\\]\\.email: username "alice" has email`,
        ),
      );
    }
  });

  it("the same person with the same email in two files is fine", () => {
    const jardin = edit(
      variant("jardin"),
      "    email: bruno-jardin@jardin.net\n",
      "    email: bruno-jardin@jardin.net\n  - username: alice\n    email: alice@velo.org\n",
    );
    expect(validate({ "velo.yaml": BASE, "jardin.yaml": jardin }).lines).toEqual([]);
  });

  it("one email under two usernames, reported in both files", () => {
    const jardin = edit(
      variant("jardin"),
      "    email: bruno-jardin@jardin.net\n",
      "    email: bruno-jardin@jardin.net\n  - username: alicia\n    email: alice@velo.org\n",
    );
    const run = validate({ "velo.yaml": BASE, "jardin.yaml": jardin });
    expect(run.lines).toHaveLength(2);
    expectLine(
      run,
      "jardin.yaml",
      pos(jardin, "alicia"),
      "members[2].username",
      `email alice@velo.org belongs to username "alice" at ${run.name("velo.yaml")}:${lineOf(BASE, "alice")}; one email cannot belong to two usernames`,
    );
    expectLine(
      run,
      "velo.yaml",
      pos(BASE, "alice"),
      "members[0].username",
      `email alice@velo.org belongs to username "alicia" at ${run.name("jardin.yaml")}:${lineOf(jardin, "alicia")}`,
    );
  });
});

describe("membership paid until a past date", () => {
  const lapsed = edit(BASE, "paidUntil: 2027-06-30", "paidUntil: 2026-01-31");

  it("is a warning, not an error", () => {
    const run = validate({ "velo.yaml": lapsed });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(lapsed, "2026-01-31")} membership.paidUntil: warning: membership was paid until 2026-01-31; the tenant is flagged, nothing is deleted`,
    );
    expect(run.problems[0]!.severity).toBe("warning");
    expect(hasErrors(run.problems)).toBe(false);
    // The tenant still loads, so its stack is still planned.
    expect(run.tenants.map((t) => t.tenant.slug)).toEqual(["velo"]);
  });

  it("a paidUntil of today or later is nothing", () => {
    expect(validate({ "velo.yaml": edit(BASE, "paidUntil: 2027-06-30", `paidUntil: ${TODAY}`) }).lines).toEqual([]);
  });

  it("npm run validate exits 0 with only warnings and 1 with an error", () => {
    // The CLI checks the given file against the project's tenants/: use names no example tenant uses.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-cli-"));
    dirs.push(dir);
    const warned = path.join(dir, "zzlapsed.yaml");
    fs.writeFileSync(warned, edit(variant("zzlapsed"), "paidUntil: 2027-06-30", "paidUntil: 2020-01-31"));
    const broken = path.join(dir, "zzbroken.yaml");
    fs.writeFileSync(broken, edit(variant("zzbroken"), "storageGb: 20", "storageGb: 21"));
    const cli = (file: string) => {
      try {
        return {
          status: 0,
          out: execFileSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "infra/cli/validate.ts", file], {
            cwd: ROOT,
            encoding: "utf8",
          }),
        };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { status: err.status, out: err.stdout };
      }
    };
    const ok = cli(warned);
    expect(ok.out).toContain("membership.paidUntil: warning: membership was paid until 2020-01-31");
    expect(ok.out).toContain("1 tenant file valid (1 warning)");
    expect(ok.status).toBe(0);
    const bad = cli(broken);
    expect(bad.out).toContain("services.nextcloud.storageGb: 21 GB is not a nextcloud tier");
    expect(bad.out).toContain("1 tenant file: 1 error, 0 warnings");
    expect(bad.status).toBe(1);
  });
});

describe("every problem of every file in one run", () => {
  it("reports problems from two bad files, several per file, in file and line order", () => {
    const velo = edit(edit(BASE, "quotaGb: 5", "quotaGb: 12"), "owner: alice", "owner: zoe");
    const jardin = edit(
      edit(variant("jardin"), "subscribers: 500", "subscribers: 300"),
      "contact: contact@jardin.org",
      "contakt: contact@jardin.org",
    );
    const run = validate({ "velo.yaml": velo, "jardin.yaml": jardin });
    expect(run.lines).toEqual([
      `${run.name("jardin.yaml")}:1:1 contact: is required`,
      `${run.name("jardin.yaml")}:${pos(jardin, "contakt")} contakt: unknown field "contakt"; did you mean "contact"?`,
      `${run.name("velo.yaml")}:${pos(velo, "zoe")} mail.domains[0].mailboxes[0].owner: owner "zoe" is not a member of this tenant; add them under members or pick one of: alice, bruno`,
      `${run.name("velo.yaml")}:${pos(velo, "12")} mail.domains[0].mailboxes[0].quotaGb: 12 GB is above the 10 GB a mailbox may hold`,
    ]);
    // jardin's schema problems stop it before its rules: the bad bracket waits for the next run.
    expect(run.tenants.map((t) => t.tenant.slug)).toEqual(["velo"]);
  });

  it("a file that does not load does not hide the cross-file problems of the others", () => {
    const jardin = edit(variant("jardin"), "channel: jardin", "channel: velo");
    const run = validate({ "velo.yaml": BASE, "jardin.yaml": jardin, "broken.yaml": "slug: [\n" });
    expect(run.lines.filter((l) => l.startsWith(run.name("broken.yaml")))).not.toHaveLength(0);
    expect(run.lines.filter((l) => l.includes('video channel "velo"'))).toHaveLength(2);
  });

  it("validate <files> reports only the files given, checked against the whole folder", () => {
    const given = edit(variant("jardin"), "domain: cloud.jardin.org", "domain: cloud.velo.org");
    const run = validate({ "velo.yaml": BASE, "broken.yaml": "slug: [\n" }, { outside: { "jardin.yaml": given } });
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(/jardin\.yaml:\d+:\d+ services\.nextcloud\.domain: domain "cloud\.velo\.org" is also claimed by velo at /);
  });
});

/** A problem is always located: keeps the helpers above honest. */
function assertLocated(problems: readonly Problem[]) {
  for (const p of problems) {
    expect(p.line).toBeGreaterThanOrEqual(1);
    expect(p.col).toBeGreaterThanOrEqual(1);
    expect(p.field).not.toBe("");
  }
}

it("every problem of a file full of mistakes is located", () => {
  const text = BASE.replaceAll("velo.org", "velo.ORG").replace("alice", "Alice").replace("storageGb: 5", "storageGb: -1");
  const run = validate({ "velo.yaml": text });
  expect(run.problems.length).toBeGreaterThan(3);
  assertLocated(run.problems);
});

describe("email addresses", () => {
  it("refuses a local part a mail map would misread (a leading # is a comment to Postfix)", () => {
    const text = edit(BASE, "        - address: contact@velo.org", '        - address: "#contact@velo.org"');
    const run = validate({ "velo.yaml": text });
    expectLine(
      run,
      "velo.yaml",
      pos(text, '"#contact@velo.org"'),
      "mail.domains[0].mailboxes[1].address",
      "must be an email address such as alice@example.org",
    );
  });
});

describe("names and sizes (infra/contract/names.ts)", () => {
  it("accepts punycode labels, in the top-level domain too", () => {
    const text = edit(
      edit(BASE, "domains: [velo.org, www.velo.org]", "domains: [velo.org, www.jardins.xn--p1ai]"),
      "to: [alice@velo.org, bruno@velo.net]",
      "to: [alice@velo.org, bruno@xn--caf-dma.example.org]",
    );
    expect(validate({ "velo.yaml": text }).lines).toEqual([]);
  });

  it("gives the punycode form of a website domain written in Unicode", () => {
    const text = edit(BASE, "domains: [velo.org, www.velo.org]", "domains: [velo.org, www.jardins.рф]");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${pos(text, "www.jardins.рф")} services.website.domains[1]: is an internationalised name; write it in punycode: www.jardins.xn--p1ai`,
    );
  });

  it("gives the punycode form of a mail domain and of an address written in Unicode", () => {
    const text = edit(
      edit(BASE, "      redirections:\n", "    - domain: café.example.org\n      redirections:\n"),
      "to: [alice@velo.org, bruno@velo.net]",
      "to: [alice@velo.org, bruno@jardins.рф]",
    );
    const run = validate({ "velo.yaml": text });
    expect(run.lines).toEqual([
      `${run.name("velo.yaml")}:${pos(text, "café.example.org")} mail.domains[1].domain: is an internationalised name; write it in punycode: xn--caf-dma.example.org`,
      `${run.name("velo.yaml")}:${pos(text, "bruno@jardins.рф")} mail.domains[1].redirections[0].to[1]: has an internationalised domain; write it in punycode: bruno@jardins.xn--p1ai`,
    ]);
  });

  it("says which label of a hostname is wrong", () => {
    const long = "a".repeat(64);
    const text = edit(
      edit(BASE, "domain: cloud.velo.org", `domain: ${long}.velo.org`),
      "domain: lettre.velo.org",
      "domain: xn--zz.velo.org",
    );
    const run = validate({ "velo.yaml": text });
    expect(run.lines).toEqual([
      `${run.name("velo.yaml")}:${pos(text, long)} services.nextcloud.domain: must be a lowercase hostname such as www.example.org; the label "aaaaaaaaaaaaaaaaaaaaa..." has 64 characters, at most 63`,
      `${run.name("velo.yaml")}:${pos(text, "xn--zz.velo.org")} services.newsletter.domain: must be a lowercase hostname such as www.example.org; the label "xn--zz" is not valid punycode (RFC 3492, RFC 5891)`,
    ]);
  });

  it("refuses a top-level domain that is neither letters nor punycode, in a hostname and an address", () => {
    const text = edit(
      edit(BASE, "domains: [velo.org, www.velo.org]", "domains: [velo.org, www.velo.a1]"),
      "email: bruno@velo.net",
      "email: bruno@velo.123",
    );
    const run = validate({ "velo.yaml": text });
    expect(run.lines).toEqual([
      `${run.name("velo.yaml")}:${pos(text, "bruno@velo.123")} members[1].email: must be an email address such as alice@example.org; after the @: its last label "123" must be letters only, or punycode (xn--...)`,
      `${run.name("velo.yaml")}:${pos(text, "www.velo.a1")} services.website.domains[1]: must be a lowercase hostname such as www.example.org; its last label "a1" must be letters only, or punycode (xn--...)`,
    ]);
  });

  it("refuses a mailbox quota that is not a whole number of GB", () => {
    const text = edit(BASE, "quotaGb: 5", "quotaGb: 0.5");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "quotaGb: 0.5")} mail.domains[0].mailboxes[0].quotaGb: must be a positive whole number of GB (the mail server counts quotas in whole GB), not 0.5`,
    );
  });

  it("refuses a storage size that is not a whole number of GB", () => {
    const text = edit(BASE, "    storageGb: 5\n", "    storageGb: 2.5\n");
    const run = validate({ "velo.yaml": text });
    expect(only(run)).toBe(
      `${run.name("velo.yaml")}:${val(text, "storageGb: 2.5")} services.website.storageGb: must be a positive whole number of GB, one of the catalog's tiers, not 2.5`,
    );
  });

  it("takes a slug of 40 characters and a username of 32, not one more", () => {
    const slug = "a".repeat(40);
    const user = `b${"c".repeat(31)}`;
    expect(
      validate({
        [`${slug}.yaml`]: edit(edit(BASE, "slug: velo", `slug: ${slug}`), "owner: alice", "owner: bruno").replaceAll("bruno", user),
      }).lines,
    ).toEqual([]);
    const text = edit(edit(BASE, "slug: velo", `slug: ${slug}a`), "username: bruno", `username: ${user}d`);
    const run = validate({ [`${slug}a.yaml`]: text });
    expect(run.lines).toEqual([
      `${run.name(`${slug}a.yaml`)}:${val(text, `slug: ${slug}a`)} slug: must be at most 40 characters, not 41`,
      `${run.name(`${slug}a.yaml`)}:${val(text, `username: ${user}d`)} members[1].username: must start with a lowercase letter, then 1 to 31 of a-z 0-9 . _ -`,
    ]);
  });
});
