/**
 * The backup job of every host under Pulumi's mocks: one container per host on its own provider,
 * the repository's secrets as secrets only, the retention on one host, the notices on one.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const h1 = { name: "h1", address: "h1.infra.example.org", user: "deploy" };
const h2 = { name: "h2", address: "h2.infra.example.org", user: "deploy" };
const RESTIC_PASSWORD = "restic-password-value";
const S3_SECRET = "s3-secret-value";
const SMTP_PASSWORD = "smtp-password-value";
const GARAGE_TOKEN = "garage-admin-token-value";

describe("Backups under mocks", () => {
  let mod: typeof import("../../components/platform/backups");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/platform/backups.js");
  });

  const settings = {
    repository: "s3:https://s3.backup.example.net/alacarte",
    password: pulumi.secret(RESTIC_PASSWORD),
    s3: { accessKeyId: pulumi.secret("key-id"), secretAccessKey: pulumi.secret(S3_SECRET) },
    schedule: "17 2 * * *",
    pruneSchedule: "40 5 * * 0",
    pruneHost: "h2",
    retention: { daily: 7, weekly: 5, monthly: 12 },
  };

  async function build() {
    mocks.reset();
    const providers = [h1, h2].map((host) => ({
      host,
      provider: new docker.Provider(`docker-${host.name}`, { host: `ssh://deploy@${host.address}` }),
    }));
    new mod.Backups("platform-backups", {
      ...settings,
      hosts: providers,
      notices: {
        host: "h1",
        prometheusUrl: "http://platform-monitoring-prometheus:9090",
        network: "platform-monitoring",
        smtp: {
          url: "smtp://mail.example.org:587",
          starttls: true,
          username: "noreply@example.org",
          password: pulumi.secret(SMTP_PASSWORD),
        },
      },
      objectStore: {
        host: "h2",
        network: "platform-proxy",
        adminUrl: "http://platform-storage-garage:3903",
        s3Url: "http://platform-storage-garage:3900",
        region: "garage",
        adminToken: pulumi.secret(GARAGE_TOKEN),
      },
    });
    await mocks.settle();
    const container = (host: string) => mocks.one("docker:index/container:Container", `platform-backups-${host}-container`);
    const env = (host: string) =>
      Object.fromEntries(
        (options.plain(container(host).inputs.envs) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      );
    return { container, env };
  }

  it("runs one job per host, on that host's engine, with the host's Docker volumes and its fragments folder read-only", async () => {
    const { container, env } = await build();
    for (const host of ["h1", "h2"]) {
      expect(container(host).inputs.name).toBe(`platform-backups-${host}`);
      expect(env(host)).toMatchObject({
        BACKUP_HOST: host,
        RESTIC_REPOSITORY: settings.repository,
        BACKUP_SCHEDULE: "17 2 * * *",
        KEEP_DAILY: "7",
      });
      expect(options.plain(container(host).inputs.volumes)).toEqual(
        expect.arrayContaining([
          { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: false },
          { hostPath: "/var/lib/docker/volumes", containerPath: "/var/lib/docker/volumes", readOnly: false },
          { hostPath: "/srv/alacarte/backup.d", containerPath: "/srv/alacarte/backup.d", readOnly: true },
          // Where decommission.sh leaves the exports and the retention records purge.sh reads and moves.
          { hostPath: "/srv/alacarte/exports", containerPath: "/srv/alacarte/exports", readOnly: false },
          { hostPath: "/srv/alacarte/retained.d", containerPath: "/srv/alacarte/retained.d", readOnly: false },
        ]),
      );
      expect(env(host)).toMatchObject({ EXPORTS_DIR: "/srv/alacarte/exports", RETAINED_DIR: "/srv/alacarte/retained.d" });
    }
  });

  it("gives the purge of the object store's host Garage's admin and S3 APIs on Garage's network, its token as a secret only", async () => {
    const { container, env } = await build();
    expect(env("h2")).toMatchObject({
      GARAGE_ADMIN_URL: "http://platform-storage-garage:3903",
      GARAGE_S3_URL: "http://platform-storage-garage:3900",
      GARAGE_S3_REGION: "garage",
      GARAGE_ADMIN_TOKEN: GARAGE_TOKEN,
    });
    expect(env("h1").GARAGE_ADMIN_URL).toBeUndefined();
    expect(env("h1").GARAGE_ADMIN_TOKEN).toBeUndefined();
    expect(options.plain(container("h2").inputs.networksAdvanced)).toEqual([{ name: "platform-proxy" }]);
    const service = mocks.one("alacarte:block:ContainerService", "platform-backups-h2");
    expect(service.inputs.secretEnvKeys).toContain("GARAGE_ADMIN_TOKEN");
    expect(service.inputs.envKeys).not.toContain("GARAGE_ADMIN_TOKEN");
  });

  it("prunes from the prune host only, and sends the notices from the notices host only, on the monitoring network", async () => {
    const { container, env } = await build();
    expect(env("h2")).toMatchObject({ PRUNE: "true", PRUNE_SCHEDULE: "40 5 * * 0" });
    expect(env("h1").PRUNE).toBeUndefined();
    expect(env("h1")).toMatchObject({
      NOTICES_SCHEDULE: "0 8 * * *",
      PROMETHEUS_URL: "http://platform-monitoring-prometheus:9090",
      SMTP_STARTTLS: "true",
    });
    expect(env("h2").NOTICES_SCHEDULE).toBeUndefined();
    expect(options.plain(container("h1").inputs.networksAdvanced)).toEqual([{ name: "platform-monitoring" }]);
    expect(options.plain(container("h2").inputs.networksAdvanced)).toEqual([{ name: "platform-proxy" }]);
  });

  it("gives the repository's password, the S3 keys and the SMTP password as secrets only", async () => {
    const { container } = await build();
    for (const host of ["h1", "h2"]) {
      // A secret variable makes the whole list a secret (container-service.ts buildEnvs): nothing of it in clear.
      expect(options.isSecretInput(container(host).inputs.envs)).toBe(true);
      expect(options.plain(container(host).inputs.envs)).toEqual(
        expect.arrayContaining([`RESTIC_PASSWORD=${RESTIC_PASSWORD}`, `AWS_SECRET_ACCESS_KEY=${S3_SECRET}`]),
      );
    }
    expect(options.plain(container("h1").inputs.envs)).toContain(`SMTP_PASSWORD=${SMTP_PASSWORD}`);
    // And each is declared a secret variable, which the policy pack's no-plaintext-secrets reads.
    const service = mocks.one("alacarte:block:ContainerService", "platform-backups-h1");
    expect(service.inputs.secretEnvKeys).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "RESTIC_PASSWORD", "SMTP_PASSWORD"]);
    expect(service.inputs.envKeys).not.toEqual(expect.arrayContaining(["RESTIC_PASSWORD"]));
  });

  it("refuses a repository address that holds credentials, and a prune host it does not run on", () => {
    expect(() => mod.backupEnv({ ...settings, repository: "rest:https://ops:secret@backup.example.net/" }, "h1")).toThrow(
      "must not hold credentials",
    );
    expect(() => new mod.Backups("b", { ...settings, pruneHost: "h9", hosts: [] })).toThrow('pruneHost "h9" is not one of the hosts');
  });
});
