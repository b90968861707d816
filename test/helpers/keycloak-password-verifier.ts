/**
 * Verifies a password against a Keycloak password credential (its secretData and credentialData
 * JSON strings) the way Keycloak 26's providers do, with other code than infra/model/legacy-hashes.ts:
 * Node's crypto for PBKDF2 and Debian's `argon2` (the reference implementation) for Argon2.
 *
 * keycloak/keycloak, Keycloak 26 sources:
 * - `server-spi/src/main/java/org/keycloak/models/credential/dto/PasswordSecretData.java`: the JSON
 *   creator reads `value` as a string and `salt` as base64 (`Base64.decode`).
 * - `server-spi/src/main/java/org/keycloak/models/credential/dto/PasswordCredentialData.java`:
 *   `hashIterations`, `algorithm`, and `additionalParameters` a map of string lists (`getFirst`).
 * - `server-spi-private/src/main/java/org/keycloak/credential/hash/Pbkdf2PasswordHashProvider.java`:
 *   `verify` re-encodes with the stored iterations and salt, a key of `keySize(credential)` bits
 *   (the decoded value's length × 8), the password padded with NULs to `max-padding-length`
 *   (`AbstractPbkdf2PasswordHashProviderFactory.java`, default 0: none; earlier versions always
 *   padded to 14, which HMAC-SHA-256 cannot tell from no padding), base64 with padding, and
 *   compares the strings with `equals`. `Pbkdf2Sha256PasswordHashProviderFactory.java`:
 *   id `pbkdf2-sha256`, `PBKDF2WithHmacSHA256`, which Bouncy Castle (Keycloak's
 *   `DefaultCryptoProvider.getSecretKeyFact`) feeds the password's UTF-8 bytes
 *   (bcgit/bc-java `PBEPBKDF2.java`, `PKCS5S2_UTF8`).
 * - `crypto/default/src/main/java/org/keycloak/crypto/hash/Argon2PasswordHashProvider.java`:
 *   `verify` reads `version`, `type`, `hashLength`, `parallelism`, `memory` (first of each list) and
 *   `hashIterations`, runs Bouncy Castle's Argon2 on the password's UTF-8 bytes, and compares
 *   `java.util.Base64` (padded) of the result with `value`. `Argon2Parameters.java`: types
 *   `id`/`d`/`i`, versions `1.3`/`1.0`.
 *
 * Keycloak's own tests carry no fixed hash with a known password: PasswordHashingTest
 * (`testsuite/.../forms/PasswordHashingTest.java`) hashes a random password at run time and
 * recomputes it with the JDK or Bouncy Castle, so there is no vector of theirs to reuse here.
 */
import { pbkdf2Sync } from "node:crypto";
import { spawnSync } from "node:child_process";
import { requireTool } from "./debian-tools";

interface Secret {
  value: string;
  salt: Buffer;
}
interface Data {
  hashIterations: number;
  algorithm: string;
  first: (key: string) => string | undefined;
}

/** Reads the two JSON strings as Keycloak's Jackson creators do; throws on what they would refuse. */
function read(secretData: string, credentialData: string): { secret: Secret; data: Data } {
  const s = JSON.parse(secretData) as { value?: unknown; salt?: unknown };
  const d = JSON.parse(credentialData) as { hashIterations?: unknown; algorithm?: unknown; additionalParameters?: unknown };
  if (typeof s.value !== "string" || typeof s.salt !== "string") throw new Error("secretData needs a string value and a string salt");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s.salt) || s.salt.length % 4 !== 0) throw new Error("secretData salt is not base64");
  if (!Number.isInteger(d.hashIterations) || typeof d.algorithm !== "string")
    throw new Error("credentialData needs hashIterations and algorithm");
  const params = (d.additionalParameters ?? {}) as Record<string, unknown>;
  const first = (key: string) => {
    const list = params[key];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || !list.every((v) => typeof v === "string"))
      throw new Error(`additionalParameters.${key} is not a list of strings`);
    return list[0] as string | undefined;
  };
  return {
    secret: { value: s.value, salt: Buffer.from(s.salt, "base64") },
    data: { hashIterations: d.hashIterations as number, algorithm: d.algorithm, first },
  };
}

/** Java's parseInt of a parameter Keycloak requires. */
function int(text: string | undefined, key: string): number {
  if (text === undefined || !/^[+-]?[0-9]+$/.test(text)) throw new Error(`additionalParameters.${key} is not an integer`);
  return Number(text);
}

function pbkdf2Sha256(password: string, secret: Secret, data: Data, maxPaddingLength: number): boolean {
  // keySize: the decoded value's length (MIME decoder: lenient), in bits.
  const keyBytes = Buffer.from(secret.value, "base64").length;
  const padded = password.length < maxPaddingLength ? password + "\0".repeat(maxPaddingLength - password.length) : password;
  const key = pbkdf2Sync(Buffer.from(padded, "utf8"), secret.salt, data.hashIterations, keyBytes, "sha256");
  return key.toString("base64") === secret.value;
}

const ARGON2_TYPE: Record<string, string> = { id: "-id", i: "-i", d: "-d" };
const ARGON2_VERSION: Record<string, string> = { "1.3": "13", "1.0": "10" };

/**
 * Debian's argon2 takes the salt as an argument: its bytes go through bash's $'\xHH' quoting, so
 * any byte but NUL (which no argument can hold) reaches it. The password goes on standard input.
 */
function argon2(password: string, secret: Secret, data: Data): boolean {
  const type = ARGON2_TYPE[data.first("type") ?? ""];
  const version = ARGON2_VERSION[data.first("version") ?? ""];
  if (type === undefined || version === undefined) throw new Error("argon2 credential with an unknown type or version");
  if (secret.salt.includes(0)) throw new Error("this salt holds a NUL byte, which no argument to the argon2 tool can carry");
  const quoted = [...secret.salt].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
  const args = [
    "-c",
    `exec "$0" $'${quoted}' "$@"`,
    requireTool("argon2"),
    type,
    "-t",
    String(data.hashIterations),
    "-k",
    String(int(data.first("memory"), "memory")),
    "-p",
    String(int(data.first("parallelism"), "parallelism")),
    "-l",
    String(int(data.first("hashLength"), "hashLength")),
    "-v",
    version,
    "-r",
  ];
  const run = spawnSync(requireTool("bash"), args, { input: Buffer.from(password, "utf8"), encoding: "utf8" });
  if (run.status !== 0) throw new Error(`argon2 failed: ${run.stderr.trim()}`);
  const raw = run.stdout.trim();
  if (!/^([0-9a-f]{2})+$/.test(raw)) throw new Error("argon2 -r printed no hex hash");
  return Buffer.from(raw, "hex").toString("base64") === secret.value;
}

/**
 * True when Keycloak 26 would accept `password` for this credential. `maxPaddingLength` is the
 * pbkdf2 providers' `max-padding-length` option (default 0).
 */
export function keycloakVerifies(
  password: string,
  credential: { type: string; secretData: string; credentialData: string },
  options: { maxPaddingLength?: number } = {},
): boolean {
  if (credential.type !== "password") throw new Error(`not a password credential: ${credential.type}`);
  const { secret, data } = read(credential.secretData, credential.credentialData);
  switch (data.algorithm) {
    case "pbkdf2-sha256":
      return pbkdf2Sha256(password, secret, data, options.maxPaddingLength ?? 0);
    case "argon2":
      return argon2(password, secret, data);
    default:
      throw new Error(`no provider ${data.algorithm} in this verifier`);
  }
}
