/**
 * Pure, no Pulumi import: what the mail's well-known web service answers (the MTA-STS policy,
 * Thunderbird's autoconfig file, Outlook's autodiscover answer) and the nginx configuration that
 * serves them (docs/services/mail.md "MTA-STS and client autoconfiguration").
 */
import { createHash } from "node:crypto";
import { hostnameProblem } from "../../infra/contract/names";

/** How long a sender may cache the policy: one week, as RFC 8461 §3.2 suggests ("weeks or greater"). */
export const MTA_STS_MAX_AGE_SECONDS = 604_800;

/** `enforce`: refuse to deliver over a connection that fails TLS or names another MX; `testing`: deliver and report (RFC 8461 §5). */
export type MtaStsMode = "enforce" | "testing";

/** The mode the platform publishes (docs/services/mail.md: why enforce, how to go back to testing). */
export const MTA_STS_MODE: MtaStsMode = "enforce";

/** Port nginx listens on inside its container; only Traefik reaches it, on the proxy network. */
export const WELL_KNOWN_PORT = 8080;

/** The paths served, for any Host routed to the service. */
export const WELL_KNOWN_PATHS = {
  /** RFC 8461 §3.2. */
  mtaSts: "/.well-known/mta-sts.txt",
  /** Thunderbird looks up both (https://wiki.mozilla.org/Thunderbird:Autoconfiguration). */
  autoconfig: ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"],
  /** Outlook's POX autodiscover ([MS-OXDSCLI] §3.1.5). */
  autodiscover: "/autodiscover/autodiscover.xml",
} as const;

function checkedHostname(hostname: string, what: string): string {
  const h = hostname.trim().toLowerCase();
  const bad = hostnameProblem(h);
  if (bad) throw new Error(`${what} "${hostname}" is not a hostname: ${bad}`);
  return h;
}

/**
 * Pure: the MTA-STS policy (RFC 8461 §3.2): one MX, the mail server's name. Each line ends in CRLF,
 * as the policy's ABNF says (`sts-policy-term = ... CRLF`).
 */
export function mtaStsPolicy(mailHostname: string, mode: MtaStsMode = MTA_STS_MODE): string {
  const mx = checkedHostname(mailHostname, "MTA-STS mx");
  return ["version: STSv1", `mode: ${mode}`, `mx: ${mx}`, `max_age: ${MTA_STS_MAX_AGE_SECONDS}`].map((l) => `${l}\r\n`).join("");
}

/**
 * Pure: the `id` of the `_mta-sts` TXT record: the first 20 hex digits of the policy's SHA-256.
 * RFC 8461 §3.1: 1 to 32 letters or digits, changed whenever the policy changes, so senders fetch
 * the new one; a hash changes exactly then, and is the same on every run.
 */
export function mtaStsPolicyId(policy: string): string {
  return createHash("sha256").update(policy).digest("hex").slice(0, 20);
}

function xmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Pure: Thunderbird's autoconfig file (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat):
 * IMAP on 993 over TLS, submission on 465 over TLS and 587 with STARTTLS, the login being the
 * whole address (`%EMAILADDRESS%`, docs/services/mail.md "Signing in to mail"), the password sent
 * inside TLS (`password-cleartext`). One file for every domain: the format's `<domain>` lists the
 * domains a file of Mozilla's ISPDB covers; a file fetched from `autoconfig.<domain>` is the
 * domain's own, so the `emailProvider` id and `<domain>` name the mail server.
 */
export function thunderbirdAutoconfig(mailHostname: string): string {
  const host = xmlText(checkedHostname(mailHostname, "autoconfig hostname"));
  const server = (tag: "incomingServer" | "outgoingServer", type: string, port: number, socketType: string) => [
    `    <${tag} type="${type}">`,
    `      <hostname>${host}</hostname>`,
    `      <port>${port}</port>`,
    `      <socketType>${socketType}</socketType>`,
    "      <authentication>password-cleartext</authentication>",
    "      <username>%EMAILADDRESS%</username>",
    `    </${tag}>`,
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${host}">`,
    `    <domain>${host}</domain>`,
    `    <displayName>${host}</displayName>`,
    `    <displayShortName>${host}</displayShortName>`,
    ...server("incomingServer", "imap", 993, "SSL"),
    ...server("outgoingServer", "smtp", 465, "SSL"),
    ...server("outgoingServer", "smtp", 587, "STARTTLS"),
    "  </emailProvider>",
    "</clientConfig>",
    "",
  ].join("\n");
}

/**
 * Pure: Outlook's POX autodiscover answer, the "outlook" response schema
 * (`…/outlook/responseschema/2006a` inside `…/responseschema/2006`, [MS-OXDSCLI] §2.2.4 and
 * learn.microsoft.com "POX Autodiscover XML elements for Exchange", element Protocol): IMAP on
 * 993 and SMTP on 465, both over TLS (`SSL on`), password sign-in (`SPA off`). No `LoginName`:
 * the client then signs in with the address it was given, which is the login here.
 */
export function outlookAutodiscover(mailHostname: string): string {
  const host = xmlText(checkedHostname(mailHostname, "autodiscover hostname"));
  const protocol = (type: string, port: number) => [
    "      <Protocol>",
    `        <Type>${type}</Type>`,
    `        <Server>${host}</Server>`,
    `        <Port>${port}</Port>`,
    "        <DomainRequired>off</DomainRequired>",
    "        <SPA>off</SPA>",
    "        <SSL>on</SSL>",
    "        <AuthRequired>on</AuthRequired>",
    "      </Protocol>",
  ];
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">',
    "    <Account>",
    "      <AccountType>email</AccountType>",
    "      <Action>settings</Action>",
    ...protocol("IMAP", 993),
    ...protocol("SMTP", 465),
    "    </Account>",
    "  </Response>",
    "</Autodiscover>",
    "",
  ].join("\n");
}

/** One document the service answers: its paths, media type and body. */
export interface WellKnownDocument {
  paths: readonly string[];
  contentType: string;
  body: string;
}

/** Pure: every document served, for the mail server's name. */
export function wellKnownDocuments(mailHostname: string, mode: MtaStsMode = MTA_STS_MODE): WellKnownDocument[] {
  return [
    // RFC 8461 §3.3: the policy is served as text/plain.
    { paths: [WELL_KNOWN_PATHS.mtaSts], contentType: "text/plain", body: mtaStsPolicy(mailHostname, mode) },
    { paths: WELL_KNOWN_PATHS.autoconfig, contentType: "application/xml", body: thunderbirdAutoconfig(mailHostname) },
    { paths: [WELL_KNOWN_PATHS.autodiscover], contentType: "application/xml", body: outlookAutodiscover(mailHostname) },
  ];
}

/**
 * Pure: a string as an nginx double-quoted parameter. nginx's parser reads `\"`, `\\`, `\r`, `\n`
 * and `\t` inside quotes (src/core/ngx_conf_file.c, ngx_conf_read_token); `$` starts a variable
 * in `return`'s text and has no escape, so it is refused.
 * @throws Error on a `$`.
 */
export function nginxQuoted(text: string): string {
  if (text.includes("$")) throw new Error("nginx cannot return a literal $ in a text: none may appear in a well-known document");
  const escaped = text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r/g, "\\r").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
  return `"${escaped}"`;
}

export interface WellKnownNginxOptions {
  /** The mail server's name. @example "mail.example.org" */
  mailHostname: string;
  /** Port to listen on. @default 8080 */
  port?: number;
  /** Address to listen on. @default every address ("*") */
  listenAddress?: string;
  /** Writable folder of the pid file and the temporary files; it must exist (nginx makes only the folders inside). @default "/tmp" */
  runDir?: string;
  /** @default "enforce" */
  mode?: MtaStsMode;
}

/**
 * Pure: the whole nginx configuration: each document answered by `return 200` from the
 * configuration itself, so one file is all the service needs and a POST (Outlook's autodiscover)
 * is answered like a GET (nginx's static files answer a POST with 405); anything else is a 404.
 * `daemon off` keeps nginx in the foreground, as a container's process; logs go to the container's
 * output. The documents are generic: the same for every Host routed here.
 * @throws Error on a bad hostname, port or folder.
 */
export function wellKnownNginxConf(options: WellKnownNginxOptions): string {
  const port = options.port ?? WELL_KNOWN_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`well-known service: invalid port ${port}`);
  const runDir = (options.runDir ?? "/tmp").replace(/\/+$/, "");
  if (!/^\/[A-Za-z0-9._/-]*$/.test(runDir)) throw new Error(`well-known service: runDir must be an absolute path, got "${runDir}"`);
  const listen = options.listenAddress ? `${options.listenAddress}:${port}` : String(port);
  if (!/^[0-9.:*a-z[\]]+$/.test(listen)) throw new Error(`well-known service: invalid listen address "${listen}"`);
  const locations = wellKnownDocuments(options.mailHostname, options.mode).flatMap((doc) =>
    doc.paths.map((p) =>
      [`    location = ${p} {`, `      default_type ${doc.contentType};`, `      return 200 ${nginxQuoted(doc.body)};`, "    }"].join("\n"),
    ),
  );
  return [
    "# Managed by alacarte (MailWellKnown). Do not edit: the next deployment overwrites it.",
    "daemon off;",
    "worker_processes 1;",
    `pid ${runDir}/nginx.pid;`,
    "error_log stderr warn;",
    "events {",
    "  worker_connections 256;",
    "}",
    "http {",
    "  access_log /dev/stdout;",
    "  server_tokens off;",
    `  client_body_temp_path ${runDir}/client_body;`,
    `  proxy_temp_path ${runDir}/proxy;`,
    `  fastcgi_temp_path ${runDir}/fastcgi;`,
    `  uwsgi_temp_path ${runDir}/uwsgi;`,
    `  scgi_temp_path ${runDir}/scgi;`,
    // An autodiscover request is a few hundred bytes of XML; nothing bigger is read.
    "  client_max_body_size 16k;",
    "  server {",
    `    listen ${listen} default_server;`,
    "    server_name _;",
    ...locations,
    "    location / {",
    "      return 404;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Pure: the three HTTPS names of a mail domain that reach the service. */
export function wellKnownHostnames(domain: string): string[] {
  const d = checkedHostname(domain, "mail domain");
  return [`autoconfig.${d}`, `autodiscover.${d}`, `mta-sts.${d}`];
}

/**
 * Pure: the route name of a tenant's custom mail domain, `<slug>-mail-<domain's labels>-<6 hex>`:
 * a route name is kebab-case, and the hash of the domain keeps apart two domains whose labels
 * read the same (`a-b.org`, `a.b.org`) and punycode's `--`.
 */
export function wellKnownRouteName(slug: string, domain: string): string {
  const d = checkedHostname(domain, "mail domain");
  const labels = d.replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${slug}-mail-${labels}-${createHash("sha256").update(d).digest("hex").slice(0, 6)}`;
}
