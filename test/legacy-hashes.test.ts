/**
 * How infra/model/legacy-hashes.ts classifies the export's hashes, each made here at test time by
 * an independent tool: Debian's argon2 (the reference implementation), mkpasswd (libxcrypt),
 * doveadm pw (Dovecot's own), and Python's hashlib for Django's form. Whether the carried values
 * verify is test/legacy-hashes-verify.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyLegacyHash } from "../infra/model/legacy-hashes";
import { needTools } from "./helpers/debian-tools";
import { djangoHash, run } from "./helpers/hash-fixtures";

/** `echo -n pw | argon2 salt <args>`: the encoded PHC string, or with raw, the hash's hex. */
const argon2Cli = (password: string, salt: string, args: string[]) => run("argon2", [salt, ...args], password);

const json = (s: string | undefined) => JSON.parse(s ?? "null") as Record<string, unknown>;

describe("classifyLegacyHash: Argon2 PHC strings", () => {
  needTools("argon2", "doveadm");

  it("makes Keycloak's argon2 credential from the string's own parameters, salt and hash", () => {
    const args = ["-id", "-t", "3", "-k", "4096", "-p", "2", "-l", "24"];
    const encoded = argon2Cli("correct horse", "saltsalt1", [...args, "-e"]);
    const rawHex = argon2Cli("correct horse", "saltsalt1", [...args, "-r"]);
    const carried = classifyLegacyHash(encoded);
    expect(carried.scheme).toBe("argon2id");
    expect(carried.keycloak?.type).toBe("password");
    expect(json(carried.keycloak?.secretData)).toEqual({
      value: Buffer.from(rawHex, "hex").toString("base64"),
      salt: Buffer.from("saltsalt1").toString("base64"),
      additionalParameters: {},
    });
    expect(json(carried.keycloak?.credentialData)).toEqual({
      hashIterations: 3,
      algorithm: "argon2",
      additionalParameters: { hashLength: ["24"], memory: ["4096"], type: ["id"], version: ["1.3"], parallelism: ["2"] },
    });
    expect(carried.dovecot).toBe(`{ARGON2ID}${encoded}`);
    expect(carried.note).toBeUndefined();
  });

  it("tells argon2i from argon2id, with or without Dovecot's prefix", () => {
    const i = argon2Cli("pw", "saltsalt", ["-i", "-e"]);
    expect(classifyLegacyHash(i).scheme).toBe("argon2i");
    expect(json(classifyLegacyHash(i).keycloak?.credentialData).additionalParameters).toMatchObject({ type: ["i"] });
    expect(classifyLegacyHash(i).dovecot).toBe(`{ARGON2I}${i}`);
    for (const scheme of ["ARGON2ID", "ARGON2I"]) {
      const dove = run("doveadm", ["pw", "-s", scheme, "-p", "pw"]);
      const carried = classifyLegacyHash(dove);
      expect(carried.scheme).toBe(scheme.toLowerCase());
      expect(carried.dovecot).toBe(dove);
      expect(carried.keycloak).toBeDefined();
    }
    // Dovecot's scheme names are case-insensitive (src/auth/password-scheme.c): the value gets the canonical one.
    expect(classifyLegacyHash(`{argon2id}${argon2Cli("pw", "saltsalt", ["-id", "-e"])}`).dovecot).toMatch(/^\{ARGON2ID\}\$argon2id\$/);
  });

  it("carries Argon2 version 1.0 to Keycloak only, with a note, as v=16 or with no v= at all", () => {
    const v10 = argon2Cli("pw", "saltsalt", ["-id", "-v", "10", "-e"]);
    expect(v10).toMatch(/^\$argon2id\$v=16\$/);
    for (const form of [v10, v10.replace("$v=16$", "$")]) {
      const carried = classifyLegacyHash(form);
      expect(carried.scheme).toBe("argon2id");
      expect(json(carried.keycloak?.credentialData).additionalParameters).toMatchObject({ version: ["1.0"] });
      expect(carried.dovecot).toBeUndefined();
      expect(carried.note).toMatch(/version 1\.0.*Dovecot/);
    }
  });

  it("refuses a malformed Argon2 string as unknown", () => {
    const good = argon2Cli("pw", "saltsalt", ["-id", "-e"]);
    for (const bad of [
      good.replace("$v=19$", "$v=18$"),
      good.replace("t=3", "t=0"),
      good.replace("m=4096", "m=4"),
      good.replace(/\$[^$]+$/, "$"),
      `${good}=`,
      good.replace(/\$[^$]+\$([^$]+)$/, "$c2FsdA$$$1"), // a 4-byte salt
    ]) {
      const carried = classifyLegacyHash(bad);
      expect({ bad, scheme: carried.scheme, keycloak: carried.keycloak, dovecot: carried.dovecot }).toEqual({
        bad,
        scheme: "unknown",
        keycloak: undefined,
        dovecot: undefined,
      });
      expect(carried.note).toMatch(/^Malformed argon2id string/);
    }
  });
});

describe("classifyLegacyHash: Django's pbkdf2_sha256", () => {
  needTools("python3");

  it("gives Keycloak the iterations, the salt's UTF-8 bytes and the hash, and Dovecot nothing", () => {
    for (const salt of ["Zy5vTn3kQw8L", "sél-ïn"]) {
      const encoded = djangoHash("lètmein", salt, 1000);
      const hash = encoded.split("$")[3]!;
      const carried = classifyLegacyHash(encoded);
      expect(carried.scheme).toBe("pbkdf2-sha256");
      expect(json(carried.keycloak?.secretData)).toEqual({
        value: hash,
        salt: Buffer.from(salt, "utf8").toString("base64"),
        additionalParameters: {},
      });
      expect(json(carried.keycloak?.credentialData)).toEqual({
        hashIterations: 1000,
        algorithm: "pbkdf2-sha256",
        additionalParameters: {},
      });
      expect(carried.dovecot).toBeUndefined();
      expect(carried.note).toMatch(/Keycloak only.*\{PBKDF2\}/);
    }
  });

  it("refuses a Django string whose hash is not 32 bytes, or whose iterations are not a count", () => {
    const encoded = djangoHash("pw", "abc", 10);
    const [, , salt, hash] = encoded.split("$");
    for (const bad of [
      `pbkdf2_sha256$10$${salt}$${hash!.slice(0, 40)}`,
      `pbkdf2_sha256$0$${salt}$${hash}`,
      `pbkdf2_sha256$x$${salt}$${hash}`,
    ]) {
      const carried = classifyLegacyHash(bad);
      expect([carried.scheme, carried.keycloak, carried.dovecot]).toEqual(["unknown", undefined, undefined]);
    }
    // Dovecot's {PBKDF2} is another format: a Django hash behind it is a mismatch.
    expect(classifyLegacyHash(`{PBKDF2}${encoded}`).scheme).toBe("unknown");
  });
});

describe("classifyLegacyHash: bcrypt and SHA-512 crypt", () => {
  needTools("mkpasswd", "doveadm");

  it("carries bcrypt ($2y$ from doveadm, $2b$ and $2a$ from libxcrypt) to Dovecot's BLF-CRYPT only", () => {
    const dove = run("doveadm", ["pw", "-s", "BLF-CRYPT", "-p", "pw"]);
    const forms = [dove, run("mkpasswd", ["-m", "bcrypt", "pw"]), run("mkpasswd", ["-m", "bcrypt-a", "pw"])];
    expect(forms.map((f) => f.replace(/^\{BLF-CRYPT\}/, "").slice(0, 4))).toEqual(["$2y$", "$2b$", "$2a$"]);
    for (const form of forms) {
      const carried = classifyLegacyHash(form);
      expect(carried.scheme).toBe("bcrypt");
      expect(carried.keycloak).toBeUndefined();
      expect(carried.dovecot).toBe(form.startsWith("{") ? form : `{BLF-CRYPT}${form}`);
      expect(carried.note).toMatch(/Keycloak 26 cannot verify bcrypt: the account gets Keycloak's reset mail/);
    }
  });

  it("carries SHA-512 crypt (mkpasswd, with and without rounds, and doveadm's) to Dovecot's SHA512-CRYPT only", () => {
    const forms = [
      run("mkpasswd", ["-m", "sha-512", "pw"]),
      run("mkpasswd", ["-m", "sha-512", "-R", "10000", "pw"]),
      run("doveadm", ["pw", "-s", "SHA512-CRYPT", "-p", "pw"]),
    ];
    for (const form of forms) {
      const carried = classifyLegacyHash(form);
      expect(carried.scheme).toBe("sha512-crypt");
      expect(carried.keycloak).toBeUndefined();
      expect(carried.dovecot).toBe(form.startsWith("{") ? form : `{SHA512-CRYPT}${form}`);
      expect(carried.note).toMatch(/Keycloak 26 cannot verify SHA-512 crypt: the account gets Keycloak's reset mail/);
    }
    // {CRYPT} is the system's crypt(3), which takes both: the value gets the scheme's own prefix.
    expect(classifyLegacyHash(`{CRYPT}${forms[0]}`).dovecot).toBe(`{SHA512-CRYPT}${forms[0]}`);
  });
});

describe("classifyLegacyHash: prefixes that disagree, empty fields, garbage", () => {
  needTools("argon2", "mkpasswd", "doveadm", "python3");

  it("calls a prefix that disagrees with its hash unknown, with a note, and carries nothing", () => {
    const argon2id = argon2Cli("pw", "saltsalt", ["-id", "-e"]);
    const argon2i = argon2Cli("pw", "saltsalt", ["-i", "-e"]);
    const sha512 = run("mkpasswd", ["-m", "sha-512", "pw"]);
    const bcrypt = run("mkpasswd", ["-m", "bcrypt", "pw"]);
    const django = djangoHash("pw", "salt", 10);
    for (const mismatch of [
      `{ARGON2I}${argon2id}`,
      `{ARGON2ID}${argon2i}`,
      `{BLF-CRYPT}${sha512}`,
      `{SHA512-CRYPT}${bcrypt}`,
      `{SHA512-CRYPT}${django}`,
      `{CRYPT}${argon2id}`,
    ]) {
      const carried = classifyLegacyHash(mismatch);
      expect({ mismatch, carried }).toEqual({
        mismatch,
        carried: { scheme: "unknown", note: expect.stringMatching(/prefix does not match/) },
      });
    }
  });

  it("calls a missing password empty, with the reset mail in its note", () => {
    for (const empty of ["", "   ", "\n", null, undefined]) {
      expect(classifyLegacyHash(empty as string)).toEqual({
        scheme: "empty",
        note: "No password in the export: the account gets Keycloak's reset mail.",
      });
    }
  });

  it("calls garbage, other schemes and prefixes without a hash unknown", () => {
    const yescrypt = run("mkpasswd", ["-m", "yescrypt", "pw"]);
    const plain = run("doveadm", ["pw", "-s", "PLAIN", "-p", "pw"]);
    const ssha = run("doveadm", ["pw", "-s", "SSHA512", "-p", "pw"]);
    const argon2d = argon2Cli("pw", "saltsalt", ["-d", "-e"]);
    for (const garbage of [
      yescrypt,
      plain,
      ssha,
      argon2d,
      "hunter2",
      "{ARGON2ID}",
      "{SHA512-CRYPT",
      "$6$",
      "$2y$10$short",
      "pbkdf2_sha256$",
      42,
      {},
    ]) {
      const carried = classifyLegacyHash(garbage as string);
      expect({ garbage, scheme: carried.scheme, keycloak: carried.keycloak, dovecot: carried.dovecot }).toEqual({
        garbage,
        scheme: "unknown",
        keycloak: undefined,
        dovecot: undefined,
      });
      expect(carried.note).toMatch(/^[A-Z].*\.$/);
    }
  });

  it("never throws, and its note never quotes the input", () => {
    const fragments = fc.constantFrom(
      "$argon2id$",
      "$argon2i$",
      "v=19$",
      "m=65536,t=3,p=1$",
      "pbkdf2_sha256$",
      "$2y$10$",
      "$6$",
      "rounds=5000$",
      "{ARGON2ID}",
      "{CRYPT}",
      "{",
      "}",
      "$",
      "=",
      "c2FsdHNhbHQ",
    );
    const text = fc.oneof(
      fc.string({ unit: "grapheme" }),
      fc.array(fc.oneof(fragments, fc.string()), { maxLength: 8 }).map((a) => a.join("")),
    );
    // A salt- or hash-like token somewhere in the input: the note must not echo it.
    const token = fc.stringMatching(/^[A-Za-z0-9+/]{12,20}$/);
    const input = fc.tuple(text, token, text).map(([a, t, b]) => ({ raw: `${a}${t}${b}`, token: t }));
    fc.assert(
      fc.property(
        fc.oneof(
          text.map((raw) => ({ raw, token: undefined })),
          input,
        ),
        ({ raw, token }) => {
          const carried = classifyLegacyHash(raw);
          expect(["argon2id", "argon2i", "pbkdf2-sha256", "bcrypt", "sha512-crypt", "empty", "unknown"]).toContain(carried.scheme);
          if (token !== undefined) expect(carried.note ?? "").not.toContain(token);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
