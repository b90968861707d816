/**
 * The stacks' inventory under Pulumi's mocks: each stack writes its own backup fragment on each
 * host holding its data, its own probe file and (a tenant) its notices, derived from what its
 * components declare; nothing of another stack's.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseNoticeFragment } from "../../infra/model/tenant-notices";
import { PLATFORM_CONFIG_SECRETS, readPlatformConfig, readStackConfig, stackFile } from "../../infra/model/platform-config";
import { plain } from "../helpers/options";
import * as mocks from "../helpers/mocks";
import { platformReference } from "../helpers/platform-outputs";

const config = readPlatformConfig("prod");
let program: typeof import("../../infra/program/program");

beforeAll(async () => {
  mocks.installMocks();
  program = await import("../../infra/program/program.js");
});

/** The files a stack writes on its hosts: HostFile commands by name, their host and content. */
async function hostFiles(stack: string): Promise<Map<string, { host: string; content: string }>> {
  const ref = platformReference(config);
  mocks.installMocks({
    stack,
    calls: {
      "keycloak:openid/getClient:getClient": () => ({ id: "rm-uuid", clientId: "realm-management" }),
      "keycloak:index/getRole:getRole": (inputs) => ({ id: `${inputs.name}-uuid`, name: inputs.name }),
    },
    state: (type, name) =>
      type === "pulumi:pulumi:StackReference"
        ? { outputs: { platform: ref.platform, platformSecrets: ref.platformSecrets } }
        : type === "command:remote:Command" && name.endsWith("-bootstrap")
          ? { stdout: `Key ID: GK00112233445566778899aabb\nSecret key: ${"ef".repeat(32)}\n` }
          : undefined,
  });
  // The platform stack reads its settings file's config, as Pulumi hands it over (strings), and its config secrets.
  const settings = stack.includes(".") ? {} : readStackConfig(stackFile("prod"));
  const strings = Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [`alacarte:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  const secrets = PLATFORM_CONFIG_SECRETS.map((k) => `alacarte:${k}`);
  pulumi.runtime.setAllConfig({ ...strings, ...Object.fromEntries(secrets.map((k) => [k, "set-by-ops"])) }, secrets);
  await pulumi.runtime.runInPulumiStack(async () => program.buildStack(stack));
  for (let i = 0; i < 20; i++) await mocks.settle();
  const files = new Map<string, { host: string; content: string }>();
  for (const r of mocks.byType("command:remote:Command")) {
    if (typeof r.inputs.stdin !== "string" || !r.name.endsWith("-write")) continue;
    files.set(r.name.replace(/-write$/, ""), { host: plain(r.inputs.connection).host, content: r.inputs.stdin });
  }
  return files;
}

const lines = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("#"));
const address = (host: string) => config.hosts[host]!.address;

describe("a tenant stack's own fragments", () => {
  it("saves its mailboxes on the mail host and its site's bucket on the storage host, probes its site, and gives its contact's notices", async () => {
    const files = await hostFiles("prod.jardins-partages");
    const backups = [...files].filter(([name]) => name.startsWith("jardins-partages-backup-"));
    expect(backups.map(([name, f]) => [name, f.host]).sort()).toEqual(
      [
        [`jardins-partages-backup-${config.placement.mail}`, address(config.placement.mail)],
        [`jardins-partages-backup-${config.placement.storage}`, address(config.placement.storage)],
      ].sort(),
    );
    const mail = lines(files.get(`jardins-partages-backup-${config.placement.mail}`)!.content);
    expect(mail).toEqual(expect.arrayContaining(["mailbox mail contact@jardins-partages.fr", "mailbox mail farid@jardins-partages.fr"]));
    expect(lines(files.get(`jardins-partages-backup-${config.placement.storage}`)!.content)).toContain(
      "bucket website site-jardins-partages",
    );
    // Nothing of the platform's or another tenant's.
    for (const [, f] of backups) expect(f.content).not.toMatch(/platform-|amis-du-velo|mailstore/);

    const probes = JSON.parse(files.get("jardins-partages-probes")!.content) as { targets: string[]; labels: Record<string, string> }[];
    expect(files.get("jardins-partages-probes")!.host).toBe(address(config.placement.proxy));
    expect(probes.flatMap((g) => g.targets)).toContain("https://jardins-partages.fr/");
    // Its mail domain's well-known names serve their own documents only: their certificates are watched.
    expect(probes.flatMap((g) => g.targets)).toContain("mta-sts.jardins-partages.fr:443");
    expect(probes.flatMap((g) => g.targets)).not.toContain("https://mta-sts.jardins-partages.fr/");
    expect(probes.every((g) => g.labels.tenant === "jardins-partages")).toBe(true);
    expect(probes.find((g) => g.targets.includes("https://jardins-partages.fr/"))!.labels.service).toBe("website");

    const notice = parseNoticeFragment(files.get("jardins-partages-notices")!.content);
    expect(notice).toMatchObject({ slug: "jardins-partages", from: config.smtp!.from });
    expect(notice.quota_message).toBeDefined();
  });
});

describe("the platform stack's own fragments", () => {
  it("dumps Keycloak's database, saves the volumes it keeps with the webmail stopped for its SQLite file, names its mail store, and probes its services", async () => {
    const files = await hostFiles("prod");
    const onProxy = lines(files.get(`platform-backup-${config.placement.proxy}`)!.content);
    expect(onProxy).toEqual(
      expect.arrayContaining([
        "database keycloak postgres platform-keycloak-db-server keycloak",
        expect.stringMatching(/^volume reverse-proxy platform-proxy-traefik-letsencrypt \d+ -$/),
        expect.stringMatching(/^volume webmail platform-webmail-roundcube-db \d+ platform-webmail-roundcube$/),
      ]),
    );
    // Database servers' files are saved by their dumps, never copied live; caches and the TSDB not at all.
    expect(onProxy.join("\n")).not.toMatch(/keycloak-db-server-data|prometheus-data|backups-.*-(staging|cache)/);
    const onMail = lines(files.get(`platform-backup-${config.placement.mail}`)!.content);
    expect(onMail).toContainEqual(
      expect.stringMatching(/^mailstore mail platform-mail-mailserver-data platform-mail-mailserver \/var\/mail$/),
    );
    expect(onMail).toContainEqual(expect.stringMatching(/^volume mail-server platform-mail-mailserver-data \d+ -$/));

    const probes = JSON.parse(files.get("platform-probes")!.content) as { targets: string[]; labels: Record<string, string> }[];
    const targets = probes.flatMap((g) => g.targets);
    expect(targets).toEqual(
      expect.arrayContaining([
        `https://sso.${config.baseDomain}/realms/alacarte/.well-known/openid-configuration`,
        `https://webmail.${config.baseDomain}/`,
        `https://office.${config.baseDomain}/hosting/discovery`,
        `s3.${config.baseDomain}:443`,
        `mail.${config.baseDomain}:993`,
      ]),
    );
    expect(probes.some((g) => "tenant" in g.labels)).toBe(false);
    // The office server's config route is not probed: the assembled list answers internal clients only.
    expect(targets.filter((t) => t.includes("wopi-hosts"))).toEqual([]);
    // It keeps no data: nothing of it is in any backup fragment.
    for (const [name, file] of files) if (name.startsWith("platform-backup-")) expect(file.content).not.toMatch(/office/);
  });
});
