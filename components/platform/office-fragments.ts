/**
 * Pure, no Pulumi import: the contract between a tenant's OfficeAccess, which writes one fragment
 * file per tenant naming the Nextcloud hosts allowed to use the office server, and the office
 * host's assemble script, which joins every fragment into the remote configuration coolwsd polls
 * (docs/services/office.md "Allowed hosts"). Both sides import it, neither imports the other.
 */
import * as path from "node:path";
import { hostnameProblem } from "../../infra/contract/names";
import { shellQuote } from "../blocks/shell";

/** Suffix of a fragment file: `<fragmentsDir>/<slug>.office`. */
export const OFFICE_FRAGMENT_SUFFIX = ".office";

/** The platform's own fragment (`~` is never in a slug, and sorts last). */
export const PLATFORM_OFFICE_FRAGMENT = `~platform${OFFICE_FRAGMENT_SUFFIX}`;

/** Folder of the office server's files on its host. */
export const DEFAULT_OFFICE_DIR = "/srv/alacarte/office";

/**
 * Path of the assembled remote configuration on the office server's public hostname. coolwsd
 * fetches it over HTTPS only (wsd/RemoteConfig.cpp RemoteJSONPoll::start: "Remote config url should
 * only use HTTPS protocol" outside debug builds), so it goes through the reverse proxy.
 */
export const REMOTE_CONFIG_PATH = "/alacarte/wopi-hosts.json";

/** The folders of the office host the assemble script reads and writes. */
export interface OfficeFolders {
  /** Tenant fragments. @example "/srv/alacarte/office/fragments" */
  fragmentsDir: string;
  /** Root of what the configuration server serves, mounted read-only. @example "/srv/alacarte/office/public" */
  publicDir: string;
  /** The assembled file, under publicDir at {@link REMOTE_CONFIG_PATH}. */
  configFile: string;
}

/** Pure: the folders under the office folder. @throws Error on a relative folder. */
export function officeFolders(officeDir: string = DEFAULT_OFFICE_DIR): OfficeFolders {
  const dir = path.posix.normalize(officeDir).replace(/\/+$/, "");
  if (!dir.startsWith("/")) throw new Error(`the office folder must be absolute, got "${officeDir}"`);
  const publicDir = `${dir}/public`;
  return { fragmentsDir: `${dir}/fragments`, publicDir, configFile: `${publicDir}${REMOTE_CONFIG_PATH}` };
}

/** An origin as coolwsd's alias groups write it: `https://<host>:<port>` (coolwsd.xml.in: "scheme://hostname:port"). */
const ORIGIN = "https://[a-z0-9.-]+:[0-9]{1,5}";

/**
 * The one JSON line of a fragment, as an extended regular expression (grep -E -x): a group object
 * of `storage.wopi.alias_groups.groups` as RemoteConfigPoll::fetchAliasGroups reads it (wsd/RemoteConfig.cpp:
 * `host`, `allow`, `aliases`). Hostnames hold no quote or backslash, so a matching line is valid JSON.
 */
export const OFFICE_GROUP_PATTERN = `^\\{"host":"${ORIGIN}","allow":true,"aliases":\\[("${ORIGIN}"(,"${ORIGIN}")*)?\\]\\}$`;

/**
 * Pure: the origin coolwsd compares with a WOPI source's authority: https only (the platform's
 * routes all have TLS), the port written out.
 * @example wopiOrigin("https://cloud.amisduvelo.org") → "https://cloud.amisduvelo.org:443"
 * @throws Error naming the URL when it is not an https URL of a hostname, or has a path.
 */
export function wopiOrigin(url: string): string {
  const match = /^https:\/\/([^/:?#]+)(?::(\d{1,5}))?\/?$/.exec(url);
  if (!match) throw new Error(`office access: "${url}" must be an https URL of a hostname, with no path`);
  const host = match[1]!;
  const problem = hostnameProblem(host);
  if (problem) throw new Error(`office access: "${url}": ${problem}`);
  const port = match[2] === undefined ? 443 : Number(match[2]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`office access: "${url}" has an invalid port`);
  return `https://${host}:${port}`;
}

/**
 * Pure: the alias group of one Nextcloud, its names in order: the first is the group's host, the
 * others its aliases (one instance under several names shares its documents' sessions,
 * coolwsd.xml.in alias_groups). Repeats are dropped.
 * @throws Error when there is no host, or one is malformed.
 */
export function officeGroup(wopiHosts: readonly string[]): { host: string; allow: true; aliases: string[] } {
  const origins = [...new Set(wopiHosts.map(wopiOrigin))];
  if (origins.length === 0) throw new Error("office access: at least one WOPI host is needed");
  const [host, ...aliases] = origins;
  return { host: host!, allow: true, aliases };
}

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Pure: where a tenant's fragment lives. @throws Error on a name that is not a slug. */
export function officeFragmentPath(fragmentsDir: string, name: string): string {
  if (!SLUG.test(name)) throw new Error(`office access: the fragment's name "${name}" must be a tenant slug`);
  return `${fragmentsDir.replace(/\/+$/, "")}/${name}${OFFICE_FRAGMENT_SUFFIX}`;
}

/** Pure: the text of a fragment: a comment, then one JSON line matching {@link OFFICE_GROUP_PATTERN}. */
export function renderOfficeFragment(owner: string, wopiHosts: readonly string[]): string {
  const line = JSON.stringify(officeGroup(wopiHosts));
  if (!new RegExp(OFFICE_GROUP_PATTERN).test(line)) throw new Error(`office access: the group of "${owner}" is not one the host accepts`);
  return `# Managed by alacarte: the office server's allowed hosts of ${owner}. The next deployment overwrites it.\n${line}\n`;
}

/** The remote configuration's start and end around the groups (wsd/RemoteConfig.cpp: `kind` "configuration", `storage.wopi.alias_groups`). */
const CONFIG_HEAD = '{"kind":"configuration","storage":{"wopi":{"alias_groups":{"mode":"groups","groups":[';
const CONFIG_TAIL = "]}}}}";

/**
 * Pure: the JSON the assemble script writes from the fragments' group lines, for the tests and the
 * docs: the same bytes the script prints.
 */
export function remoteConfigJson(groupLines: readonly string[]): string {
  return `${CONFIG_HEAD}${groupLines.join(",")}${CONFIG_TAIL}\n`;
}

/**
 * Pure: the shell script (POSIX sh, grep) that rebuilds the remote configuration from every
 * fragment, run as each fragment HostFile's `afterWrite`. Under an flock (so concurrent tenant
 * stacks cannot drop each other's group), it reads `<fragmentsDir>/*.office` in byte order
 * (LC_ALL=C; hidden files, such as a HostFile's write in progress, are skipped), keeps the lines
 * matching {@link OFFICE_GROUP_PATTERN}, names on stderr any other line that is not a comment,
 * and renames the new file into place only when it differs: an unchanged file keeps its ETag, so
 * coolwsd's next poll gets a 304 and changes nothing (RemoteJSONPoll sends If-None-Match).
 */
export function assembleOfficeCommand(folders: OfficeFolders): string {
  const frag = shellQuote(folders.fragmentsDir);
  const out = shellQuote(folders.configFile);
  const outDir = shellQuote(path.posix.dirname(folders.configFile));
  const tmp = shellQuote(`${path.posix.dirname(folders.configFile)}/.${path.posix.basename(folders.configFile)}.alacarte-tmp`);
  return [
    "set -eu",
    "export LC_ALL=C",
    "umask 022",
    `mkdir -p ${frag} ${outDir}`,
    `exec 9>${frag}/.assemble.lock`,
    "flock 9",
    `pattern=${shellQuote(OFFICE_GROUP_PATTERN)}`,
    `tmp=${tmp}`,
    "{",
    `  printf '%s' ${shellQuote(CONFIG_HEAD)}`,
    "  sep=''",
    `  for f in ${frag}/*${OFFICE_FRAGMENT_SUFFIX}; do`,
    '    [ -f "$f" ] || continue',
    '    while IFS= read -r line || [ -n "$line" ]; do',
    '      case "$line" in "#"*|"") continue ;; esac',
    '      if printf \'%s\\n\' "$line" | grep -Eqx -e "$pattern"; then',
    '        printf \'%s%s\' "$sep" "$line"',
    "        sep=','",
    "      else",
    "        printf 'office assemble: %s: skipped a line that is no alias group\\n' \"$f\" >&2",
    "      fi",
    '    done < "$f"',
    "  done",
    `  printf '%s\\n' ${shellQuote(CONFIG_TAIL)}`,
    '} > "$tmp"',
    `chmod 0644 "$tmp"`,
    `if [ -f ${out} ] && cmp -s "$tmp" ${out}; then rm -f "$tmp"; else mv -f "$tmp" ${out}; fi`,
  ].join("\n");
}
