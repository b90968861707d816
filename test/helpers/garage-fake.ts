/**
 * An in-process fake of Garage (dxflrs/garage v2.x) for the static site's tests: its admin API v2,
 * its S3 API (path-style) and its web endpoint, each on its own 127.0.0.1 listener, with the
 * state in memory. It follows the rules of Garage's own source; every rule names the file it comes
 * from. Source read: deuxfleurs-org/garage branch `main-v2` at f04af181 (tag v2.0.0 plus
 * documentation and OpenAPI fixes); the public mirror holds no v2.1.0 tag, so a change between
 * 2.0.0 and 2.1.0 is not reflected here. Paths below are relative to that tree.
 *
 * What it does not emulate (answered 501 NotImplemented or simply absent, never accepted silently):
 * multipart uploads, CopyObject, ListObjects v1, presigned URLs, virtual-host-style
 * S3 requests, bucket website/CORS/lifecycle over S3, admin tokens other than the global one,
 * cluster and layout calls, key expiration, CORS, routing rules and redirects of the web endpoint.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isIP } from "node:net";
import { crc32 } from "node:zlib";

export interface GarageFakeOptions {
  /** `[admin] admin_token` of garage.toml. */
  adminToken: string;
  /** Top-level `allow_punycode` of garage.toml (src/util/config.rs Config: `#[serde(default)]`, false). */
  allowPunycode?: boolean;
  /** `[s3_api] s3_region` (the scope every SigV4 signature must carry). @default "garage" */
  s3Region?: string;
  /** `[s3_web] root_domain`: a Host ending with it names the bucket by its prefix. @default ".web.garage.localhost" */
  webRootDomain?: string;
}

export interface BucketKeyPerm {
  read: boolean;
  write: boolean;
  owner: boolean;
}

export interface FakeObject {
  body: Buffer;
  /** MD5 of the body, hex (src/api/s3/put.rs: the etag of a single-part upload). */
  etag: string;
  /** Stored headers: content-type and the other standard ones, x-amz-meta-* (src/api/s3/put.rs extract_metadata_headers). */
  headers: Record<string, string>;
  lastModified: Date;
}

export interface FakeBucket {
  /** 32 random bytes, hex (src/model/bucket_table.rs Bucket::new, gen_uuid). */
  id: string;
  created: Date;
  /** Active global aliases, sorted (an LwwMap keeps its items sorted by name). */
  globalAliases: string[];
  /** Active local aliases: (access key id, alias). */
  localAliases: { accessKeyId: string; alias: string }[];
  /** Permissions by access key id (the bucket's `authorized_keys`; a denied key keeps an all-false entry). */
  authorizedKeys: Map<string, BucketKeyPerm>;
  /** `website_config`: present = website access enabled. */
  website: { indexDocument: string; errorDocument: string | null } | null;
  quotas: { maxSize: number | null; maxObjects: number | null };
  objects: Map<string, FakeObject>;
}

export interface FakeKey {
  /** `GK` + 12 random bytes hex (src/model/key_table.rs Key::new). */
  id: string;
  /** 32 random bytes hex. */
  secret: string;
  name: string;
  created: Date;
  allowCreateBucket: boolean;
  /** The key's namespace of local aliases: alias → bucket id. */
  localAliases: Map<string, string>;
}

export interface GarageState {
  buckets: Map<string, FakeBucket>;
  keys: Map<string, FakeKey>;
  /** Every admin call made, `METHOD /path?query`, in order (requests refused before routing included). */
  adminCalls: string[];
}

export interface GarageFake {
  adminUrl: string;
  s3Url: string;
  webUrl: string;
  /** `[s3_api] s3_region`. */
  region: string;
  /** `[s3_web] root_domain`. */
  webRootDomain: string;
  state: GarageState;
  stop(): Promise<void>;
}

/** The state as plain data, timestamps left out (creation dates, object dates), for before/after comparisons. */
export function snapshotState(state: GarageState): unknown {
  const buckets = [...state.buckets.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((b) => ({
      id: b.id,
      globalAliases: [...b.globalAliases],
      localAliases: [...b.localAliases].sort((x, y) => `${x.accessKeyId}/${x.alias}`.localeCompare(`${y.accessKeyId}/${y.alias}`)),
      authorizedKeys: Object.fromEntries([...b.authorizedKeys].sort(([x], [y]) => x.localeCompare(y))),
      website: b.website,
      quotas: b.quotas,
      objects: Object.fromEntries(
        [...b.objects]
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([k, o]) => [k, { size: o.body.length, etag: o.etag, headers: o.headers }]),
      ),
    }));
  const keys = [...state.keys.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((k) => ({
      id: k.id,
      secret: k.secret,
      name: k.name,
      allowCreateBucket: k.allowCreateBucket,
      localAliases: Object.fromEntries([...k.localAliases].sort(([x], [y]) => x.localeCompare(y))),
    }));
  return { buckets, keys };
}

/**
 * src/model/bucket_alias_table.rs is_valid_bucket_name: 3 to 63 bytes of `a-z 0-9 . -`, not
 * starting or ending with `-` or `.`, not an IP address, no `xn--` at the start nor after a dot
 * unless `allow_punycode`, not ending with `-s3alias`. Used for global and local aliases alike.
 */
export function isValidBucketName(n: string, allowPunycode: boolean): boolean {
  const len = Buffer.byteLength(n);
  return (
    len >= 3 &&
    len <= 63 &&
    /^[a-z0-9.-]*$/.test(n) &&
    !/^[-.]/.test(n) &&
    !/[-.]$/.test(n) &&
    isIP(n) === 0 &&
    (!n.startsWith("xn--") || allowPunycode) &&
    (!n.includes(".xn--") || allowPunycode) &&
    !n.endsWith("-s3alias")
  );
}

/** src/model/bucket_alias_table.rs INVALID_BUCKET_NAME_MESSAGE. */
const INVALID_BUCKET_NAME_MESSAGE =
  "Invalid bucket name. See AWS documentation for constraints on S3 bucket names:\nhttps://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html";

/**
 * An error of Garage's APIs: src/api/common/common_error.rs (CommonError: http_status_code and
 * aws_code), src/api/admin/error.rs (NoSuchAccessKey 404, KeyAlreadyExists 409), src/api/s3/error.rs
 * (NoSuchKey 404, AuthorizationHeaderMalformed 400, InvalidDigest 400, NotImplemented 501). The
 * message is the Rust Display of the variant ("Bad request: …", "Forbidden: …", "Bucket not found: …").
 */
class GarageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const badRequest = (m: string) => new GarageError(400, "InvalidRequest", `Bad request: ${m}`);
const forbidden = (m: string) => new GarageError(403, "AccessDenied", `Forbidden: ${m}`);
const noSuchBucket = (n: string) => new GarageError(404, "NoSuchBucket", `Bucket not found: ${n}`);
const invalidBucketName = (n: string) => new GarageError(400, "InvalidBucketName", `Invalid bucket name: ${n}`);
const noSuchAccessKey = (k: string) => new GarageError(404, "NoSuchAccessKey", `Access key not found: ${k}`);
const internal = (m: string) => new GarageError(500, "InternalError", `Internal error: ${m}`);
const notImplemented = (m: string) => new GarageError(501, "NotImplemented", `Not implemented: ${m}`);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startGarageFake(options: GarageFakeOptions): Promise<GarageFake> {
  const region = options.s3Region ?? "garage";
  const webRootDomain = options.webRootDomain ?? ".web.garage.localhost";
  const puny = options.allowPunycode ?? false;
  const state: GarageState = { buckets: new Map(), keys: new Map(), adminCalls: [] };

  // ---------------------------------------------------------------- helpers over the state

  /** src/model/helper/bucket.rs get_existing_bucket: an unknown (or deleted) id is NoSuchBucket (404). */
  const existingBucket = (id: string): FakeBucket => {
    const b = state.buckets.get(id);
    if (!b) throw noSuchBucket(id);
    return b;
  };
  /** src/model/helper/key.rs get_existing_key: an unknown (or deleted) key is NoSuchAccessKey (404). */
  const existingKey = (id: string): FakeKey => {
    const k = state.keys.get(id);
    if (!k) throw noSuchAccessKey(id);
    return k;
  };
  /** The global alias table (src/model/bucket_alias_table.rs): alias → bucket id. */
  const globalAliasTarget = (alias: string): string | undefined =>
    [...state.buckets.values()].find((b) => b.globalAliases.includes(alias))?.id;
  const addSorted = (list: string[], v: string) => {
    if (!list.includes(v)) {
      list.push(v);
      list.sort();
    }
  };
  /** src/api/admin/bucket.rs parse_bucket_id: hex of exactly 32 bytes, else 400 "Invalid bucket id". */
  const parseBucketId = (id: string): string => {
    if (!/^[0-9a-fA-F]{64}$/.test(id)) throw badRequest("Invalid bucket id");
    return id.toLowerCase();
  };
  const newBucket = (): FakeBucket => {
    const b: FakeBucket = {
      id: randomBytes(32).toString("hex"),
      created: new Date(),
      globalAliases: [],
      localAliases: [],
      authorizedKeys: new Map(),
      website: null,
      quotas: { maxSize: null, maxObjects: null },
      objects: new Map(),
    };
    state.buckets.set(b.id, b);
    return b;
  };

  /**
   * src/model/helper/locked.rs set_global_bucket_alias: invalid name → InvalidBucketName (400);
   * unknown bucket → 404; an alias pointing to another bucket → BadRequest (400, not 409);
   * the same alias on the same bucket again is accepted and changes nothing.
   */
  const setGlobalAlias = (bucketId: string, alias: string) => {
    if (!isValidBucketName(alias, puny)) throw invalidBucketName(alias);
    const b = existingBucket(bucketId);
    const target = globalAliasTarget(alias);
    if (target !== undefined && target !== bucketId) {
      throw badRequest(`Alias ${alias} already exists and points to different bucket: ${target}`);
    }
    addSorted(b.globalAliases, alias);
  };

  /**
   * src/model/helper/locked.rs unset_global_bucket_alias: an alias missing or pointing elsewhere is
   * an internal error (500); removing the bucket's last alias, global or local, is refused (400).
   */
  const unsetGlobalAlias = (bucketId: string, alias: string) => {
    const b = existingBucket(bucketId);
    if (globalAliasTarget(alias) !== bucketId) throw internal(`alias not found or does not point to bucket ${bucketId}`);
    const others = b.globalAliases.some((a) => a !== alias) || b.localAliases.length > 0;
    if (!others) throw badRequest(`Bucket ${alias} doesn't have other aliases, please delete it instead of just unaliasing.`);
    b.globalAliases = b.globalAliases.filter((a) => a !== alias);
  };

  /**
   * src/model/helper/locked.rs set_local_bucket_alias: invalid name → 400 InvalidBucketName;
   * unknown bucket or key → 404; the key's alias already pointing to another bucket → 400.
   */
  const setLocalAlias = (bucketId: string, keyId: string, alias: string) => {
    if (!isValidBucketName(alias, puny)) throw invalidBucketName(alias);
    const b = existingBucket(bucketId);
    const k = existingKey(keyId);
    const current = k.localAliases.get(alias);
    if (current !== undefined && current !== bucketId) {
      throw badRequest(`Alias ${alias} already exists in namespace of key ${keyId} and points to different bucket: ${current}`);
    }
    k.localAliases.set(alias, bucketId);
    if (!b.localAliases.some((l) => l.accessKeyId === keyId && l.alias === alias)) b.localAliases.push({ accessKeyId: keyId, alias });
  };

  /** src/model/helper/locked.rs unset_local_bucket_alias: not that key's alias of the bucket → 500; the last alias → 400. */
  const unsetLocalAlias = (bucketId: string, keyId: string, alias: string) => {
    const b = existingBucket(bucketId);
    const k = existingKey(keyId);
    if (k.localAliases.get(alias) !== bucketId) {
      throw internal(`Bucket ${bucketId} does not have alias ${alias} in namespace of key ${keyId}`);
    }
    const others = b.globalAliases.length > 0 || b.localAliases.some((l) => l.accessKeyId !== keyId || l.alias !== alias);
    if (!others) throw badRequest(`Bucket ${alias} doesn't have other aliases, please delete it instead of just unaliasing.`);
    k.localAliases.delete(alias);
    b.localAliases = b.localAliases.filter((l) => l.accessKeyId !== keyId || l.alias !== alias);
  };

  const permOf = (b: FakeBucket, keyId: string): BucketKeyPerm =>
    b.authorizedKeys.get(keyId) ?? { read: false, write: false, owner: false };

  /** src/api/admin/bucket.rs bucket_info_results (GetBucketInfoResponse in src/api/admin/api.rs). */
  const bucketInfo = (b: FakeBucket) => {
    // Keys with a permission entry (even all false) or a local alias on the bucket.
    const keyIds = new Set([...b.authorizedKeys.keys(), ...b.localAliases.map((l) => l.accessKeyId)]);
    const objects = [...b.objects.values()];
    return {
      id: b.id,
      created: b.created.toISOString(),
      globalAliases: [...b.globalAliases],
      websiteAccess: b.website !== null,
      websiteConfig: b.website ? { indexDocument: b.website.indexDocument, errorDocument: b.website.errorDocument } : null,
      keys: [...keyIds]
        .filter((id) => state.keys.has(id))
        .sort()
        .map((id) => ({
          accessKeyId: id,
          name: state.keys.get(id)!.name,
          permissions: permOf(b, id),
          bucketLocalAliases: b.localAliases.filter((l) => l.accessKeyId === id).map((l) => l.alias),
        })),
      objects: objects.length,
      bytes: objects.reduce((n, o) => n + o.body.length, 0),
      unfinishedUploads: 0,
      unfinishedMultipartUploads: 0,
      unfinishedMultipartUploadParts: 0,
      unfinishedMultipartUploadBytes: 0,
      quotas: { maxSize: b.quotas.maxSize, maxObjects: b.quotas.maxObjects },
    };
  };

  /** src/api/admin/key.rs key_info_results (GetKeyInfoResponse): the secret only when asked, omitted otherwise. */
  const keyInfo = (k: FakeKey, showSecret: boolean) => {
    const bucketIds = new Set<string>();
    for (const b of state.buckets.values()) if (b.authorizedKeys.has(k.id)) bucketIds.add(b.id);
    for (const id of k.localAliases.values()) bucketIds.add(id);
    return {
      accessKeyId: k.id,
      created: k.created.toISOString(),
      name: k.name,
      expiration: null,
      expired: false,
      ...(showSecret ? { secretAccessKey: k.secret } : {}),
      permissions: { createBucket: k.allowCreateBucket },
      buckets: [...bucketIds]
        .filter((id) => state.buckets.has(id))
        .sort()
        .map((id) => {
          const b = state.buckets.get(id)!;
          return {
            id,
            globalAliases: [...b.globalAliases],
            localAliases: b.localAliases.filter((l) => l.accessKeyId === k.id).map((l) => l.alias),
            permissions: permOf(b, k.id),
          };
        }),
    };
  };

  // ---------------------------------------------------------------- admin API v2

  type Json = Record<string, unknown>;
  /** Serde's checks of a request body (src/api/admin/api.rs structs; no deny_unknown_fields): a wrong type is "Invalid JSON" (400). */
  const invalidJson = (why: string) => badRequest(`Invalid JSON: ${why}`);
  const str = (o: Json, f: string, required: boolean): string | undefined => {
    const v = o[f];
    if (v === undefined || v === null) {
      if (required) throw invalidJson(`missing field \`${f}\``);
      return undefined;
    }
    if (typeof v !== "string") throw invalidJson(`invalid type for \`${f}\`, expected a string`);
    return v;
  };
  const bool = (o: Json, f: string, required: boolean): boolean => {
    const v = o[f];
    if (v === undefined || (v === null && !required)) {
      if (required) throw invalidJson(`missing field \`${f}\``);
      return false;
    }
    if (typeof v !== "boolean") throw invalidJson(`invalid type for \`${f}\`, expected a boolean`);
    return v;
  };
  const obj = (o: Json, f: string, required: boolean): Json | undefined => {
    const v = o[f];
    if (v === undefined || v === null) {
      if (required) throw invalidJson(`missing field \`${f}\``);
      return undefined;
    }
    if (typeof v !== "object" || Array.isArray(v)) throw invalidJson(`invalid type for \`${f}\`, expected a map`);
    return v as Json;
  };
  /** `Option<u64>`: null or absent is None; a negative, fractional or non-number value is refused. */
  const u64 = (o: Json, f: string): number | null => {
    const v = o[f];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw invalidJson(`invalid value for \`${f}\`, expected u64`);
    return v;
  };
  /** ApiBucketKeyPerm: each flag `#[serde(default)]` false. */
  const perm = (o: Json | undefined): BucketKeyPerm => ({
    read: o ? bool(o, "read", false) : false,
    write: o ? bool(o, "write", false) : false,
    owner: o ? bool(o, "owner", false) : false,
  });
  /** BucketAliasEnum (src/api/admin/api.rs): serde untagged, tried in order: Global {globalAlias}, then Local {localAlias, accessKeyId}. */
  const aliasOf = (o: Json): { global: string } | { local: string; accessKeyId: string } => {
    const g = str(o, "globalAlias", false);
    if (g !== undefined) return { global: g };
    const l = str(o, "localAlias", false);
    const k = str(o, "accessKeyId", false);
    if (l !== undefined && k !== undefined) return { local: l, accessKeyId: k };
    throw invalidJson("data did not match any variant of untagged enum BucketAliasEnum");
  };

  /**
   * src/api/admin/router_v2.rs: the call's name is the path (`/v2/<Name>`) with one method each;
   * `body` calls parse a JSON body, the others read the query (generateQueryParameters: `id`,
   * `search`, `globalAlias`, `showSecretKey`, …).
   */
  const routes: Record<string, { method: "GET" | "POST"; body: boolean }> = {
    ListBuckets: { method: "GET", body: false },
    GetBucketInfo: { method: "GET", body: false },
    CreateBucket: { method: "POST", body: true },
    UpdateBucket: { method: "POST", body: true },
    DeleteBucket: { method: "POST", body: false },
    AddBucketAlias: { method: "POST", body: true },
    RemoveBucketAlias: { method: "POST", body: true },
    AllowBucketKey: { method: "POST", body: true },
    DenyBucketKey: { method: "POST", body: true },
    ListKeys: { method: "GET", body: false },
    GetKeyInfo: { method: "GET", body: false },
    CreateKey: { method: "POST", body: true },
    ImportKey: { method: "POST", body: true },
    UpdateKey: { method: "POST", body: true },
    DeleteKey: { method: "POST", body: false },
  };

  const handleAdmin = async (name: string, q: URLSearchParams, body: Json): Promise<unknown> => {
    const qOpt = (p: string) => q.get(p) ?? undefined;
    /** router_macros.rs parse_param `query`: a mandatory parameter missing → 400 "Missing argument `x` for endpoint". */
    const qReq = (p: string, field: string) => {
      const v = q.get(p);
      if (v === null) throw badRequest(`Missing argument \`${field}\` for endpoint`);
      return v;
    };
    switch (name) {
      case "ListBuckets":
        // src/api/admin/bucket.rs ListBucketsRequest: sorted by id (table order), local aliases listed here.
        return [...state.buckets.values()]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((b) => ({
            id: b.id,
            created: b.created.toISOString(),
            globalAliases: [...b.globalAliases],
            localAliases: [...b.localAliases],
          }));
      case "GetBucketInfo": {
        // src/api/admin/bucket.rs GetBucketInfoRequest: exactly one of id, globalAlias, search.
        const id = qOpt("id");
        const ga = qOpt("globalAlias");
        const search = qOpt("search");
        const given = [id, ga, search].filter((x) => x !== undefined).length;
        if (given !== 1) throw badRequest("Either id, globalAlias or search must be provided (but not several of them)");
        if (id !== undefined) return bucketInfo(existingBucket(parseBucketId(id)));
        if (ga !== undefined) {
          // The global alias table only: a bucket known by a local alias alone is not found (404).
          const target = globalAliasTarget(ga);
          if (target === undefined) throw noSuchBucket(ga);
          return bucketInfo(existingBucket(target));
        }
        // search: an exact global alias or full hex id (src/model/helper/bucket.rs resolve_global_bucket), else a hex id prefix.
        const s = search!;
        const exact = globalAliasTarget(s) ?? (/^[0-9a-f]{64}$/.test(s) && state.buckets.has(s) ? s : undefined);
        if (exact !== undefined) return bucketInfo(existingBucket(exact));
        if (s.length < 2 || !/^[0-9a-f]*$/.test(s.slice(0, s.length & ~1))) throw noSuchBucket(s);
        const candidates = [...state.buckets.keys()].filter((bid) => bid.startsWith(s));
        if (candidates.length === 0) throw noSuchBucket(s);
        if (candidates.length > 1) throw badRequest(`Several matching buckets: ${s}`);
        return bucketInfo(existingBucket(candidates[0]!));
      }
      case "CreateBucket": {
        // src/api/admin/bucket.rs CreateBucketRequest.
        const ga = str(body, "globalAlias", false);
        const la = obj(body, "localAlias", false);
        const local = la
          ? { accessKeyId: str(la, "accessKeyId", true)!, alias: str(la, "alias", true)!, allow: perm(obj(la, "allow", false)) }
          : undefined;
        if (ga !== undefined) {
          // An invalid name here is a plain bad request (400 InvalidRequest), not InvalidBucketName.
          if (!isValidBucketName(ga, puny)) throw badRequest(`${ga}: ${INVALID_BUCKET_NAME_MESSAGE}`);
          // An alias already taken: 409 BucketAlreadyExists.
          if (globalAliasTarget(ga) !== undefined) throw new GarageError(409, "BucketAlreadyExists", "Bucket already exists");
        }
        if (local) {
          if (!isValidBucketName(local.alias, puny)) throw badRequest(`${local.alias}: ${INVALID_BUCKET_NAME_MESSAGE}`);
          if (existingKey(local.accessKeyId).localAliases.has(local.alias)) throw badRequest("Local alias already exists");
        }
        const b = newBucket();
        if (ga !== undefined) setGlobalAlias(b.id, ga);
        if (local) {
          setLocalAlias(b.id, local.accessKeyId, local.alias);
          if (local.allow.read || local.allow.write || local.allow.owner) b.authorizedKeys.set(local.accessKeyId, { ...local.allow });
        }
        return bucketInfo(b);
      }
      case "UpdateBucket": {
        // src/api/admin/bucket.rs UpdateBucketRequest: `id` mandatory in the query.
        const b = existingBucket(parseBucketId(qReq("id", "id")));
        const wa = obj(body, "websiteAccess", false);
        const quotas = obj(body, "quotas", false);
        let website = b.website;
        if (wa) {
          const enabled = bool(wa, "enabled", true);
          const index = str(wa, "indexDocument", false);
          const error = str(wa, "errorDocument", false);
          if (enabled) {
            if (index === undefined) throw badRequest("Please specify indexDocument when enabling website access.");
            website = { indexDocument: index, errorDocument: error ?? null };
          } else {
            if (index !== undefined || error !== undefined) {
              throw badRequest("Cannot specify indexDocument or errorDocument when disabling website access.");
            }
            website = null;
          }
        }
        // Both limits are replaced: an absent maxObjects is null, no limit.
        const newQuotas = quotas ? { maxSize: u64(quotas, "maxSize"), maxObjects: u64(quotas, "maxObjects") } : b.quotas;
        b.website = website;
        b.quotas = newQuotas;
        return bucketInfo(b);
      }
      case "DeleteBucket": {
        // src/api/admin/bucket.rs DeleteBucketRequest: a non-empty bucket is 409 BucketNotEmpty.
        const b = existingBucket(parseBucketId(qReq("id", "id")));
        if (b.objects.size > 0) throw new GarageError(409, "BucketNotEmpty", "Tried to delete a non-empty bucket");
        for (const l of b.localAliases) state.keys.get(l.accessKeyId)?.localAliases.delete(l.alias);
        state.buckets.delete(b.id);
        return null;
      }
      case "AddBucketAlias":
      case "RemoveBucketAlias": {
        // src/api/admin/bucket.rs AddBucketAliasRequest / RemoveBucketAliasRequest, through src/model/helper/locked.rs.
        const bucketId = parseBucketId(str(body, "bucketId", true)!);
        const alias = aliasOf(body);
        const add = name === "AddBucketAlias";
        if ("global" in alias) (add ? setGlobalAlias : unsetGlobalAlias)(bucketId, alias.global);
        else (add ? setLocalAlias : unsetLocalAlias)(bucketId, alias.accessKeyId, alias.local);
        return bucketInfo(existingBucket(bucketId));
      }
      case "AllowBucketKey":
      case "DenyBucketKey": {
        // src/api/admin/bucket.rs handle_bucket_change_key_perm: only the flags given true change.
        const bucketId = parseBucketId(str(body, "bucketId", true)!);
        const keyId = str(body, "accessKeyId", true)!;
        const p = perm(obj(body, "permissions", true));
        const b = existingBucket(bucketId);
        existingKey(keyId);
        const flag = name === "AllowBucketKey";
        const current = { ...permOf(b, keyId) };
        if (p.read) current.read = flag;
        if (p.write) current.write = flag;
        if (p.owner) current.owner = flag;
        b.authorizedKeys.set(keyId, current);
        return bucketInfo(b);
      }
      case "ListKeys":
        // src/api/admin/key.rs ListKeysRequest: sorted by id (table order).
        return [...state.keys.values()]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((k) => ({ id: k.id, name: k.name, created: k.created.toISOString(), expiration: null, expired: false }));
      case "GetKeyInfo": {
        // src/api/admin/key.rs GetKeyInfoRequest: exactly one of id, search; showSecretKey parses as a bool (default false).
        const id = qOpt("id");
        const search = qOpt("search");
        const show = qOpt("showSecretKey");
        if (show !== undefined && show !== "true" && show !== "false") throw badRequest("Failed to parse query parameter");
        if ((id === undefined) === (search === undefined)) throw badRequest("Either id or search must be provided (but not both)");
        if (id !== undefined) return keyInfo(existingKey(id), show === "true");
        // src/model/key_table.rs KeyFilter::MatchesAndNotDeleted: id prefix or exact name, case-insensitive.
        const pat = search!.toLowerCase();
        const found = [...state.keys.values()].filter((k) => k.id.toLowerCase().startsWith(pat) || k.name.toLowerCase() === pat);
        if (found.length !== 1) throw badRequest(`${found.length} matching keys`);
        return keyInfo(found[0]!, show === "true");
      }
      case "CreateKey": {
        // src/api/admin/key.rs CreateKeyRequest: a new random key (src/model/key_table.rs Key::new), default name
        // "Unnamed key"; names are not unique. The response shows the secret.
        const k: FakeKey = {
          id: `GK${randomBytes(12).toString("hex")}`,
          secret: randomBytes(32).toString("hex"),
          name: str(body, "name", false) ?? "Unnamed key",
          created: new Date(),
          allowCreateBucket: false,
          localAliases: new Map(),
        };
        if (obj(body, "allow", false)?.createBucket === true) k.allowCreateBucket = true;
        state.keys.set(k.id, k);
        return keyInfo(k, true);
      }
      case "ImportKey": {
        // src/api/admin/key.rs ImportKeyRequest: an existing id is 409 KeyAlreadyExists; the format is checked by Key::import.
        const id = str(body, "accessKeyId", true)!;
        const secret = str(body, "secretAccessKey", true)!;
        if (state.keys.has(id)) {
          throw new GarageError(
            409,
            "KeyAlreadyExists",
            `Key ${id} already exists in data store. Even if it is deleted, we can't let you create a new key with the same ID. Sorry.`,
          );
        }
        if (!/^GK[0-9a-fA-F]{24}$/.test(id)) {
          throw badRequest(
            "Invalid key format: The specified key ID is not a valid Garage key ID (starts with `GK`, followed by 12 hex-encoded bytes)",
          );
        }
        if (!/^[0-9a-fA-F]{64}$/.test(secret)) {
          throw badRequest(
            "Invalid key format: The specified secret key is not a valid Garage secret key (composed of 32 hex-encoded bytes)",
          );
        }
        const k: FakeKey = {
          id,
          secret,
          name: str(body, "name", false) ?? "Imported key",
          created: new Date(),
          allowCreateBucket: false,
          localAliases: new Map(),
        };
        state.keys.set(id, k);
        return keyInfo(k, false);
      }
      case "UpdateKey": {
        const k = existingKey(qReq("id", "id"));
        const n = str(body, "name", false);
        if (n !== undefined) k.name = n;
        if (obj(body, "allow", false)?.createBucket === true) k.allowCreateBucket = true;
        if (obj(body, "deny", false)?.createBucket === true) k.allowCreateBucket = false;
        return keyInfo(k, false);
      }
      case "DeleteKey": {
        // src/model/helper/locked.rs delete_key: its permissions and local aliases go with it.
        const k = existingKey(qReq("id", "id"));
        for (const b of state.buckets.values()) {
          b.authorizedKeys.delete(k.id);
          b.localAliases = b.localAliases.filter((l) => l.accessKeyId !== k.id);
        }
        state.keys.delete(k.id);
        return null;
      }
      default:
        throw internal(`no handler for ${name}`);
    }
  };

  /** src/api/admin/error.rs http_body: `{code, message, region, path}` (CustomApiErrorBody), application/json. */
  const sendAdminError = (res: ServerResponse, e: GarageError, path: string) => {
    res.writeHead(e.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: e.code, message: e.message, region, path }, null, 2));
  };

  const adminServer = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://garage");
    state.adminCalls.push(`${req.method} ${url.pathname}${url.search}`);
    try {
      const raw = await readBody(req);
      // src/api/admin/router_v2.rs: GET /health needs no token.
      if (req.method === "GET" && url.pathname === "/health") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("Garage is fully operational");
        return;
      }
      const name = url.pathname.startsWith("/v2/") ? url.pathname.slice(4) : "";
      const route = routes[name];
      // router_macros.rs gen_path_parser_v2: any other path or method → 400 "Unknown API endpoint".
      if (!route || route.method !== req.method) throw badRequest(`Unknown API endpoint: ${req.method} ${url.pathname}`);
      // The body is parsed before the token is checked (src/api/admin/api_server.rs handle_http_api):
      // src/api/common/helpers.rs parse_json_body → 400 "Invalid JSON" on anything serde refuses.
      let body: Json = {};
      if (route.body) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString("utf8"));
        } catch (e) {
          throw invalidJson((e as Error).message);
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw invalidJson("expected a map");
        body = parsed as Json;
      }
      // src/api/admin/api_server.rs verify_authorization: no header, no "Bearer " prefix or a wrong token
      // are all 403 AccessDenied (never 401). A token with a '.' is looked up as a scoped admin token
      // (`<id>.<secret>`) in the admin token table, which this fake keeps empty.
      const auth = req.headers.authorization;
      if (auth === undefined) throw forbidden("Bearer token must be provided in Authorization header");
      if (!auth.startsWith("Bearer ")) throw forbidden("Invalid Authorization header");
      const token = auth.slice("Bearer ".length).trim();
      const a = Buffer.from(token);
      const b = Buffer.from(options.adminToken);
      if (token.includes(".") || a.length !== b.length || !timingSafeEqual(a, b)) throw forbidden("Invalid bearer token");
      const result = await handleAdmin(name, url.searchParams, body);
      // src/api/common/helpers.rs json_ok_response: 200, pretty-printed JSON (Delete*'s unit response is `null`).
      res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" });
      res.end(JSON.stringify(result, null, 2));
    } catch (e) {
      sendAdminError(res, e instanceof GarageError ? e : internal(String(e)), url.pathname);
    }
  });

  // ---------------------------------------------------------------- S3 API

  /** src/api/common/encoding.rs uri_encode: RFC 3986 unreserved kept, every other byte %XX (uppercase). */
  const uriEncode = (s: string, encodeSlash: boolean): string =>
    [...Buffer.from(s, "utf8")]
      .map((byte) => {
        const c = String.fromCharCode(byte);
        if (/[A-Za-z0-9_\-~.]/.test(c)) return c;
        if (c === "/" && !encodeSlash) return c;
        return `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      })
      .join("");
  const sha256hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
  const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

  /**
   * src/api/common/signature/payload.rs check_standard_signature and verify_v4; the key is looked up
   * by the `Credential=<key id>/…` of the Authorization header. The header signature is verified
   * as Garage does (canonical request over the raw path, the sorted query, the signed headers
   * trimmed, the x-amz-content-sha256 value). Not verified by the fake: the per-chunk signatures
   * of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies and the trailer's signature
   * (src/api/common/signature/streaming.rs), which Garage checks too.
   */
  const authenticate = (req: IncomingMessage, rawPath: string, rawQuery: string): { key: FakeKey; contentSha256: string } => {
    const query = new URLSearchParams(rawQuery);
    if (query.has("X-Amz-Algorithm")) throw notImplemented("presigned URLs are not emulated by the fake");
    const authorization = req.headers.authorization;
    // src/api/common/signature/mod.rs verify_request: no signature at all.
    if (authorization === undefined) throw forbidden("Garage does not support anonymous access yet");
    const space = authorization.indexOf(" ");
    if (space < 0) throw badRequest("Authorization field to short");
    if (authorization.slice(0, space) !== "AWS4-HMAC-SHA256") throw badRequest("Unsupported authorization method");
    const params = new Map<string, string>();
    for (const part of authorization.slice(space + 1).split(",")) {
      const p = part.trim();
      const eq = p.indexOf("=");
      if (eq < 0) throw badRequest("Field without value in authorization header");
      params.set(p.slice(0, eq), p.slice(eq + 1));
    }
    const cred = params.get("Credential");
    if (cred === undefined) throw badRequest("Could not find Credential in Authorization field");
    const signedHeadersStr = params.get("SignedHeaders");
    if (signedHeadersStr === undefined) throw badRequest("Could not find SignedHeaders in Authorization field");
    const signature = params.get("Signature");
    if (signature === undefined) throw badRequest("Could not find Signature in Authorization field");
    const contentSha256 = req.headers["x-amz-content-sha256"];
    if (typeof contentSha256 !== "string") throw badRequest("Missing X-Amz-Content-Sha256 field");
    const amzDate = req.headers["x-amz-date"];
    if (typeof amzDate !== "string") throw badRequest("Missing X-Amz-Date field");
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!m) throw badRequest("Invalid date");
    const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    if (Date.now() - date.getTime() > 24 * 3600 * 1000) throw badRequest("Date is too old");
    const slash = cred.indexOf("/");
    if (slash < 0) throw badRequest("Credentials does not contain '/' in authorization field");
    const keyId = cred.slice(0, slash);
    const scope = cred.slice(slash + 1);
    // payload.rs verify_signed_headers: Host and every x-amz-* header must be signed.
    const signedHeaders = signedHeadersStr.split(";").sort();
    if (!signedHeaders.includes("host")) throw badRequest("Header `Host` should be signed");
    for (const h of Object.keys(req.headers)) {
      if (h.startsWith("x-amz-") && !signedHeaders.includes(h)) throw badRequest(`Header \`${h}\` should be signed`);
    }
    // payload.rs canonical_request: for S3 the path is taken as sent, not encoded again.
    const canonicalQuery = [...query].map(([k, v]) => `${uriEncode(k, true)}=${uriEncode(v, true)}`).sort();
    const canonicalHeaders = signedHeaders.map((h) => {
      const v = req.headers[h];
      if (v === undefined) throw badRequest(`signed header \`${h}\` is not present`);
      return `${h}:${(Array.isArray(v) ? v.join(",") : v).trim()}`;
    });
    const canonicalRequest = [
      req.method,
      rawPath,
      canonicalQuery.join("&"),
      canonicalHeaders.join("\n"),
      "",
      signedHeaders.join(";"),
      contentSha256,
    ].join("\n");
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonicalRequest)].join("\n");
    // payload.rs verify_v4: the scope must be <date>/<s3_region>/s3/aws4_request: 400 AuthorizationHeaderMalformed.
    const shortDate = amzDate.slice(0, 8);
    if (scope !== `${shortDate}/${region}/s3/aws4_request`) {
      throw new GarageError(400, "AuthorizationHeaderMalformed", `Authorization header malformed, unexpected scope: ${scope}`);
    }
    // An unknown (or deleted) key: 403 AccessDenied "No such key".
    const key = state.keys.get(keyId);
    if (!key) throw forbidden(`No such key: ${keyId}`);
    const kDate = hmac(`AWS4${key.secret}`, shortDate);
    const kSigning = hmac(hmac(hmac(kDate, region), "s3"), "aws4_request");
    const expected = hmac(kSigning, stringToSign);
    const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw forbidden("Invalid signature");
    return { key, contentSha256 };
  };

  const invalidDigest = (m: string) => new GarageError(400, "InvalidDigest", `Invalid digest: ${m}`);
  /**
   * The request body as the object's content: src/api/common/signature/streaming.rs decodes the
   * aws-chunked encoding of STREAMING-* payloads (content-encoding must name aws-chunked); a hex
   * x-amz-content-sha256 must match the body (checksum.rs verify: 400 InvalidDigest).
   */
  const payload = (req: IncomingMessage, contentSha256: string, raw: Buffer): { body: Buffer; trailers: Record<string, string> } => {
    if (contentSha256 === "UNSIGNED-PAYLOAD") return { body: raw, trailers: {} };
    if (contentSha256.startsWith("STREAMING-")) {
      const rest = contentSha256.slice("STREAMING-".length);
      const trailer = rest.endsWith("-TRAILER");
      const algo = trailer ? rest.slice(0, -"-TRAILER".length) : rest;
      if (algo !== "AWS4-HMAC-SHA256-PAYLOAD" && algo !== "UNSIGNED-PAYLOAD")
        throw badRequest("invalid or unsupported x-amz-content-sha256");
      if (algo === "UNSIGNED-PAYLOAD" && !trailer)
        throw badRequest("STREAMING-UNSIGNED-PAYLOAD without trailer is not a valid combination");
      const ce = req.headers["content-encoding"] ?? "";
      if (
        !String(ce)
          .split(",")
          .map((s) => s.trim())
          .includes("aws-chunked")
      ) {
        throw badRequest("content-encoding does not contain aws-chunked for STREAMING-*-PAYLOAD");
      }
      const out: Buffer[] = [];
      let at = 0;
      for (;;) {
        const eol = raw.indexOf("\r\n", at);
        if (eol < 0) throw badRequest("invalid aws-chunked body");
        const size = Number.parseInt(raw.subarray(at, eol).toString("latin1").split(";")[0]!, 16);
        if (!Number.isFinite(size)) throw badRequest("invalid aws-chunked body");
        at = eol + 2;
        if (size === 0) break;
        out.push(raw.subarray(at, at + size));
        at += size + 2;
      }
      // The trailer (`x-amz-checksum-…:<base64>` lines) follows the last, empty chunk.
      const trailers: Record<string, string> = {};
      for (const line of raw.subarray(at).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const announced = req.headers["x-amz-trailer"];
      if (trailer) {
        if (typeof announced !== "string") throw badRequest("Missing x-amz-trailer header");
        if (trailers[announced.toLowerCase()] === undefined) throw badRequest("trailing checksum was not sent");
      }
      return { body: Buffer.concat(out), trailers };
    }
    if (!/^[0-9a-fA-F]{64}$/.test(contentSha256)) throw badRequest("Invalid content sha256 hash");
    if (sha256hex(raw) !== contentSha256.toLowerCase()) {
      throw invalidDigest("SHA256 checksum verification failed (from x-amz-content-sha256)");
    }
    return { body: raw, trailers: {} };
  };

  /**
   * src/api/common/signature/checksum.rs Checksums::verify: Content-MD5 and an x-amz-checksum-*
   * header, or the same in the trailer of a streaming body, must match the body (400 InvalidDigest).
   * The fake checks MD5, CRC32, SHA-1 and SHA-256;
   * CRC32C and CRC64NVME, which Garage checks too, are not (node has no implementation of them).
   */
  const verifyChecksums = (req: IncomingMessage, { body, trailers }: { body: Buffer; trailers: Record<string, string> }) => {
    const md5 = req.headers["content-md5"];
    if (typeof md5 === "string" && createHash("md5").update(body).digest("base64") !== md5.replace(/^"|"$/g, "")) {
      throw invalidDigest("MD5 checksum verification failed (from content-md5)");
    }
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    const computed: Record<string, string> = {
      "x-amz-checksum-crc32": crc.toString("base64"),
      "x-amz-checksum-sha1": createHash("sha1").update(body).digest("base64"),
      "x-amz-checksum-sha256": createHash("sha256").update(body).digest("base64"),
    };
    for (const [h, value] of Object.entries(computed)) {
      const given = req.headers[h] ?? trailers[h];
      if (typeof given === "string" && given !== value) {
        throw invalidDigest(`Failed to validate checksum for algorithm ${h.slice("x-amz-checksum-".length)}`);
      }
    }
  };

  /**
   * src/model/helper/bucket.rs resolve_bucket_fast: the key's local aliases first, then the global
   * alias table, and a full 64-hex bucket id is a name too; none → 404 NoSuchBucket.
   */
  const resolveBucket = (name: string, key: FakeKey): FakeBucket => {
    const local = key.localAliases.get(name);
    const id = local ?? globalAliasTarget(name) ?? (/^[0-9a-f]{64}$/.test(name) ? name : undefined);
    const b = id === undefined ? undefined : state.buckets.get(id);
    if (!b) throw noSuchBucket(name);
    return b;
  };

  /** src/api/s3/put.rs check_quotas: refused only when the bucket grows past a limit: 403 AccessDenied. */
  const checkQuotas = (b: FakeBucket, key: string, size: number) => {
    const prev = b.objects.get(key);
    const objDiff = prev ? 0 : 1;
    const sizeDiff = size - (prev?.body.length ?? 0);
    const count = b.objects.size;
    const bytes = [...b.objects.values()].reduce((n, o) => n + o.body.length, 0);
    if (b.quotas.maxObjects !== null && objDiff > 0 && count + objDiff > b.quotas.maxObjects) {
      throw forbidden(`Object quota is reached, maximum objects for this bucket: ${b.quotas.maxObjects}`);
    }
    if (b.quotas.maxSize !== null && sizeDiff > 0 && bytes + sizeDiff > b.quotas.maxSize) {
      throw forbidden(
        `Bucket size quota is reached, maximum total size of objects for this bucket: ${b.quotas.maxSize}. The bucket is already ${bytes} bytes, and this object would add ${sizeDiff} bytes.`,
      );
    }
  };

  const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const sendXml = (res: ServerResponse, status: number, xml: string) => {
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
  };
  /** src/api/s3/error.rs http_body: `<Error><Code/><Message/><Resource/><Region/></Error>`, application/xml. */
  const sendS3Error = (res: ServerResponse, e: GarageError, path: string) =>
    sendXml(
      res,
      e.status,
      `<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message><Resource>${xmlEscape(path)}</Resource><Region>${region}</Region></Error>`,
    );

  /** Stored with an object: src/api/s3/put.rs extract_metadata_headers (standard headers and x-amz-meta-*). */
  const STORED_HEADERS = ["content-type", "cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
  const objectHeaders = (o: FakeObject): Record<string, string> => ({
    // src/api/s3/get.rs object_headers.
    "last-modified": o.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    etag: `"${o.etag}"`,
    "content-length": String(o.body.length),
    ...o.headers,
  });

  const s3Server = createServer(async (req, res) => {
    const rawUrl = req.url ?? "/";
    const qAt = rawUrl.indexOf("?");
    const rawPath = qAt < 0 ? rawUrl : rawUrl.slice(0, qAt);
    const rawQuery = qAt < 0 ? "" : rawUrl.slice(qAt + 1);
    try {
      const raw = await readBody(req);
      const { key: apiKey, contentSha256 } = authenticate(req, rawPath, rawQuery);
      // Path-style only (src/api/common/helpers.rs parse_bucket_key): /<bucket>/<key>, percent-decoded.
      const path = decodeURIComponent(rawPath);
      const slash = path.indexOf("/", 1);
      const bucketName = slash < 0 ? path.slice(1) : path.slice(1, slash);
      const objectKey = slash < 0 ? "" : path.slice(slash + 1);
      const query = new URLSearchParams(rawQuery);
      if (bucketName === "") {
        // ListBuckets: every bucket the key has a permission on.
        if (req.method !== "GET") throw notImplemented("not emulated by the fake");
        const mine = [...state.buckets.values()].filter((b) => {
          const p = permOf(b, apiKey.id);
          return p.read || p.write || p.owner;
        });
        const names = mine.flatMap((b) => [
          ...b.globalAliases,
          ...[...apiKey.localAliases].filter(([, id]) => id === b.id).map(([a]) => a),
        ]);
        const items = [...new Set(names)]
          .sort()
          .map((n) => `<Bucket><Name>${xmlEscape(n)}</Name><CreationDate>${new Date().toISOString()}</CreationDate></Bucket>`)
          .join("");
        return sendXml(
          res,
          200,
          `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${apiKey.id}</ID><DisplayName>${xmlEscape(apiKey.name)}</DisplayName></Owner><Buckets>${items}</Buckets></ListAllMyBucketsResult>`,
        );
      }
      if (objectKey === "" && req.method === "PUT" && [...query.keys()].length === 0) {
        // src/api/s3/bucket.rs handle_create_bucket: needs allow_create_bucket; the bucket gets only a
        // LOCAL alias under the creating key, and all permissions for it.
        const existing = (() => {
          try {
            return resolveBucket(bucketName, apiKey);
          } catch {
            return undefined;
          }
        })();
        if (existing) {
          const p = permOf(existing, apiKey.id);
          if (!(p.write || p.owner)) throw new GarageError(409, "BucketAlreadyExists", "Bucket already exists");
        } else {
          if (!apiKey.allowCreateBucket) throw forbidden(`Access key ${apiKey.id} is not allowed to create buckets`);
          if (!isValidBucketName(bucketName, puny)) throw badRequest(`${bucketName}: ${INVALID_BUCKET_NAME_MESSAGE}`);
          const b = newBucket();
          b.authorizedKeys.set(apiKey.id, { read: true, write: true, owner: true });
          setLocalAlias(b.id, apiKey.id, bucketName);
        }
        res.writeHead(200, { location: `/${bucketName}` });
        return res.end();
      }
      const bucket = resolveBucket(bucketName, apiKey);
      const p = permOf(bucket, apiKey.id);
      // src/api/s3/router.rs authorization_type: Get/Head/List read, Put/Delete write, bucket settings owner;
      // src/api/s3/api_server.rs: a missing permission is 403 "Operation is not allowed for this key."
      const need = (ok: boolean) => {
        if (!ok) throw forbidden("Operation is not allowed for this key.");
      };
      const method = req.method ?? "GET";
      if (objectKey === "") {
        if (method === "HEAD" && [...query.keys()].length === 0) {
          need(p.read);
          res.writeHead(200);
          return res.end();
        }
        if (method === "GET" && query.get("list-type") === "2") {
          need(p.read);
          // src/api/s3/list.rs (ListBucketResult in src/api/s3/xml.rs), keys in lexical order.
          const prefix = query.get("prefix") ?? "";
          const delimiter = query.get("delimiter") ?? undefined;
          const maxKeys = Math.min(Math.max(Number(query.get("max-keys") ?? 1000) || 1000, 1), 1000);
          const token = query.get("continuation-token");
          const after = token ? Buffer.from(token, "base64url").toString("utf8") : (query.get("start-after") ?? "");
          const contents: string[] = [];
          const prefixes = new Set<string>();
          let last = "";
          let truncated = false;
          for (const k of [...bucket.objects.keys()].sort()) {
            if (!k.startsWith(prefix) || k <= after) continue;
            const cp = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
            const entry = cp >= 0 ? k.slice(0, cp + delimiter!.length) : k;
            if (cp >= 0 && prefixes.has(entry)) continue;
            if (contents.length + prefixes.size >= maxKeys) {
              truncated = true;
              break;
            }
            if (cp >= 0) prefixes.add(entry);
            else {
              const o = bucket.objects.get(k)!;
              contents.push(
                `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
              );
            }
            last = cp >= 0 ? `${entry}\uffff` : k;
          }
          const next = truncated ? `<NextContinuationToken>${Buffer.from(last).toString("base64url")}</NextContinuationToken>` : "";
          const cps = [...prefixes].map((x) => `<CommonPrefixes><Prefix>${xmlEscape(x)}</Prefix></CommonPrefixes>`).join("");
          return sendXml(
            res,
            200,
            `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucketName)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>${token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : ""}${next}<KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : ""}<IsTruncated>${truncated}</IsTruncated>${contents.join("")}${cps}</ListBucketResult>`,
          );
        }
        if (method === "POST" && query.has("delete")) {
          need(p.write);
          // src/api/s3/delete.rs handle_delete_objects: <Delete><Object><Key>…</Key></Object>…<Quiet/></Delete>;
          // each key deleted as DeleteObject does (a missing one counts as deleted).
          const request = payload(req, contentSha256, raw);
          verifyChecksums(req, request);
          const xml = request.body.toString("utf8");
          if (!/<Delete[\s>]/.test(xml)) throw badRequest("Invalid delete XML query");
          const xmlUnescape = (t: string) =>
            t
              .replace(/&lt;/g, "<")
              .replace(/&gt;/g, ">")
              .replace(/&quot;/g, '"')
              .replace(/&apos;/g, "'")
              .replace(/&amp;/g, "&");
          const keys = [...xml.matchAll(/<Object>\s*<Key>([^<]*)<\/Key>/g)].map((m) => xmlUnescape(m[1]!));
          const quiet = /<Quiet>\s*true\s*<\/Quiet>/.test(xml);
          for (const k of keys) bucket.objects.delete(k);
          const deleted = quiet ? "" : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join("");
          return sendXml(res, 200, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted}</DeleteResult>`);
        }
        throw notImplemented("this bucket call is not emulated by the fake");
      }
      if ([...query.keys()].some((q) => q !== "x-id")) throw notImplemented("this object call is not emulated by the fake");
      switch (method) {
        case "PUT": {
          need(p.write);
          if (req.headers["x-amz-copy-source"] !== undefined) throw notImplemented("CopyObject is not emulated by the fake");
          const request = payload(req, contentSha256, raw);
          verifyChecksums(req, request);
          const body = request.body;
          checkQuotas(bucket, objectKey, body.length);
          const headers: Record<string, string> = {};
          for (const h of STORED_HEADERS) {
            let v = req.headers[h];
            // streaming.rs parse_streaming_body: the aws-chunked part of content-encoding is the transfer's, not the object's.
            if (h === "content-encoding" && typeof v === "string") {
              v = v
                .split(",")
                .map((s) => s.trim())
                .filter((s) => s !== "aws-chunked")
                .join(",");
            }
            if (typeof v === "string" && v !== "") headers[h] = v;
          }
          for (const [h, v] of Object.entries(req.headers)) if (h.startsWith("x-amz-meta-") && typeof v === "string") headers[h] = v;
          const etag = createHash("md5").update(body).digest("hex");
          bucket.objects.set(objectKey, { body, etag, headers, lastModified: new Date() });
          res.writeHead(200, { etag: `"${etag}"` });
          return res.end();
        }
        case "GET":
        case "HEAD": {
          need(p.read);
          const o = bucket.objects.get(objectKey);
          // src/api/s3/get.rs: a missing object is NoSuchKey (404).
          if (!o) throw new GarageError(404, "NoSuchKey", "Key not found");
          res.writeHead(200, objectHeaders(o));
          return res.end(method === "GET" ? o.body : undefined);
        }
        case "DELETE":
          need(p.write);
          // src/api/s3/delete.rs handle_delete: 204 whether or not the object existed.
          bucket.objects.delete(objectKey);
          res.writeHead(204);
          return res.end();
        default:
          throw notImplemented("not emulated by the fake");
      }
    } catch (e) {
      sendS3Error(res, e instanceof GarageError ? e : internal(String(e)), rawPath);
    }
  });

  // ---------------------------------------------------------------- web endpoint

  /** src/web/web_server.rs error_to_res: a small HTML page with the status, text/html. */
  const sendWebError = (res: ServerResponse, status: number, reason: string, s3?: { code: string; message: string }) => {
    let body = `<title>${status} ${reason}</title>\n<h1>${status} ${reason}</h1>`;
    if (s3) body += `\n<ul>\n<li>Code: ${s3.code}</li>\n<li>Message: ${s3.message}.</li>\n</ul>`;
    res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
    res.end(body);
  };

  const webServer = createServer(async (req, res) => {
    await readBody(req);
    const host = req.headers.host;
    if (host === undefined) return sendWebError(res, 400, "Bad Request");
    // src/api/common/helpers.rs authority_to_host: the port is dropped, the name lower-cased.
    const hostname = (host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!).toLowerCase();
    // helpers.rs host_to_bucket: `<name><root_domain>` names <name>; any other host is the name itself.
    const root = webRootDomain.replace(/^\.+/, "");
    const bucketName = hostname.endsWith(`.${root}`) ? hostname.slice(0, -(root.length + 1)) : hostname;
    // web_server.rs serve_file: the GLOBAL alias table only; no bucket, or website access not
    // enabled, is a plain 404.
    const id = globalAliasTarget(bucketName);
    const bucket = id === undefined ? undefined : state.buckets.get(id);
    if (!bucket?.website) return sendWebError(res, 404, "Not Found");
    const website = bucket.website;
    // web_server.rs path_to_keys: `/` and `…/` get the index document appended; percent-decoded.
    const rawPath = (req.url ?? "/").split("?")[0]!;
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return sendWebError(res, 400, "Bad Request");
    }
    if (!path.startsWith("/")) return sendWebError(res, 400, "Bad Request");
    const base = path.slice(1);
    const key = base === "" || path.endsWith("/") ? `${base}${website.indexDocument}` : base;
    const method = req.method ?? "GET";
    let failure: { status: number; reason: string; code: string; message: string };
    if (method === "GET" || method === "HEAD") {
      const o = bucket.objects.get(key);
      if (o) {
        res.writeHead(200, objectHeaders(o));
        return res.end(method === "GET" ? o.body : undefined);
      }
      // path_to_keys LoadOrRedirect: `/dir` missing while `dir/<index>` exists → 302 to `/dir/`.
      if (!(base === "" || path.endsWith("/")) && bucket.objects.has(`${key}/${website.indexDocument}`)) {
        res.writeHead(302, { location: `/${encodeURI(key)}/` });
        return res.end();
      }
      failure = { status: 404, reason: "Not Found", code: "NoSuchKey", message: "Key not found" };
    } else {
      // handle_inner: other methods are a bad request (4xx: the error document applies too).
      failure = { status: 400, reason: "Bad Request", code: "InvalidRequest", message: "Bad request: HTTP method not supported" };
    }
    // serve_file: for a 4xx on GET (not HEAD), the error document is served with the error's status
    // and an X-Garage-Error header; without one, or if it is missing too, the HTML error page.
    if (method !== "HEAD" && website.errorDocument !== null) {
      const doc = bucket.objects.get(website.errorDocument.replace(/^\/+/, ""));
      if (doc) {
        res.writeHead(failure.status, { ...objectHeaders(doc), "x-garage-error": failure.message });
        return res.end(doc.body);
      }
    }
    return sendWebError(res, failure.status, failure.reason, { code: failure.code, message: failure.message });
  });

  const servers = [adminServer, s3Server, webServer];
  const [adminUrl, s3Url, webUrl] = await Promise.all(servers.map(listen));
  return {
    adminUrl: adminUrl!,
    s3Url: s3Url!,
    webUrl: webUrl!,
    region,
    webRootDomain,
    state,
    stop: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      ).then(() => undefined),
  };
}

/** A plain HTTP request with a chosen Host header (fetch does not let a caller set it), e.g. a site's domain to the web endpoint. */
export function httpGet(
  url: string,
  options: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: options.method ?? "GET",
        headers: { ...(options.headers ?? {}), ...(options.host ? { host: options.host } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
