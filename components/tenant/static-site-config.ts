import { bucketAliasProblem, hostnameProblem, slugProblem, storageSizeProblem } from "../../infra/contract/names";
import { gbToBytes } from "../units";

export interface StaticSitePlan {
  /** S3 bucket name, from the slug only (a change of domain or tier is an update). @example "site-acme" */
  bucketName: string;
  /** Garage bucket quota `maxSize` in bytes (GB = 2^30 bytes). */
  quotaBytes: number;
  /** Name of the Garage key allowed to read and write the bucket (upload key). */
  keyName: string;
  /** Lower-cased, de-duplicated, sorted domains: one Garage global alias and one proxy router each. */
  domains: string[];
  /** File name stem of the proxy route fragment. */
  routeName: string;
  /** Public URLs of the site. */
  urls: string[];
}

/**
 * Pure: names, quota and domains of a tenant's static site.
 * @throws Error on an invalid slug or domain, no domain, or a storage size that is not a positive whole number of GB.
 */
export function staticSitePlan(slug: string, domains: readonly string[], storageGb: number): StaticSitePlan {
  // The contract's rules (infra/contract/names.ts): never stricter or looser than validate.
  const badSlug = slugProblem(slug);
  if (badSlug) throw new Error(`invalid tenant slug "${slug}": ${badSlug}`);
  const badSize = storageSizeProblem(storageGb);
  if (badSize) throw new Error(`static site ${slug}: storageGb ${badSize}`);
  const normalized = [...new Set(domains.map((d) => d.trim().toLowerCase()))].sort();
  if (normalized.length === 0) throw new Error(`static site ${slug}: at least one domain is needed`);
  for (const d of normalized) {
    const bad = hostnameProblem(d) ?? bucketAliasProblem(d);
    if (bad) throw new Error(`static site ${slug}: invalid domain "${d}": ${bad}`);
  }
  return {
    bucketName: `site-${slug}`,
    quotaBytes: gbToBytes(storageGb),
    keyName: `site-${slug}`,
    domains: normalized,
    routeName: `${slug}-website`,
    urls: normalized.map((d) => `https://${d}/`),
  };
}

/** Default address of Garage's admin API as seen from the storage host. */
export const GARAGE_ADMIN_URL = "http://127.0.0.1:3903";

/** The site's website documents (Garage's website settings: an index and an error document, nothing else). */
export const WEBSITE_DOCUMENTS = { indexDocument: "index.html", errorDocument: "404.html" } as const;

/**
 * Pure: the POSIX shell script run on the storage host that makes a site through Garage's admin
 * API v2 (docs/services/garage.md "Admin API v2"), idempotently, so it runs on create and again on
 * every update:
 * - the bucket `bucketName`, found by its global alias or made with it (`CreateBucket
 *   {globalAlias}`: through the admin API, as S3's CreateBucket would give it only a local alias
 *   under the creating key, which `GetBucketInfo?globalAlias=` never finds);
 * - its website settings (index and error documents) and its quota `maxSize = quotaBytes` in
 *   bytes (Garage reads `200G` as decimal GB: never a size string), no object count limit;
 * - the upload key `keyName` (made once, then found again by its exact name) with read and write,
 *   not owner, on this bucket only;
 * - one global alias per domain (the web endpoint picks the bucket from the Host header); the
 *   aliases of domains no longer listed are removed, the bucket's own name stays.
 * It deletes nothing else, ever: the bucket and its files outlive the offer (decommission).
 *
 * The admin token is read from the first line of standard input and handed to curl through a
 * mode-0600 header file, so it is never in an argument list or the environment. Standard output is
 * one JSON line `{"bucketId","accessKeyId","secretAccessKey"}` (a secret). Needs `curl` and `jq`
 * on the host. Every value interpolated here comes from {@link staticSitePlan} (checked names and
 * domains), never from free text.
 */
export function garageSiteScript(plan: StaticSitePlan, adminUrl: string = GARAGE_ADMIN_URL): string {
  const api = adminUrl.replace(/\/+$/, "");
  const domains = plan.domains.join(" ");
  const website = JSON.stringify({
    websiteAccess: { enabled: true, ...WEBSITE_DOCUMENTS },
    quotas: { maxSize: plan.quotaBytes, maxObjects: null },
  });
  return `set -eu
IFS= read -r TOKEN
umask 077
HDR=$(mktemp)
BODY=$(mktemp)
trap 'rm -f "$HDR" "$BODY"' EXIT
printf 'Authorization: Bearer %s\\nContent-Type: application/json\\n' "$TOKEN" > "$HDR"
unset TOKEN
# Garage's reason for a refusal goes to stderr (the body of a 4xx), never its answers, which may hold a key.
api() { curl -sS --fail-with-body -H @"$HDR" -o "$BODY" "$@" || { echo "Garage admin API: $(cat "$BODY")" >&2; return 1; }; cat "$BODY"; }
API='${api}'
BUCKET='${plan.bucketName}'
KEY_NAME='${plan.keyName}'
DOMAINS='${domains}'
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -H @"$HDR" "$API/v2/GetBucketInfo?globalAlias=$BUCKET")
case "$STATUS" in
  200) BUCKET_ID=$(jq -er '.id' "$BODY") ;;
  404) BUCKET_ID=$(api -X POST "$API/v2/CreateBucket" --data "$(jq -cn --arg a "$BUCKET" '{globalAlias: $a}')" | jq -er '.id') ;;
  *) echo "GetBucketInfo $BUCKET: HTTP $STATUS: $(cat "$BODY")" >&2; exit 1 ;;
esac
api -X POST "$API/v2/UpdateBucket?id=$BUCKET_ID" --data '${website}' > /dev/null
KEY_ID=$(api "$API/v2/ListKeys" | jq -r --arg n "$KEY_NAME" '[.[] | select(.name == $n) | .id] | first // empty')
if [ -z "$KEY_ID" ]; then
  KEY_ID=$(api -X POST "$API/v2/CreateKey" --data "$(jq -cn --arg n "$KEY_NAME" '{name: $n}')" | jq -er '.accessKeyId')
fi
api -X POST "$API/v2/AllowBucketKey" --data "$(jq -cn --arg b "$BUCKET_ID" --arg k "$KEY_ID" \\
  '{bucketId: $b, accessKeyId: $k, permissions: {read: true, write: true, owner: false}}')" > /dev/null
CURRENT=$(api "$API/v2/GetBucketInfo?id=$BUCKET_ID" | jq -r '.globalAliases[]')
for d in $DOMAINS; do
  if ! printf '%s\\n' "$CURRENT" | grep -qxF "$d"; then
    api -X POST "$API/v2/AddBucketAlias" --data "$(jq -cn --arg b "$BUCKET_ID" --arg a "$d" '{bucketId: $b, globalAlias: $a}')" > /dev/null
  fi
done
for a in $CURRENT; do
  [ "$a" = "$BUCKET" ] && continue
  case " $DOMAINS " in *" $a "*) continue ;; esac
  api -X POST "$API/v2/RemoveBucketAlias" --data "$(jq -cn --arg b "$BUCKET_ID" --arg a "$a" '{bucketId: $b, globalAlias: $a}')" > /dev/null
done
api "$API/v2/GetKeyInfo?id=$KEY_ID&showSecretKey=true" | jq -ce --arg b "$BUCKET_ID" '{bucketId: $b, accessKeyId, secretAccessKey}'
`;
}

/** Parses the script's standard output; empty strings while unknown (preview, mocks). */
export function parseUploadKey(stdout: string | undefined): { accessKeyId: string; secretAccessKey: string } {
  try {
    const parsed = JSON.parse(stdout ?? "") as { accessKeyId?: unknown; secretAccessKey?: unknown };
    return {
      accessKeyId: typeof parsed.accessKeyId === "string" ? parsed.accessKeyId : "",
      secretAccessKey: typeof parsed.secretAccessKey === "string" ? parsed.secretAccessKey : "",
    };
  } catch {
    return { accessKeyId: "", secretAccessKey: "" };
  }
}
