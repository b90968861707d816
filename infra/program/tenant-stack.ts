import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_MAIL_FRAGMENTS_DIR, mailHostname } from "../../components/platform/mail-server";
import { MailDomain, mailDnsTargets } from "../../components/tenant/mail-domain";
import { loadCatalog } from "../catalog/catalog";
import { displayName, formatProblem, loadTenantText, locateIssues } from "../contract/load";
import { tenantRules } from "../contract/rules";
import { todayUtc } from "../contract/validate";
import { validatedTenant } from "../contract/validated-tenants";
import { expandTenant, offerFields, type TenantPlan } from "../model/expand";
import { platformStackReference } from "../model/naming";
import { isBuilt } from "../model/offers";
import { placedHost, readPlatformConfig, TENANTS_DIR, type PlatformConfig } from "../model/platform-config";
import { noticeFragment, noticePath, noticeSender } from "../model/tenant-notices";
import { HostFile } from "../../components/blocks/host-file";
import type { Tenant } from "../contract/tenant";
import { buildOffer } from "./offer-builders";
import { hostConnections, type PlatformReference } from "./platform-stack";
import { StackInventory } from "./stack-inventory";
import { TenantContext } from "./tenant-context";

/** What the notices need of a tenant file besides its expansion. */
type NoticeFields = Pick<Tenant, "name" | "contact" | "membership">;

/** A tenant file that does not pass: the stack stops before creating anything, with the validate messages. */
function loadTenantPlan(env: string, slug: string, config: PlatformConfig): { plan: TenantPlan; tenant: NoticeFields } {
  const file = path.join(TENANTS_DIR, `${slug}.yaml`);
  if (!fs.existsSync(file)) throw new pulumi.RunError(`${displayName(file)}: no tenant file for stack ${env}.${slug}`);
  const bytes = fs.readFileSync(file);
  const catalog = loadCatalog();
  const expansion = { catalog, sharedMailDomains: config.sharedMailDomains, tenantHostSuffix: config.tenantHostSuffix };
  const validated = validatedTenant(file, bytes);
  if (validated) {
    for (const warning of validated.warnings) pulumi.log.warn(warning);
    return { plan: expandTenant(validated.tenant, expansion), tenant: validated.tenant };
  }
  const loaded = loadTenantText(displayName(file), bytes);
  const problems = loaded.tenant
    ? locateIssues(
        loaded.tenant,
        tenantRules(loaded.tenant.tenant, {
          catalog,
          fileStem: slug,
          sharedMailDomains: config.sharedMailDomains,
          today: todayUtc(),
        }),
      )
    : loaded.problems;
  const errors = problems.filter((p) => p.severity === "error");
  for (const p of problems) if (p.severity === "warning") pulumi.log.warn(formatProblem(p));
  if (!loaded.tenant || errors.length) throw new pulumi.RunError(errors.map(formatProblem).join("\n"));
  return { plan: expandTenant(loaded.tenant.tenant, expansion), tenant: loaded.tenant.tenant };
}

/**
 * The stack of one tenant: its identity, its mail domains, and each offer through the builder map
 * (infra/program/offer-builders.ts), on the context every offer shares.
 */
export function buildTenantStack(env: string, slug: string): Record<string, unknown> {
  // The platform's settings file is plain data in the repository: hosts and shared domains are known
  // without waiting on the platform stack; what the platform generates arrives through the reference.
  const config = readPlatformConfig(env);
  const { plan, tenant } = loadTenantPlan(env, slug, config);
  const hosts = hostConnections(config);
  // Before any resource: it sees each as it is registered, and credits it to its offer (`<slug>-<offer>…`).
  const inventory = new StackInventory((type, name) =>
    type.startsWith("alacarte:tenant:") && name.startsWith(`${slug}-`) ? name.slice(slug.length + 1).split("-")[0] : undefined,
  );
  const platformRef = new pulumi.StackReference("platform", {
    name: platformStackReference(pulumi.getOrganization(), pulumi.getProject(), env),
  });
  const ctx = new TenantContext({
    env,
    slug,
    config,
    plan,
    hosts,
    platform: platformRef.requireOutput("platform") as pulumi.Output<PlatformReference["platform"]>,
    secrets: platformRef.requireOutput("platformSecrets") as pulumi.Output<PlatformReference["platformSecrets"]>,
  });
  const outputs: Record<string, unknown> = { tenant: slug, groupId: ctx.identity.groupId };

  const mailHost = ctx.host("mail");
  // A custom domain's well-known names go to the platform's service, through the proxy every route uses.
  const wellKnown = {
    upstream: ctx.platform.mail.wellKnownUpstream,
    proxy: ctx.proxy,
    tlsReportAddress: mailDnsTargets(config.baseDomain, config.publicIp).tlsReportAddress,
  };
  const dkim: Record<string, unknown> = {};
  outputs.mailDns = Object.fromEntries(
    plan.mailDomains.map((d) => {
      const domain = new MailDomain(`${slug}-mail-${d.domain}`, {
        slug,
        domain: d.domain,
        shared: d.shared,
        mailboxes: d.mailboxes,
        redirections: d.redirections,
        mail: { host: mailHost, fragmentsDir: DEFAULT_MAIL_FRAGMENTS_DIR, hostname: mailHostname(config.baseDomain) },
        wellKnown,
      });
      if (!d.shared) dkim[d.domain] = domain.dkimRecord;
      return [d.domain, domain.dnsRecords];
    }),
  );
  // Known once applied: each custom domain's key is made on the mail host (docs/services/mail.md "DKIM").
  outputs.mailDkim = dkim;

  for (const offer of plan.offers) {
    if (!isBuilt(offer.kind)) {
      for (const field of offerFields(offer)) {
        pulumi.log.warn(`services.${field}: the ${offer.kind} offer is not built yet; nothing is created for it`);
      }
      continue;
    }
    outputs[offer.field] = buildOffer(ctx, offer);
  }
  // The tenant's own backup fragment on each host holding its data (docs/services/backups.md).
  inventory.backupSets(slug, hosts, { mail: config.placement.mail, storage: config.placement.storage });
  // On the monitoring host: what its offers answer, and what the notices tell its contact (docs/services/notices.md).
  const monitoringHost = hosts[placedHost(config, "monitoring")]!;
  inventory.probeFile(monitoringHost, slug);
  new HostFile(`${slug}-notices`, {
    host: monitoringHost,
    path: noticePath(slug),
    content: noticeFragment(
      {
        slug,
        name: tenant.name,
        contact: tenant.contact,
        ...(tenant.membership?.paidUntil ? { paidUntil: tenant.membership.paidUntil } : {}),
      },
      noticeSender(config),
    ),
    mode: "0644",
  });
  return outputs;
}
