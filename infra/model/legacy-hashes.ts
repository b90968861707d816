/**
 * The password hashes of the 2019 member space, carried to Keycloak (a credential for a realm
 * partial import) and to Dovecot (a passdb value) where each verifies them natively.
 * docs/migration-passwords.md says which form goes where, with the upstream sources.
 *
 * Pure, no Pulumi, no I/O. Never throws: whatever the export holds comes back classified, and a
 * note never quotes the hash (the import report is printed).
 */

export type LegacyHashScheme = "argon2id" | "argon2i" | "pbkdf2-sha256" | "bcrypt" | "sha512-crypt" | "empty" | "unknown";

export interface KeycloakPasswordCredential {
  type: "password";
  /** JSON string, as Keycloak's CredentialRepresentation carries it: {"value": <base64 hash>, "salt": <base64 salt>, "additionalParameters": {}} */
  secretData: string;
  /** JSON string: {"hashIterations": n, "algorithm": "<provider id>", "additionalParameters": {...}} */
  credentialData: string;
}

export interface CarriedHash {
  scheme: LegacyHashScheme;
  /** The credential for a realm partial import, when Keycloak 26 verifies this hash natively; else undefined. */
  keycloak?: KeycloakPasswordCredential;
  /** The hash as Dovecot's passdb takes it, with its {SCHEME} prefix, when Dovecot 2.3 verifies it; else undefined. */
  dovecot?: string;
  /** Why a form is carried to neither (or to one only), for the import report: one short sentence. */
  note?: string;
}

const RESET_MAIL = "the account gets Keycloak's reset mail";

/** The schemes a Dovecot prefix may stand for. Names are case-insensitive in Dovecot 2.3 (`src/auth/password-scheme.c`, strcasecmp table). */
const PREFIX_SCHEMES: Record<string, readonly LegacyHashScheme[]> = {
  ARGON2ID: ["argon2id"],
  ARGON2I: ["argon2i"],
  "BLF-CRYPT": ["bcrypt"],
  "SHA512-CRYPT": ["sha512-crypt"],
  // Dovecot's CRYPT is the system's crypt(3): Debian 12's libxcrypt takes $6$ and $2b$/$2y$ alike.
  CRYPT: ["bcrypt", "sha512-crypt"],
};

/** The canonical prefix each carried scheme gets, whatever prefix (or none) the export had. */
const DOVECOT_PREFIX: Partial<Record<LegacyHashScheme, string>> = {
  argon2id: "{ARGON2ID}",
  argon2i: "{ARGON2I}",
  bcrypt: "{BLF-CRYPT}",
  "sha512-crypt": "{SHA512-CRYPT}",
};

/** Java's int, the type of every Keycloak parameter below (PasswordCredentialData, Argon2PasswordHashProvider). */
const JAVA_INT_MAX = 2 ** 31 - 1;

const unknown = (note: string): CarriedHash => ({ scheme: "unknown", note });

/** Bytes of standard base64, only if `text` is its canonical form (padded or, for PHC strings, not); else undefined. */
function base64Bytes(text: string, padded: boolean): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  const again = bytes.toString("base64");
  return (padded ? again : again.replace(/=+$/, "")) === text ? bytes : undefined;
}

/** A decimal integer without sign or leading zero, within [min, max]; else undefined. */
function integer(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^(0|[1-9][0-9]{0,9})$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/**
 * The two JSON strings as Keycloak writes them itself: `PasswordCredentialModel.createFromValues`
 * serialises PasswordSecretData and PasswordCredentialData by their getters (`value`, `salt` as
 * base64, `hashIterations`, `algorithm`, `additionalParameters`), keycloak/keycloak `server-spi/.../models/credential/`.
 */
const credential = (secret: object, data: object): KeycloakPasswordCredential => ({
  type: "password",
  secretData: JSON.stringify(secret),
  credentialData: JSON.stringify(data),
});

/**
 * Argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`, base64 without padding).
 * Keycloak 26 (keycloak/keycloak `crypto/default/src/main/java/org/keycloak/crypto/hash/Argon2PasswordHashProvider.java`,
 * `verify`): iterations from `hashIterations`; `type`, `version`, `hashLength`, `memory` (KiB) and
 * `parallelism` are each the first string of a list in `additionalParameters`; the salt is the
 * decoded `salt`, and the result, base64 with padding (`java.util.Base64`), must equal `value` as a
 * string. Types "id"/"i" and versions "1.3"/"1.0" are the names of `Argon2Parameters.java`.
 * Dovecot 2.3 hands the string to libsodium's crypto_pwhash_str_verify (dovecot/core 2.3.19
 * `src/auth/password-scheme-sodium.c`), which verifies version 1.3 (v=19) only.
 */
function argon2(body: string, scheme: "argon2id" | "argon2i"): CarriedHash {
  const m = /^\$argon2(id|i)\$(?:v=([0-9]+)\$)?m=([0-9]+),t=([0-9]+),p=([0-9]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(body);
  if (!m) return unknown(`Malformed ${scheme} string: not $${scheme}$[v=…$]m=…,t=…,p=…$<salt>$<hash>.`);
  // No v= is version 1.0, as the reference implementation reads it (P-H-C/phc-winner-argon2 src/encoding.c).
  const version = m[2] === undefined || m[2] === "16" ? "1.0" : m[2] === "19" ? "1.3" : undefined;
  const parallelism = integer(m[5], 1, 2 ** 24 - 1);
  const memory = integer(m[3], 8 * (parallelism ?? 1), JAVA_INT_MAX);
  const iterations = integer(m[4], 1, JAVA_INT_MAX);
  const salt = base64Bytes(m[6]!, false);
  const hash = base64Bytes(m[7]!, false);
  // Argon2's minimums: 8-byte salt, 4-byte tag, m >= 8p (RFC 9106 §3.1).
  if (version === undefined || parallelism === undefined || memory === undefined || iterations === undefined)
    return unknown(`Malformed ${scheme} string: a version or parameter Argon2 does not allow.`);
  if (salt === undefined || hash === undefined || salt.length < 8 || hash.length < 4)
    return unknown(`Malformed ${scheme} string: its salt or hash is not base64 of Argon2's lengths.`);
  const keycloak = credential(
    { value: hash.toString("base64"), salt: salt.toString("base64"), additionalParameters: {} },
    {
      hashIterations: iterations,
      algorithm: "argon2",
      additionalParameters: {
        hashLength: [String(hash.length)],
        memory: [String(memory)],
        type: [m[1]],
        version: [version],
        parallelism: [String(parallelism)],
      },
    },
  );
  if (version === "1.0")
    return { scheme, keycloak, note: "Argon2 version 1.0 goes to Keycloak only: Dovecot 2.3's libsodium verifies version 1.3 only." };
  return { scheme, keycloak, dovecot: `${DOVECOT_PREFIX[scheme]}${body}` };
}

/**
 * Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`: PBKDF2-HMAC-SHA256 of the password's
 * UTF-8 bytes with the salt text's UTF-8 bytes, a 32-byte key (django/django
 * `django/contrib/auth/hashers.py` PBKDF2PasswordHasher, `django/utils/crypto.py` pbkdf2's `force_bytes`).
 * Keycloak 26 (`server-spi-private/src/main/java/org/keycloak/credential/hash/Pbkdf2PasswordHashProvider.java`,
 * `verify`/`keySize`): the key length is the decoded `value`'s, so Django's 32 bytes verify; the salt
 * is base64 of its bytes (`PasswordSecretData.java`); iterations from `hashIterations`. Keycloak then
 * re-hashes at the first sign-in with the realm's policy (`policyCheck`).
 */
function djangoPbkdf2(body: string): CarriedHash {
  const m = /^pbkdf2_sha256\$([0-9]+)\$([^$]+)\$([A-Za-z0-9+/=]+)$/.exec(body);
  if (!m) return unknown("Malformed Django pbkdf2_sha256 string: not pbkdf2_sha256$<iterations>$<salt>$<hash>.");
  const iterations = integer(m[1], 1, JAVA_INT_MAX);
  const hash = base64Bytes(m[3]!, true);
  if (iterations === undefined) return unknown("Malformed Django pbkdf2_sha256 string: its iteration count is out of range.");
  if (hash === undefined || hash.length !== 32)
    return unknown("Malformed Django pbkdf2_sha256 string: its hash is not base64 of the 32 bytes SHA-256 gives.");
  return {
    scheme: "pbkdf2-sha256",
    keycloak: credential(
      { value: hash.toString("base64"), salt: Buffer.from(m[2]!, "utf8").toString("base64"), additionalParameters: {} },
      { hashIterations: iterations, algorithm: "pbkdf2-sha256", additionalParameters: {} },
    ),
    note: "Django's pbkdf2_sha256 goes to Keycloak only: Dovecot's {PBKDF2} is another format.",
  };
}

/**
 * bcrypt, `$2a$`/`$2b$`/`$2y$<cost>$<22 salt + 31 hash characters>`. Dovecot 2.3's BLF-CRYPT takes
 * these subtypes (dovecot/core 2.3.19 `src/auth/password-scheme-crypt.c` `crypt_verify_blowfish`,
 * `src/auth/crypt-blowfish.c`). Keycloak 26 has no bcrypt provider (docs/services/keycloak.md, Passwords).
 */
function bcrypt(body: string): CarriedHash {
  const m = /^\$2[aby]\$([0-9]{2})\$[./A-Za-z0-9]{53}$/.exec(body);
  if (!m || integer(m[1]!.replace(/^0/, ""), 4, 31) === undefined)
    return unknown("Malformed bcrypt string: not $2b$<cost 04-31>$<53 characters>.");
  return { scheme: "bcrypt", dovecot: `{BLF-CRYPT}${body}`, note: `Keycloak 26 cannot verify bcrypt: ${RESET_MAIL}.` };
}

/**
 * SHA-512 crypt, `$6$[rounds=N$]<salt, at most 16>$<86 characters>`, verified by the system's
 * crypt(3) under Dovecot 2.3's SHA512-CRYPT (`src/auth/password-scheme-crypt.c`). Keycloak 26 has no
 * such provider.
 */
function sha512Crypt(body: string): CarriedHash {
  const m = /^\$6\$(?:rounds=([0-9]+)\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$/.exec(body);
  if (!m || (m[1] !== undefined && integer(m[1], 1000, 999_999_999) === undefined))
    return unknown("Malformed SHA-512 crypt string: not $6$[rounds=N$]<salt>$<86 characters>.");
  return { scheme: "sha512-crypt", dovecot: `{SHA512-CRYPT}${body}`, note: `Keycloak 26 cannot verify SHA-512 crypt: ${RESET_MAIL}.` };
}

/** The scheme a hash's own form says, without a prefix; undefined when none of the export's forms. */
function schemeOf(body: string): LegacyHashScheme | undefined {
  if (body.startsWith("$argon2id$")) return "argon2id";
  if (body.startsWith("$argon2i$")) return "argon2i";
  if (body.startsWith("pbkdf2_sha256$")) return "pbkdf2-sha256";
  if (/^\$2[aby]\$/.test(body)) return "bcrypt";
  if (body.startsWith("$6$")) return "sha512-crypt";
  return undefined;
}

function classify(raw: unknown): CarriedHash {
  if (raw === null || raw === undefined) return { scheme: "empty", note: `No password in the export: ${RESET_MAIL}.` };
  if (typeof raw !== "string") return unknown("The export's password field is not text.");
  // A hash has no white space; an export's cell often ends with some.
  const text = raw.trim();
  if (text === "") return { scheme: "empty", note: `No password in the export: ${RESET_MAIL}.` };
  // No control character nor inner space: none of the forms has one, and a passdb line must not
  // break. Only a Django salt may be other than ASCII (each form's pattern below is strict).
  if (text.length > 1024 || /[\s\p{Cc}\p{Cs}]/u.test(text)) return unknown("Not a password hash: control characters, spaces or too long.");

  let body = text;
  let allowed: readonly LegacyHashScheme[] | undefined;
  const prefix = /^\{([^}]*)\}/.exec(text);
  if (prefix) {
    allowed = PREFIX_SCHEMES[prefix[1]!.toUpperCase()];
    if (allowed === undefined) return unknown("A Dovecot scheme prefix that is none of the export's forms.");
    body = text.slice(prefix[0].length);
    if (body === "") return unknown("A Dovecot scheme prefix with no hash after it.");
  } else if (text.startsWith("{")) {
    return unknown("An unterminated Dovecot scheme prefix.");
  }

  const scheme = schemeOf(body);
  if (scheme === undefined) return unknown("Not one of the export's hash forms.");
  if (allowed !== undefined && !allowed.includes(scheme))
    return unknown(`Its Dovecot scheme prefix does not match the ${scheme} hash that follows.`);
  switch (scheme) {
    case "argon2id":
    case "argon2i":
      return argon2(body, scheme);
    case "pbkdf2-sha256":
      return djangoPbkdf2(body);
    case "bcrypt":
      return bcrypt(body);
    default:
      return sha512Crypt(body);
  }
}

/** Classifies one hash of the export and carries it where it verifies natively. Never throws. */
export function classifyLegacyHash(raw: string): CarriedHash {
  try {
    return classify(raw);
  } catch {
    // Nothing above should throw; an input no branch foresaw is still only "unknown".
    return unknown("Not a password hash this import can read.");
  }
}
