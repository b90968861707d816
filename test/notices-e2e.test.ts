/**
 * images/backup/notices.sh run by dash, as on the monitoring host, against a fake Prometheus that
 * answers the instant query API in its documented JSON shape
 * (https://prometheus.io/docs/prometheus/latest/querying/api/) and the SMTP sink of
 * test/helpers/smtp-sink.ts, with the fragments infra/model/tenant-notices.ts writes.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NoticeTenant, noticeFragment } from "../infra/model/tenant-notices";
import { needTools, requireTool } from "./helpers/debian-tools";
import { type SmtpSink, type SunkMessage, startSmtpSink } from "./helpers/smtp-sink";

const SCRIPT = path.resolve(__dirname, "..", "images", "backup", "notices.sh");
const LOGIN = { username: "noreply@alacarte.example.org", password: 'p@ss "w\\ord" $(x) 1' };
const sender = { name: "alacarte", address: "noreply@alacarte.example.org", contact: "adhesions@alacarte.example.org" };
const velo: NoticeTenant = {
  slug: "amis-du-velo",
  name: "Les Amis du Vélo",
  contact: "tresorerie@amisduvelo.org",
  paidUntil: "2026-12-31",
};
const jardins: NoticeTenant = {
  slug: "jardins",
  name: "Les Jardins Partagés de l'Île",
  contact: "bureau@jardins.example.net",
  paidUntil: "2027-06-30",
};

/**
 * A Prometheus answering GET and POST /api/v1/query for `used / quota` of one set, as the API
 * documents: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<unix time>,"<value>"]}]}}`,
 * sample values as strings; a query it cannot parse gets 400 with `"status":"error","errorType":"bad_data"`.
 * Division of two vectors keeps the labels and drops the metric name (PromQL's binary operators).
 */
interface FakePrometheus {
  url: string;
  /** set → volume → used/quota. */
  ratios: Map<string, Record<string, number>>;
  queries: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

async function startPrometheus(): Promise<FakePrometheus> {
  const ratios = new Map<string, Record<string, number>>();
  const queries: string[] = [];
  const expression = /^alacarte_volume_used_bytes\{set="([a-z0-9-]+)"\} \/ alacarte_volume_quota_bytes\{set="\1"\}$/;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://prometheus");
    const json = (code: number, value: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (url.pathname !== "/api/v1/query" || (req.method !== "GET" && req.method !== "POST")) return json(404, { status: "error" });
    const params = req.method === "POST" ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const query = params.get("query") ?? "";
    queries.push(query);
    const m = expression.exec(query);
    if (!m) return json(400, { status: "error", errorType: "bad_data", error: `unexpected query ${query}` });
    const now = Date.now() / 1000;
    const result = Object.entries(ratios.get(m[1]!) ?? {}).map(([volume, ratio]) => ({
      metric: { instance: "h1.infra.alacarte.example.org:9100", job: "alacarte-backup", set: m[1], volume },
      value: [now, String(ratio)],
    }));
    json(200, { status: "success", data: { resultType: "vector", result } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    ratios,
    queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The messages' Subject headers decoded (RFC 2047 B encoded-words, folding dropped). */
function subject(message: SunkMessage): string {
  const raw = /^Subject: (.*(?:\r\n .*)*)/m.exec(message.data)?.[1] ?? "";
  return raw
    .replace(/\r\n /g, " ")
    .replace(/(\?=) (?==\?)/g, "$1")
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g, (_, b64: string) => Buffer.from(b64, "base64").toString("utf8"));
}

describe("images/backup/notices.sh", () => {
  needTools("dash", "curl", "jq", "shellcheck");
  let work: string;
  let sink: SmtpSink;
  let prometheus: FakePrometheus;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "alacarte-notices-"));
    sink = await startSmtpSink(LOGIN);
    prometheus = await startPrometheus();
  });
  afterAll(async () => {
    await sink?.close();
    await prometheus?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A folder of fragments, one per tenant, as the tenant stacks write them. */
  function fragments(name: string, tenants: NoticeTenant[]): string {
    const dir = path.join(work, name);
    mkdirSync(dir, { recursive: true });
    for (const t of tenants) writeFileSync(path.join(dir, `${t.slug}.notice`), noticeFragment(t, sender));
    return dir;
  }

  /**
   * A PATH whose curl records its arguments, then runs the real curl: what any process on the
   * host could read of its command line.
   */
  function recordingPath(): { dir: string; log: string } {
    const dir = path.join(work, "bin");
    const log = path.join(work, "curl-args.log");
    if (!existsSync(dir)) {
      mkdirSync(dir);
      writeFileSync(path.join(dir, "curl"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${requireTool("curl")}' "$@"\n`);
      chmodSync(path.join(dir, "curl"), 0o755);
    }
    return { dir, log };
  }

  function run(env: Record<string, string>): Promise<Run> {
    const child = spawn(requireTool("dash"), [SCRIPT], {
      env: {
        PATH: `${recordingPath().dir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        SMTP_STARTTLS: "false",
        SMTP_USERNAME: LOGIN.username,
        SMTP_PASSWORD: LOGIN.password,
        PROMETHEUS_URL: prometheus.url,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  }

  const states = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => `${path.relative(dir, e.parentPath)}/${e.name}`)
          .sort()
      : [];
  const secrets = [LOGIN.password, velo.contact, jardins.contact];
  const expectNoSecrets = (r: Run) => {
    for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
  };

  it("sends each notice once per crossing, in French then English, and again after the ratio fell below 0.8", async () => {
    const notices = fragments("notices", [velo, jardins]);
    const state = path.join(work, "state");
    const env = { NOTICES_DIR: notices, STATE_DIR: state, NOTICES_TODAY: "2026-12-05" };
    prometheus.ratios.set("amis-du-velo", { "nextcloud-data": 0.93, "website-files": 0.5 });
    prometheus.ratios.set("jardins", { "website-files": 0.9 });

    const first = await run(env);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("notices: 2 tenants, 3 notices sent, 0 failed");
    expect(sink.messages).toHaveLength(3);
    expectNoSecrets(first);
    // Velo's membership is due (2026-12-31 is within 30 days of 2026-12-05); Jardins' (2027-06-30) is not.
    expect(states(state)).toEqual([
      "amis-du-velo/paid-until-2026-12-31",
      "amis-du-velo/quota-nextcloud-data",
      "jardins/quota-website-files",
    ]);
    const byRecipient = (to: string) => sink.messages.filter((m) => m.to.join() === to);
    const [membership, veloQuota] = [
      byRecipient(velo.contact).find((m) => subject(m).startsWith("Adhésion"))!,
      byRecipient(velo.contact).find((m) => subject(m).startsWith("Espace"))!,
    ];
    expect(subject(membership)).toBe(
      'Adhésion de « Les Amis du Vélo » : échéance le 31 décembre 2026 / Membership of "Les Amis du Vélo": due on 31 December 2026',
    );
    expect(subject(veloQuota)).toBe(
      'Espace presque plein pour « Les Amis du Vélo » / Storage nearly full for "Les Amis du Vélo" (nextcloud-data, 93 %)',
    );
    expect(subject(byRecipient(jardins.contact)[0]!)).toBe(
      "Espace presque plein pour « Les Jardins Partagés de l'Île » / Storage nearly full for \"Les Jardins Partagés de l'Île\" (website-files, 90 %)",
    );
    for (const m of sink.messages) {
      expect(m).toMatchObject({ from: sender.address, login: LOGIN.username });
      expect(m.data).not.toContain("{{");
      expect(m.data).toMatch(/^Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/m);
      expect(m.data).toMatch(/^Message-ID: <notice\.(membership|quota)\.[a-z0-9-]+\.[0-9t]+z\.\d+\.\d+@alacarte\.example\.org>$/m);
      expect(m.data).toContain("Content-Type: text/plain; charset=UTF-8");
      const body = m.data.slice(m.data.indexOf("\r\n\r\n")).replace(/\r\n|\u00a0/g, " ");
      expect(body.indexOf("Bonjour")).toBeGreaterThan(0);
      expect(body.indexOf("Bonjour")).toBeLessThan(body.indexOf("Hello"));
    }
    expect(veloQuota.data.replace(/\r\n|\u00a0/g, " ")).toContain(
      "Le volume « nextcloud-data » de « Les Amis du Vélo » occupe 93 % de l'espace",
    );
    expect(membership.data.replace(/\r\n|\u00a0/g, " ")).toContain("nothing is deleted");
    // Neither the password nor an address reached a command line.
    const args = readFileSync(recordingPath().log, "utf8");
    expect(args).toContain("-K -");
    for (const s of [LOGIN.password, "p@ss", velo.contact, jardins.contact, sender.address]) expect(args).not.toContain(s);

    const second = await run(env);
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(second.stdout).toContain("notices: 2 tenants, 0 notices sent, 0 failed");
    expect(sink.messages).toHaveLength(3);

    // Between 0.8 and 0.9 the notice sent stays sent; below 0.8 it is re-armed; above 0.9 again, a second mail.
    prometheus.ratios.set("amis-du-velo", { "nextcloud-data": 0.85, "website-files": 0.5 });
    expect((await run(env)).code).toBe(0);
    expect(states(state)).toContain("amis-du-velo/quota-nextcloud-data");
    prometheus.ratios.set("amis-du-velo", { "nextcloud-data": 0.79, "website-files": 0.5 });
    expect((await run(env)).code).toBe(0);
    expect(states(state)).not.toContain("amis-du-velo/quota-nextcloud-data");
    expect(sink.messages).toHaveLength(3);
    // Over the quota is possible (a quota lowered, a host without project quotas); 1.13 * 100 is 112.99… in binary.
    prometheus.ratios.set("amis-du-velo", { "nextcloud-data": 1.13, "website-files": 0.5 });
    const again = await run(env);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(sink.messages).toHaveLength(4);
    expect(subject(sink.messages[3]!)).toContain("(nextcloud-data, 113 %)");
    expect((await run(env)).code).toBe(0);
    expect(sink.messages).toHaveLength(4);

    // A renewed membership (a new paidUntil) arms its notice again, from 30 days before the new date.
    fragments("notices", [
      { ...velo, paidUntil: "2027-12-31" },
      { ...jardins, paidUntil: "2028-06-30" },
    ]);
    expect((await run({ ...env, NOTICES_TODAY: "2027-11-30" })).code).toBe(0);
    expect(sink.messages).toHaveLength(4);
    const renewed = await run({ ...env, NOTICES_TODAY: "2027-12-01" });
    expect(renewed).toMatchObject({ code: 0, stderr: "" });
    expect(sink.messages).toHaveLength(5);
    expect(subject(sink.messages[4]!)).toContain("31 December 2027");
    expect(states(state)).toContain("amis-du-velo/paid-until-2027-12-31");
    // The queries were exactly the documented ratio, one per tenant and run.
    expect(new Set(prometheus.queries)).toEqual(
      new Set([
        'alacarte_volume_used_bytes{set="amis-du-velo"} / alacarte_volume_quota_bytes{set="amis-du-velo"}',
        'alacarte_volume_used_bytes{set="jardins"} / alacarte_volume_quota_bytes{set="jardins"}',
      ]),
    );
  }, 120_000);

  it("exits non-zero and writes no state when the SMTP login is refused, after trying every tenant", async () => {
    const notices = fragments("notices-refused", [velo, jardins]);
    const state = path.join(work, "state-refused");
    prometheus.ratios.set("amis-du-velo", { "nextcloud-data": 0.95 });
    prometheus.ratios.set("jardins", { "website-files": 0.99 });
    const before = sink.messages.length;
    const wrong = `${LOGIN.password}-wrong`;
    const r = await run({ NOTICES_DIR: notices, STATE_DIR: state, NOTICES_TODAY: "2026-12-20", SMTP_PASSWORD: wrong });
    expect(r.code).not.toBe(0);
    expect(sink.messages.length).toBe(before);
    expect(states(state)).toEqual([]);
    expect(r.stdout).toContain("notices: 2 tenants, 0 notices sent, 3 failed");
    expect(r.stderr).toContain("amis-du-velo: membership notice not sent; tried again next run");
    expect(r.stderr).toContain("jardins: quota notice not sent (website-files); tried again next run");
    for (const s of [...secrets, wrong]) expect(r.stdout + r.stderr).not.toContain(s);
  }, 60_000);

  it("sends nothing in clear when SMTP_STARTTLS=true and the server offers no STARTTLS", async () => {
    const notices = fragments("notices-tls", [velo]);
    const state = path.join(work, "state-tls");
    const before = sink.messages.length;
    const r = await run({ NOTICES_DIR: notices, STATE_DIR: state, NOTICES_TODAY: "2026-12-20", SMTP_STARTTLS: "true" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("amis-du-velo: membership notice not sent");
    expect(sink.messages.length).toBe(before);
    expect(states(state)).toEqual([]);
  }, 60_000);

  it("skips the quota notices with a message and a non-zero exit when Prometheus cannot be read, and still sends the membership's", async () => {
    const notices = fragments("notices-outage", [velo]);
    const state = path.join(work, "state-outage");
    const before = sink.messages.length;
    const down = await startPrometheus();
    await down.close(); // its port now refuses connections
    const r = await run({ NOTICES_DIR: notices, STATE_DIR: state, NOTICES_TODAY: "2026-12-20", PROMETHEUS_URL: down.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Prometheus cannot be read: quota notices skipped this run");
    expect(sink.messages.length).toBe(before + 1);
    expect(states(state)).toEqual(["amis-du-velo/paid-until-2026-12-31"]);
  }, 60_000);

  it("refuses a fragment whose values are not what the contract allows, and sends the others", async () => {
    const notices = fragments("notices-bad", [velo]);
    const pwned = path.join(work, "pwned");
    writeFileSync(
      path.join(notices, "evil.notice"),
      `format=1\nslug=evil\ncontact=$(touch ${pwned})@example.org\nfrom=a@b.org\nquota_message=QQ==\n`,
    );
    const r = await run({ NOTICES_DIR: notices, STATE_DIR: path.join(work, "state-bad"), NOTICES_TODAY: "2026-01-01" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("evil: fragment refused");
    expect(r.stdout).toContain("notices: 1 tenants");
    expect(existsSync(pwned)).toBe(false);
  }, 60_000);

  it("passes shellcheck as POSIX sh", () => {
    expect(() => execFileSync(requireTool("shellcheck"), ["-s", "sh", SCRIPT], { encoding: "utf8" })).not.toThrow();
  });
});
