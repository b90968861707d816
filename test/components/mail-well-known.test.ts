import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const proxyHost = { name: "h1", address: "h1.infra.example.org", user: "deploy" };

describe("platformWellKnownHostnames", () => {
  it("routes the mail server's own name even with no shared domain, and each shared domain's three names", async () => {
    const { platformWellKnownHostnames } = await import("../../components/platform/mail-well-known.js");
    expect(platformWellKnownHostnames("mail.example.org", [])).toEqual(["mail.example.org"]);
    // The mail server elsewhere: its name is not routed to the proxy.
    expect(platformWellKnownHostnames(undefined, ["a.org"])).toEqual(["autoconfig.a.org", "autodiscover.a.org", "mta-sts.a.org"]);
    expect(platformWellKnownHostnames("mail.example.org", ["b.org", "a.org", "b.org"])).toEqual([
      "mail.example.org",
      "autoconfig.a.org",
      "autodiscover.a.org",
      "mta-sts.a.org",
      "autoconfig.b.org",
      "autodiscover.b.org",
      "mta-sts.b.org",
    ]);
  });
});

describe("MailWellKnown under mocks", () => {
  let mod: typeof import("../../components/platform/mail-well-known");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/platform/mail-well-known.js");
  });

  async function build(args: Partial<import("../../components/platform/mail-well-known").MailWellKnownArgs> = {}) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const service = new mod.MailWellKnown(
      "wk",
      { host: proxyHost, network: "proxy", mailHostname: "mail.example.org", sharedDomains: ["membres.example.org"], ...args },
      { transformations: [rec.transformation] },
    );
    const upstream = await mocks.promiseOf(service.upstream);
    await mocks.settle();
    return { service, upstream, rec };
  }

  it("writes the nginx configuration on the proxy host and reloads nginx after each write", async () => {
    await build();
    const write = mocks.one("command:remote:Command", "wk-config-write");
    expect(options.plain(write.inputs.connection)).toMatchObject({ host: "h1.infra.example.org", user: "deploy" });
    expect(options.plain(write.inputs.stdin)).toBe(mod.wellKnownNginxConf({ mailHostname: "mail.example.org" }));
    expect(write.inputs.create).toContain("'/srv/alacarte/mail-well-known/nginx.conf'");
    expect(write.inputs.create).toContain("docker kill -s HUP 'wk-nginx'");
  });

  it("runs the pinned nginx image with the configuration folder read-only, routed by labels", async () => {
    const { upstream } = await build();
    expect(upstream).toBe("http://wk-nginx:8080");
    expect(mocks.one("docker:index/remoteImage:RemoteImage", "wk-nginx-image").inputs.name).toBe(mod.NGINX_IMAGE);
    expect(mod.NGINX_IMAGE).toMatch(/^nginx:\d+\.\d+\.\d+$/);
    const container = mocks.one("docker:index/container:Container", "wk-nginx-container");
    expect(options.plain(container.inputs.command)).toEqual(["nginx", "-c", "/etc/alacarte/well-known/nginx.conf"]);
    expect(options.plain(container.inputs.volumes)).toEqual([
      { hostPath: "/srv/alacarte/mail-well-known", containerPath: "/etc/alacarte/well-known", readOnly: true },
    ]);
    expect(options.plain(container.inputs.networksAdvanced)).toEqual([{ name: "proxy" }]);
    const labels = Object.fromEntries(
      (options.plain(container.inputs.labels) as { label: string; value: string }[]).map((l) => [l.label, l.value]),
    );
    expect(labels["traefik.http.routers.wk-nginx-0.rule"]).toBe(
      "Host(`mail.example.org`) || Host(`autoconfig.membres.example.org`) || Host(`autodiscover.membres.example.org`) || Host(`mta-sts.membres.example.org`)",
    );
    expect(labels["traefik.http.routers.wk-nginx-0.tls.certresolver"]).toBe("le");
    expect(labels["traefik.http.services.wk-nginx-0.loadbalancer.server.port"]).toBe("8080");
  });

  it("is five resources whatever the number of shared domains, all under the component", async () => {
    const signature = () => mocks.registered();
    const { service, rec } = await build({ sharedDomains: [] });
    const none = signature();
    await build({ sharedDomains: Array.from({ length: 50 }, (_, i) => `d${i}.example.org`) });
    expect(signature()).toEqual(none);
    expect(none).toEqual([
      "alacarte:block:ContainerService wk-nginx",
      "alacarte:platform:MailWellKnown wk",
      "command:remote:Command wk-config-write",
      "docker:index/container:Container wk-nginx-container",
      "docker:index/remoteImage:RemoteImage wk-nginx-image",
    ]);
    expect(service.hostnames).toEqual(["mail.example.org"]);
    expect(rec.seen.find((r) => r.name === "wk-config-write")!.opts.parent).toBeDefined();
  });

  it("serves the testing mode when asked", async () => {
    await build({ mode: "testing" });
    expect(options.plain(mocks.one("command:remote:Command", "wk-config-write").inputs.stdin)).toContain("mode: testing\\r\\n");
  });
});
