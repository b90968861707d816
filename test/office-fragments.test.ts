import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  OFFICE_GROUP_PATTERN,
  PLATFORM_OFFICE_FRAGMENT,
  REMOTE_CONFIG_PATH,
  assembleOfficeCommand,
  officeFolders,
  officeFragmentPath,
  officeGroup,
  remoteConfigJson,
  renderOfficeFragment,
  wopiOrigin,
} from "../components/platform/office-fragments";
import { officeDirOf } from "../components/blocks/office-access";
import { needTools, requireTool } from "./helpers/debian-tools";
import { freePort } from "./helpers/loopback";

/**
 * What coolwsd takes from the remote configuration, as RemoteConfigPoll reads it
 * (CollaboraOnline/online wsd/RemoteConfig.cpp, commit 04a7440dbe39): the JSON must carry
 * `"kind": "configuration"` (RemoteJSONPoll::pollingThread, else "Make sure that … contains a
 * property 'kind'"); `storage.wopi.alias_groups.groups` must be a non-empty array, else the groups
 * are left as they were ("Overriding alias_groups failed"); `mode` defaults to "first"; each
 * group's `host`, `allow` and `aliases` become `storage.wopi.alias_groups.group[i]` keys
 * (fetchAliasGroups). Returns undefined where coolwsd would keep its previous groups.
 */
function aliasGroupsAsCoolwsdReads(
  body: string,
): { mode: string; groups: { host: string; allow: boolean; aliases: string[] }[] } | undefined {
  const json = JSON.parse(body) as {
    kind?: unknown;
    storage?: { wopi?: { alias_groups?: { mode?: unknown; groups?: unknown } } };
  };
  if (json.kind !== "configuration") return undefined;
  const aliasGroups = json.storage?.wopi?.alias_groups;
  if (!aliasGroups || !Array.isArray(aliasGroups.groups) || aliasGroups.groups.length === 0) return undefined;
  const mode = typeof aliasGroups.mode === "string" ? aliasGroups.mode : "first";
  const groups = (aliasGroups.groups as { host?: unknown; allow?: unknown; aliases?: unknown }[]).map((g) => ({
    host: typeof g.host === "string" ? g.host : "",
    // booleanToString(allow): a JSON true, or the string "true".
    allow: g.allow === true || g.allow === "true",
    aliases: Array.isArray(g.aliases) ? g.aliases.map(String) : [],
  }));
  return { mode, groups };
}

describe("the office fragments (pure)", () => {
  it("writes an origin with its port, as coolwsd's alias groups do", () => {
    expect(wopiOrigin("https://cloud.amisduvelo.org")).toBe("https://cloud.amisduvelo.org:443");
    expect(wopiOrigin("https://cloud.amisduvelo.org/")).toBe("https://cloud.amisduvelo.org:443");
    expect(wopiOrigin("https://cloud.amisduvelo.org:8443")).toBe("https://cloud.amisduvelo.org:8443");
  });

  it("refuses what is not the https URL of a hostname, naming it", () => {
    expect(() => wopiOrigin("http://cloud.amisduvelo.org")).toThrow(/"http:\/\/cloud.amisduvelo.org" must be an https URL/);
    expect(() => wopiOrigin("https://cloud.amisduvelo.org/index.php")).toThrow(/no path/);
    expect(() => wopiOrigin("https://Cloud.AmisDuVelo.org")).toThrow(/Cloud.AmisDuVelo.org/);
    expect(() => wopiOrigin('https://a"b.org')).toThrow();
    expect(() => wopiOrigin("https://cloud.amisduvelo.org:70000")).toThrow(/invalid port/);
    expect(() => officeGroup([])).toThrow(/at least one/);
  });

  it("makes one group per Nextcloud: its first name the host, the others aliases, without repeats", () => {
    expect(officeGroup(["https://cloud.a.org", "https://nuage.a.org", "https://cloud.a.org:443"])).toEqual({
      host: "https://cloud.a.org:443",
      allow: true,
      aliases: ["https://nuage.a.org:443"],
    });
  });

  it("renders a fragment whose one JSON line the host's pattern accepts, and nothing else", () => {
    const text = renderOfficeFragment("amis-du-velo", ["https://cloud.amisduvelo.org"]);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^# Managed by alacarte/);
    expect(lines[1]).toBe('{"host":"https://cloud.amisduvelo.org:443","allow":true,"aliases":[]}');
    const pattern = new RegExp(OFFICE_GROUP_PATTERN);
    expect(pattern.test(lines[1]!)).toBe(true);
    expect(pattern.test('{"host":"https://x.org:443","allow":false,"aliases":[]}')).toBe(false);
    expect(pattern.test('{"host":"https://x.org:443","allow":true,"aliases":[],"extra":1}')).toBe(false);
    expect(pattern.test('{"host":"https://x.org:443","allow":true,"aliases":["https://y.org:443","https://z.org:443"]}')).toBe(true);
  });

  it("names the fragment from the slug only, and the folders from the office folder", () => {
    expect(officeFragmentPath("/srv/alacarte/office/fragments/", "amis-du-velo")).toBe(
      "/srv/alacarte/office/fragments/amis-du-velo.office",
    );
    expect(() => officeFragmentPath("/srv/alacarte/office/fragments", "../etc")).toThrow(/must be a tenant slug/);
    expect(officeFolders()).toEqual({
      fragmentsDir: "/srv/alacarte/office/fragments",
      publicDir: "/srv/alacarte/office/public",
      configFile: `/srv/alacarte/office/public${REMOTE_CONFIG_PATH}`,
    });
    expect(officeDirOf("/srv/alacarte/office/fragments")).toBe("/srv/alacarte/office");
    expect(() => officeDirOf("/srv/alacarte/office")).toThrow(/must be "<office folder>\/fragments"/);
    expect(() => officeFolders("srv/office")).toThrow(/must be absolute/);
  });
});

describe("assembleOfficeCommand", () => {
  // grep and cmp run inside the script; jq reads its output as a JSON parser would.
  needTools("sh", "dash", "flock", "grep", "cmp", "jq", "shellcheck");
  const setup = () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-office-"));
    const folders = officeFolders(root);
    mkdirSync(folders.fragmentsDir, { recursive: true });
    return { root, folders };
  };
  const run = (folders: ReturnType<typeof officeFolders>) =>
    execFileSync("dash", ["-c", assembleOfficeCommand(folders)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  it("joins every fragment's group, in byte order, into the remote configuration coolwsd reads", () => {
    const { folders } = setup();
    writeFileSync(
      join(folders.fragmentsDir, "zeta.office"),
      renderOfficeFragment("zeta", ["https://cloud.zeta.org", "https://nuage.zeta.org"]),
    );
    writeFileSync(
      join(folders.fragmentsDir, "amis-du-velo.office"),
      renderOfficeFragment("amis-du-velo", ["https://cloud.amisduvelo.org"]),
    );
    writeFileSync(
      join(folders.fragmentsDir, PLATFORM_OFFICE_FRAGMENT),
      renderOfficeFragment("the platform", ["https://office.example.org"]),
    );
    // A write in progress (HostFile's hidden temporary) and another suffix are not fragments.
    writeFileSync(join(folders.fragmentsDir, ".evil.office.alacarte-tmp"), renderOfficeFragment("evil", ["https://evil.org"]));
    writeFileSync(join(folders.fragmentsDir, "evil.mail"), renderOfficeFragment("evil", ["https://evil.org"]));
    run(folders);
    const body = readFileSync(folders.configFile, "utf8");
    expect(body).toBe(
      remoteConfigJson([
        '{"host":"https://cloud.amisduvelo.org:443","allow":true,"aliases":[]}',
        '{"host":"https://cloud.zeta.org:443","allow":true,"aliases":["https://nuage.zeta.org:443"]}',
        '{"host":"https://office.example.org:443","allow":true,"aliases":[]}',
      ]),
    );
    expect(aliasGroupsAsCoolwsdReads(body)).toEqual({
      mode: "groups",
      groups: [
        { host: "https://cloud.amisduvelo.org:443", allow: true, aliases: [] },
        { host: "https://cloud.zeta.org:443", allow: true, aliases: ["https://nuage.zeta.org:443"] },
        { host: "https://office.example.org:443", allow: true, aliases: [] },
      ],
    });
    // Debian's jq parses it: valid JSON, not only what JSON.parse forgives.
    expect(execFileSync("jq", ["-r", ".storage.wopi.alias_groups.groups[].host", folders.configFile], { encoding: "utf8" })).toBe(
      "https://cloud.amisduvelo.org:443\nhttps://cloud.zeta.org:443\nhttps://office.example.org:443\n",
    );
    expect(statSync(folders.configFile).mode & 0o777).toBe(0o644);
  });

  it("run twice, changes nothing the second time: same bytes, same file (its ETag stays)", () => {
    const { folders } = setup();
    writeFileSync(
      join(folders.fragmentsDir, "amis-du-velo.office"),
      renderOfficeFragment("amis-du-velo", ["https://cloud.amisduvelo.org"]),
    );
    run(folders);
    const first = statSync(folders.configFile);
    const body = readFileSync(folders.configFile, "utf8");
    run(folders);
    const second = statSync(folders.configFile);
    expect(readFileSync(folders.configFile, "utf8")).toBe(body);
    expect(second.ino).toBe(first.ino);
    expect(second.mtimeMs).toBe(first.mtimeMs);
  });

  it("drops a removed tenant's group at the next run, and keeps a valid file with no fragment at all", () => {
    const { folders } = setup();
    const file = join(folders.fragmentsDir, "amis-du-velo.office");
    writeFileSync(file, renderOfficeFragment("amis-du-velo", ["https://cloud.amisduvelo.org"]));
    run(folders);
    expect(readFileSync(folders.configFile, "utf8")).toContain("cloud.amisduvelo.org");
    rmSync(file);
    run(folders);
    const body = readFileSync(folders.configFile, "utf8");
    expect(body).toBe(remoteConfigJson([]));
    expect(execFileSync("jq", ["-c", ".storage.wopi.alias_groups.groups", folders.configFile], { encoding: "utf8" })).toBe("[]\n");
    // An empty list leaves coolwsd on its previous groups: the platform's own fragment prevents it.
    expect(aliasGroupsAsCoolwsdReads(body)).toBeUndefined();
  });

  it("skips a line that is no alias group, naming the file, and keeps the JSON valid", () => {
    const { folders } = setup();
    writeFileSync(join(folders.fragmentsDir, "a.office"), renderOfficeFragment("a", ["https://cloud.a.org"]));
    writeFileSync(join(folders.fragmentsDir, "b.office"), '{"host":"https://b.org:443","allow":true,"aliases":[]},{"x":1}\nnot json\n');
    // A last line without its newline is still read.
    writeFileSync(join(folders.fragmentsDir, "c.office"), '{"host":"https://cloud.c.org:443","allow":true,"aliases":[]}');
    const result = spawnSync("dash", ["-c", assembleOfficeCommand(folders)], { encoding: "utf8" });
    expect(result.status).toBe(0);
    const stderr = result.stderr;
    expect(stderr).toContain("b.office: skipped a line that is no alias group");
    expect(stderr.match(/skipped/g)).toHaveLength(2);
    const hosts = execFileSync("jq", ["-r", ".storage.wopi.alias_groups.groups[].host", folders.configFile], { encoding: "utf8" });
    expect(hosts).toBe("https://cloud.a.org:443\nhttps://cloud.c.org:443\n");
  });

  it("passes shellcheck (Debian's shellcheck, installed by test/setup-debian.sh)", () => {
    expect(() =>
      execFileSync("shellcheck", ["-s", "sh", "--severity=style", "-"], {
        input: assembleOfficeCommand(officeFolders()),
        encoding: "utf8",
      }),
    ).not.toThrow();
  });
});

/**
 * The file served as the config nginx serves it: the official image's default server is a static
 * root (docker-library/docs nginx "Hosting some simple static content": the folder mounted at
 * /usr/share/nginx/html), here Debian's nginx with the same root. coolwsd sends If-None-Match with
 * the last ETag (wsd/RemoteConfig.cpp RemoteJSONPoll::pollingThread) and changes nothing on a 304.
 */
describe("the assembled file under Debian's nginx: an unchanged list answers 304, a changed one 200", () => {
  needTools("nginx", "dash", "flock", "grep", "cmp");
  const root = mkdtempSync(join(tmpdir(), "alacarte-office-nginx-"));
  const folders = officeFolders(join(root, "office"));
  const runDir = join(root, "run");
  let nginx: ChildProcess | undefined;
  let errors = "";
  afterAll(async () => {
    if (nginx?.pid !== undefined && nginx.exitCode === null) {
      const closed = new Promise((resolve) => nginx!.once("close", resolve));
      process.kill(nginx.pid, "SIGTERM");
      await closed;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("keeps the ETag across a re-run with the same fragments, and gives a new one when a tenant is added", async () => {
    // nginx's workers run as an unprivileged user, as the image's do: the folders must be readable by all (the script's umask 022).
    chmodSync(root, 0o755);
    mkdirSync(folders.fragmentsDir, { recursive: true });
    mkdirSync(runDir);
    const port = await freePort();
    const conf = join(root, "nginx.conf");
    writeFileSync(
      conf,
      [
        "daemon off;",
        `pid ${runDir}/nginx.pid;`,
        "error_log stderr warn;",
        "events {}",
        "http {",
        "  access_log off;",
        `  client_body_temp_path ${runDir}/client_body;`,
        `  proxy_temp_path ${runDir}/proxy;`,
        `  fastcgi_temp_path ${runDir}/fastcgi;`,
        `  uwsgi_temp_path ${runDir}/uwsgi;`,
        `  scgi_temp_path ${runDir}/scgi;`,
        "  server {",
        `    listen 127.0.0.1:${port};`,
        `    location / { root ${folders.publicDir}; }`,
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const assemble = () => execFileSync("dash", ["-c", assembleOfficeCommand(folders)], { stdio: "pipe" });
    writeFileSync(
      join(folders.fragmentsDir, PLATFORM_OFFICE_FRAGMENT),
      renderOfficeFragment("the platform", ["https://office.example.org"]),
    );
    assemble();

    nginx = spawn(requireTool("nginx"), ["-p", `${root}/`, "-e", "stderr", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    nginx.stderr!.on("data", (d: Buffer) => {
      errors += d.toString("utf8");
    });
    const url = `http://127.0.0.1:${port}${REMOTE_CONFIG_PATH}`;
    let first: Response | undefined;
    for (let i = 0; i < 100 && !first; i++) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${errors}`);
      first = await fetch(url).catch(() => undefined);
      if (!first) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(first?.status).toBe(200);
    const etag = first!.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(aliasGroupsAsCoolwsdReads(await first!.text())?.groups.map((g) => g.host)).toEqual(["https://office.example.org:443"]);

    // The same fragments again (a tenant stack's up with nothing changed): 304, nothing for coolwsd to do.
    assemble();
    expect((await fetch(url, { headers: { "If-None-Match": etag! } })).status).toBe(304);

    // A tenant added: a new ETag and its group.
    writeFileSync(
      join(folders.fragmentsDir, "amis-du-velo.office"),
      renderOfficeFragment("amis-du-velo", ["https://cloud.amisduvelo.org"]),
    );
    assemble();
    const changed = await fetch(url, { headers: { "If-None-Match": etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(aliasGroupsAsCoolwsdReads(await changed.text())?.groups.map((g) => g.host)).toEqual([
      "https://cloud.amisduvelo.org:443",
      "https://office.example.org:443",
    ]);
  });
});
