import { bucketAliasProblem, compareVersions, hostnameProblem, mailboxQuotaProblem } from "./names";
import type { Tenant } from "./tenant";

/** Offers sold by storage tier. */
export type TieredOffer = "website" | "nextcloud" | "video";

/** Offers that run an app of their own per tenant, at a version of the catalog (WordPress, Nextcloud, Paheko, Listmonk). */
export type VersionedOffer = "website" | "nextcloud" | "accounting" | "newsletter";

/** The versions an offer may run, oldest first, and the one it runs without a pin. */
export interface OfferVersions {
  available: readonly string[];
  default: string;
}

/**
 * What the rules need of the catalog: its tiers, subscriber brackets and mail limits. The catalog
 * (infra/catalog/catalog.ts) is one; the contract does not depend on how it is read. A mail
 * allowance that is not a number is undecided and checks nothing.
 */
export interface ContractLimits {
  offers: Record<TieredOffer, { tiers: readonly { storageGb: number }[] }> & {
    newsletter: { brackets: readonly { subscribers: number }[] };
  } & Record<VersionedOffer, { versions: OfferVersions }>;
  mail: {
    maxMailboxGb: number;
    includedGbPerTenant: Record<"collective" | "individual", number | string>;
  };
}

export function tierSizes(limits: ContractLimits, offer: TieredOffer): number[] {
  return limits.offers[offer].tiers.map((t) => t.storageGb);
}

export function subscriberBrackets(limits: ContractLimits): number[] {
  return limits.offers.newsletter.brackets.map((b) => b.subscribers);
}

export type PathKey = string | number;

/** A problem found in one tenant file, located by its field path. */
export interface Issue {
  path: PathKey[];
  message: string;
  severity: "error" | "warning";
  /** Another field the message refers to (the first of a duplicate): located as "(line N)". */
  related?: PathKey[];
}

/** What the single-file rules need besides the tenant itself. */
export interface RuleContext {
  catalog: ContractLimits;
  /** The file name without `.yaml`: the slug must equal it. */
  fileStem: string;
  /** Domains of the platform's shared mail service (platform config). */
  sharedMailDomains: readonly string[];
  /** YYYY-MM-DD; a membership paid until before it is flagged. */
  today: string;
}

/**
 * Linux refuses a file name over 255 bytes (NAME_MAX): a mail domain's fragment file is
 * `<slug>--<domain>.mail` (components/tenant/mail-domain-config.ts mailFragmentPath).
 */
const FILE_NAME_MAX = 255;
const mailFragmentName = (slug: string, domain: string) => `${slug}--${domain}.mail`;

const error = (path: PathKey[], message: string): Issue => ({ path, message, severity: "error" });
const warning = (path: PathKey[], message: string): Issue => ({ path, message, severity: "warning" });

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out ? `.${key}` : key;
  return out || "(file)";
}

/** Reports every repeated value after its first occurrence, naming where it was first seen. */
function duplicates<T>(items: readonly T[], key: (item: T) => string, path: (index: number) => PathKey[], what: string): Issue[] {
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  items.forEach((item, index) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, index);
    else issues.push({ ...error(path(index), `duplicate ${what} "${k}", already at ${formatPath(path(first))}`), related: path(first) });
  });
  return issues;
}

function tierIssue(catalog: ContractLimits, offer: TieredOffer, storageGb: number, path: PathKey[]): Issue[] {
  const sizes = tierSizes(catalog, offer);
  return sizes.includes(storageGb)
    ? []
    : [error(path, `${storageGb} GB is not a ${offer} tier; the catalog offers ${sizes.map((s) => `${s}`).join(", ")} GB`)];
}

/** How messages name the app each versioned offer runs. */
const APP_OF: Record<VersionedOffer, string> = {
  website: "WordPress",
  nextcloud: "Nextcloud",
  accounting: "Paheko",
  newsletter: "Listmonk",
};

/**
 * A pin must be a version of the catalog; a pin other than the default is a warning, so ops see
 * which tenants lag behind (or run ahead). Nextcloud moves one major at a time
 * (https://docs.nextcloud.com/server/latest/admin_manual/maintenance/upgrade.html).
 */
function versionIssues(catalog: ContractLimits, offer: VersionedOffer, pin: string | undefined): Issue[] {
  if (pin === undefined) return [];
  const path: PathKey[] = ["services", offer, "version"];
  const { available, default: standard } = catalog.offers[offer].versions;
  const app = APP_OF[offer];
  if (!available.includes(pin)) {
    return [error(path, `${pin} is not a ${app} version of the catalog; it offers ${available.join(", ")} (default ${standard})`)];
  }
  if (pin === standard) return [];
  const side = compareVersions(pin, standard) < 0 ? "older than" : "newer than";
  const move =
    offer === "nextcloud" ? "move the pin one major at a time, then remove it" : "move the pin, or remove it, once the tenant is ready";
  return [warning(path, `pins ${app} ${pin}, ${side} the catalog's default ${standard}; ${move} (docs/operations.md, Updates)`)];
}

/** The hostnames a tenant's services answer on, with the field that declares each. */
export function serviceHostnames(tenant: Tenant): { hostname: string; path: PathKey[] }[] {
  const s = tenant.services;
  const out: { hostname: string; path: PathKey[] }[] = [];
  s.website?.domains.forEach((d, i) => out.push({ hostname: d, path: ["services", "website", "domains", i] }));
  if (s.nextcloud) out.push({ hostname: s.nextcloud.domain, path: ["services", "nextcloud", "domain"] });
  if (s.accounting) out.push({ hostname: s.accounting.domain, path: ["services", "accounting", "domain"] });
  // A Paheko newsletter with accounting runs on the accounting instance: no hostname of its own.
  if (s.newsletter?.domain && !(s.newsletter.engine === "paheko" && s.accounting)) {
    out.push({ hostname: s.newsletter.domain, path: ["services", "newsletter", "domain"] });
  }
  return out;
}

/** Every rule of docs/contract.md that one file can decide alone. */
export function tenantRules(tenant: Tenant, ctx: RuleContext): Issue[] {
  const { catalog } = ctx;
  const issues: Issue[] = [];
  const memberNames = new Set(tenant.members.map((m) => m.username));
  const notMember = (username: string, path: PathKey[], role: string) => {
    if (!memberNames.has(username)) {
      issues.push(
        error(
          path,
          `${role} "${username}" is not a member of this tenant; add them under members or pick one of: ${[...memberNames].join(", ")}`,
        ),
      );
    }
  };

  if (tenant.slug !== ctx.fileStem) {
    issues.push(error(["slug"], `"${tenant.slug}" differs from the file name; the slug must equal the file name "${ctx.fileStem}"`));
  }
  if (tenant.solidarityPercent !== undefined && tenant.rate !== "solidarity") {
    issues.push(error(["solidarityPercent"], "applies only with rate: solidarity"));
  }
  if (tenant.membership?.paidUntil && tenant.membership.paidUntil < ctx.today) {
    issues.push(
      warning(
        ["membership", "paidUntil"],
        `membership was paid until ${tenant.membership.paidUntil}; the tenant is flagged, nothing is deleted`,
      ),
    );
  }

  // Members
  if (!tenant.members.some((m) => m.admin)) {
    issues.push(error(["members"], "needs at least one member with admin: true"));
  }
  issues.push(
    ...duplicates(
      tenant.members,
      (m) => m.username,
      (i) => ["members", i, "username"],
      "username",
    ),
  );
  issues.push(
    ...duplicates(
      tenant.members,
      (m) => m.email,
      (i) => ["members", i, "email"],
      "email",
    ),
  );
  tenant.members.forEach((m, i) =>
    issues.push(
      ...duplicates(
        m.access,
        (a) => a,
        (j) => ["members", i, "access", j],
        "access",
      ),
    ),
  );

  // Mail
  const domains = tenant.mail?.domains ?? [];
  const declared = new Set(domains.map((d) => d.domain));
  issues.push(
    ...duplicates(
      domains,
      (d) => d.domain,
      (i) => ["mail", "domains", i, "domain"],
      "mail domain",
    ),
  );
  domains.forEach((d, i) => {
    const file = mailFragmentName(tenant.slug, d.domain);
    if (Buffer.byteLength(file) > FILE_NAME_MAX) {
      issues.push(
        error(
          ["mail", "domains", i, "domain"],
          `is too long: its fragment file on the mail host, ${Buffer.byteLength(file)} bytes with the slug, would exceed the ${FILE_NAME_MAX} a file name may have`,
        ),
      );
    }
  });
  const addresses: { address: string; path: PathKey[] }[] = [];
  const placement = (address: string, domain: string, path: PathKey[]) => {
    const actual = domainOf(address);
    if (actual === domain) return;
    issues.push(
      error(
        path,
        declared.has(actual)
          ? `"${address}" belongs under the mail domain ${actual}, not ${domain}`
          : `"${address}" is outside the domains this tenant declares (${[...declared].join(", ")}); declare ${actual} under mail.domains first`,
      ),
    );
  };
  let mailboxGb = 0;
  domains.forEach((d, di) => {
    const base: PathKey[] = ["mail", "domains", di];
    d.mailboxes.forEach((box, mi) => {
      const path = [...base, "mailboxes", mi];
      placement(box.address, d.domain, [...path, "address"]);
      addresses.push({ address: box.address, path: [...path, "address"] });
      mailboxGb += box.quotaGb;
      const quota = mailboxQuotaProblem(box.quotaGb, catalog.mail.maxMailboxGb);
      if (quota) issues.push(error([...path, "quotaGb"], quota));
      if (box.owner !== undefined) notMember(box.owner, [...path, "owner"], "owner");
      box.sharedWith.forEach((u, si) => notMember(u, [...path, "sharedWith", si], "sharer"));
      issues.push(
        ...duplicates(
          box.sharedWith,
          (u) => u,
          (si) => [...path, "sharedWith", si],
          "sharer",
        ),
      );
    });
    d.redirections.forEach((r, ri) => {
      const path = [...base, "redirections", ri];
      placement(r.from, d.domain, [...path, "from"]);
      addresses.push({ address: r.from, path: [...path, "from"] });
      issues.push(
        ...duplicates(
          r.to,
          (a) => a,
          (ti) => [...path, "to", ti],
          "target",
        ),
      );
      r.to.forEach((target, ti) => {
        if (target === r.from) issues.push(error([...path, "to", ti], `redirects "${r.from}" to itself: a redirection loop`));
      });
    });
  });
  issues.push(
    ...duplicates(
      addresses,
      (a) => a.address,
      (i) => addresses[i]!.path,
      "address",
    ),
  );
  const allowance = catalog.mail.includedGbPerTenant[tenant.type];
  if (typeof allowance === "number" && mailboxGb > allowance) {
    issues.push(warning(["mail"], `mailboxes total ${mailboxGb} GB, beyond the ${allowance} GB included in the membership`));
  }

  // Services
  const s = tenant.services;
  if (s.website) {
    issues.push(...tierIssue(catalog, "website", s.website.storageGb, ["services", "website", "storageGb"]));
    if (s.website.engine === "static" && s.website.version !== undefined) {
      issues.push(
        error(
          ["services", "website", "version"],
          "a static site runs no app of its own, so it has no version; remove it (engine: wordpress has one)",
        ),
      );
    } else {
      issues.push(...versionIssues(catalog, "website", s.website.version));
    }
    if (s.website.engine === "static") {
      s.website.domains.forEach((d, i) => {
        const bad = hostnameProblem(d) ? undefined : bucketAliasProblem(d);
        if (bad) issues.push(error(["services", "website", "domains", i], bad));
      });
    }
    issues.push(
      ...duplicates(
        s.website.domains,
        (d) => d,
        (i) => ["services", "website", "domains", i],
        "domain",
      ),
    );
  }
  if (s.nextcloud) {
    issues.push(...tierIssue(catalog, "nextcloud", s.nextcloud.storageGb, ["services", "nextcloud", "storageGb"]));
    issues.push(...versionIssues(catalog, "nextcloud", s.nextcloud.version));
    issues.push(
      ...duplicates(
        s.nextcloud.apps,
        (a) => a,
        (i) => ["services", "nextcloud", "apps", i],
        "app",
      ),
    );
  }
  if (s.video) {
    issues.push(...tierIssue(catalog, "video", s.video.storageGb, ["services", "video", "storageGb"]));
    if (s.video.owner !== undefined) notMember(s.video.owner, ["services", "video", "owner"], "video owner");
  }
  if (s.accounting) issues.push(...versionIssues(catalog, "accounting", s.accounting.version));
  if (s.newsletter) {
    const n = s.newsletter;
    if (n.engine === "paheko" && n.version !== undefined) {
      issues.push(
        error(
          ["services", "newsletter", "version"],
          s.accounting
            ? "with engine: paheko the newsletter runs on the tenant's one Paheko, whose version is services.accounting.version: it has none of its own; remove it"
            : "with engine: paheko the newsletter runs on the tenant's one Paheko, at the catalog's default Paheko version: it has none of its own; remove it",
        ),
      );
    } else {
      issues.push(...versionIssues(catalog, "newsletter", n.version));
    }
    const brackets = subscriberBrackets(catalog);
    if (!brackets.includes(n.subscribers)) {
      issues.push(
        error(
          ["services", "newsletter", "subscribers"],
          `${n.subscribers} is not a subscriber bracket; the catalog offers ${brackets.join(", ")}`,
        ),
      );
    }
    if (n.engine === "paheko" && n.tracking) {
      issues.push(error(["services", "newsletter", "tracking"], "engagement tracking exists only with engine: listmonk"));
    }
    if (!n.domain && n.engine === "listmonk") {
      issues.push(error(["services", "newsletter", "domain"], "is required with engine: listmonk"));
    }
    if (!n.domain && n.engine === "paheko" && !s.accounting) {
      issues.push(error(["services", "newsletter", "domain"], "is required with engine: paheko when there is no accounting"));
    }
    if (n.domain && n.engine === "paheko" && s.accounting && n.domain !== s.accounting.domain) {
      issues.push(
        error(
          ["services", "newsletter", "domain"],
          `a Paheko newsletter runs on the tenant's one Paheko, at ${s.accounting.domain}; remove this domain`,
        ),
      );
    }
  }
  const hostnames = serviceHostnames(tenant);
  issues.push(
    ...duplicates(
      hostnames,
      (h) => h.hostname,
      (i) => hostnames[i]!.path,
      "hostname",
    ),
  );
  for (const h of hostnames) {
    if (ctx.sharedMailDomains.includes(h.hostname)) {
      issues.push(error(h.path, `${h.hostname} is a shared mail domain of the platform; it cannot serve a tenant's site`));
    }
  }
  return issues;
}
