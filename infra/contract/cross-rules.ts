import { serviceHostnames, type PathKey } from "./rules";
import type { LoadedTenant, Problem } from "./load";

interface Claim {
  owner: LoadedTenant;
  path: PathKey[];
}

function where(claim: Claim): string {
  const pos = claim.owner.locate(claim.path);
  return `${claim.owner.file}:${pos.line}`;
}

function problemAt(claim: Claim, message: string): Problem {
  const pos = claim.owner.locate(claim.path);
  let field = "";
  for (const key of claim.path) field += typeof key === "number" ? `[${key}]` : field ? `.${key}` : key;
  return { file: claim.owner.file, line: pos.line, col: pos.col, field, message, severity: "error" };
}

/**
 * A value that must belong to one tenant: every claim by a tenant other than the first
 * claimant is reported, in both files, each naming the other file and line.
 */
function exclusive(claims: Map<string, Claim[]>, what: string): Problem[] {
  const problems: Problem[] = [];
  for (const [value, list] of claims) {
    if (list.length < 2) continue;
    const owners = new Set(list.map((c) => c.owner.file));
    if (owners.size < 2) continue;
    for (const claim of list) {
      const other = list.find((c) => c.owner.file !== claim.owner.file)!;
      problems.push(
        problemAt(
          claim,
          `${what} "${value}" is also claimed by ${other.owner.tenant.slug} at ${where(other)}; it can belong to one tenant only`,
        ),
      );
    }
  }
  return problems;
}

function add(map: Map<string, Claim[]>, key: string, claim: Claim) {
  const list = map.get(key);
  if (list) list.push(claim);
  else map.set(key, [claim]);
}

/** Rules that need every tenant file at once (docs/contract.md: claims, accounts, redirection loops). */
export function crossFileRules(tenants: readonly LoadedTenant[], sharedMailDomains: readonly string[]): Problem[] {
  const shared = new Set(sharedMailDomains);
  const domains = new Map<string, Claim[]>();
  const addresses = new Map<string, Claim[]>();
  const channels = new Map<string, Claim[]>();
  const emailsByUsername = new Map<string, Claim[]>();
  const usernamesByEmail = new Map<string, Claim[]>();
  const redirections = new Map<string, { targets: string[]; claim: Claim }>();

  for (const owner of tenants) {
    const t = owner.tenant;
    t.members.forEach((m, i) => {
      add(emailsByUsername, m.username, { owner, path: ["members", i, "email"] });
      add(usernamesByEmail, m.email, { owner, path: ["members", i, "username"] });
    });
    t.mail?.domains.forEach((d, di) => {
      if (!shared.has(d.domain)) add(domains, d.domain, { owner, path: ["mail", "domains", di, "domain"] });
      d.mailboxes.forEach((b, bi) => add(addresses, b.address, { owner, path: ["mail", "domains", di, "mailboxes", bi, "address"] }));
      d.redirections.forEach((r, ri) => {
        const claim = { owner, path: ["mail", "domains", di, "redirections", ri, "from"] };
        add(addresses, r.from, claim);
        redirections.set(r.from, { targets: r.to, claim });
      });
    });
    // A tenant may use its own mail domain as its website's hostname: count each domain once per tenant.
    const own = new Set(t.mail?.domains.map((d) => d.domain) ?? []);
    for (const h of serviceHostnames(t)) if (!own.has(h.hostname)) add(domains, h.hostname, { owner, path: h.path });
    if (t.services.video) add(channels, t.services.video.channel, { owner, path: ["services", "video", "channel"] });
  }

  const problems = [...exclusive(domains, "domain"), ...exclusive(addresses, "address"), ...exclusive(channels, "video channel")];

  // One account per person: the same username carries the same email everywhere, and back.
  // Reported in every file involved, like the claims: `validate <file>` shows only the files given.
  for (const [username, claims] of emailsByUsername) {
    if (claims.length < 2) continue;
    const emailOf = (claim: Claim) => claim.owner.tenant.members[claim.path[1] as number]!.email;
    if (new Set(claims.map(emailOf)).size < 2) continue;
    for (const claim of claims) {
      // Within one file, a repeated username is the single-file rules' duplicate.
      const other = claims.find((c) => c.owner.file !== claim.owner.file && emailOf(c) !== emailOf(claim));
      if (other)
        problems.push(
          problemAt(
            claim,
            `username "${username}" has email ${emailOf(claim)} here but ${emailOf(other)} at ${where(other)}; one person has one email everywhere`,
          ),
        );
    }
  }
  for (const [email, claims] of usernamesByEmail) {
    if (claims.length < 2) continue;
    const names = new Set(claims.map((c) => valueOfUsername(c)));
    if (names.size < 2) continue;
    for (const claim of claims) {
      const other = claims.find((c) => valueOfUsername(c) !== valueOfUsername(claim))!;
      problems.push(
        problemAt(
          claim,
          `email ${email} belongs to username "${valueOfUsername(other)}" at ${where(other)}; one email cannot belong to two usernames`,
        ),
      );
    }
  }

  // A redirection loop: following redirections from an address comes back to it.
  const reported = new Set<string>();
  for (const [start, { targets }] of redirections) {
    // Most redirections lead straight out of the graph: no search, no allocation.
    if (!targets.some((t) => t !== start && redirections.has(t))) continue;
    const cycle = findCycle(start, redirections);
    if (!cycle) continue;
    const key = [...cycle].sort().join(" ");
    if (reported.has(key)) continue;
    reported.add(key);
    // Reported once in every file the loop passes through, so validating any one of them shows it.
    const files = new Set<string>();
    for (const address of cycle) {
      const claim = redirections.get(address)!.claim;
      if (files.has(claim.owner.file)) continue;
      files.add(claim.owner.file);
      const from = cycle.indexOf(address);
      const loop = [...cycle.slice(from), ...cycle.slice(0, from), address];
      problems.push(problemAt(claim, `redirection loop: ${loop.join(" → ")}`));
    }
  }
  return problems;
}

function valueOfUsername(claim: Claim): string {
  return claim.owner.tenant.members[claim.path[1] as number]!.username;
}

/** The cycle reachable from `start` that passes through `start`, if any (depth-first, iterative). */
function findCycle(start: string, graph: Map<string, { targets: string[] }>): string[] | undefined {
  const stack: { node: string; next: number }[] = [{ node: start, next: 0 }];
  const onPath = new Set([start]);
  const visited = new Set<string>();
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const targets = graph.get(top.node)?.targets ?? [];
    if (top.next >= targets.length) {
      stack.pop();
      onPath.delete(top.node);
      visited.add(top.node);
      continue;
    }
    const target = targets[top.next++]!;
    if (target === start && stack.length > 1) return stack.map((s) => s.node);
    if (target === start) continue; // a self-redirection is reported by the single-file rules
    if (onPath.has(target) || visited.has(target) || !graph.has(target)) continue;
    onPath.add(target);
    stack.push({ node: target, next: 0 });
  }
  return undefined;
}
