/**
 * Whether what infra/model/legacy-hashes.ts carries verifies where it goes: every Dovecot value by
 * Dovecot's own `doveadm pw -t`, every Keycloak credential by test/helpers/keycloak-password-verifier.ts
 * (Keycloak 26's pbkdf2 and argon2 rules, on Node's crypto and Debian's argon2). The right password
 * passes, a wrong one fails. Fixtures are made at test time by independent tools, plus published
 * vectors with known passwords.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type CarriedHash, classifyLegacyHash } from "../infra/model/legacy-hashes";
import { needTools, requireTool } from "./helpers/debian-tools";
import { djangoHash, run } from "./helpers/hash-fixtures";
import { keycloakVerifies } from "./helpers/keycloak-password-verifier";

/** Dovecot 2.3's verdict: `doveadm pw -t` exits 0 when the password matches the {SCHEME}-prefixed hash. */
const dovecotVerifies = (value: string, password: string) =>
  spawnSync(requireTool("doveadm"), ["pw", "-t", value, "-p", password], { encoding: "utf8" }).status === 0;

const PASSWORD = "Grüße, vélo 2019!";
const WRONG = "Grüße, vélo 2019?";

/** A doveadm Argon2 hash whose salt the argon2 tool can take as an argument (no NUL byte: libsodium's salts are random). */
function doveadmArgon2(scheme: "ARGON2ID" | "ARGON2I", password: string): string {
  for (let i = 0; i < 50; i++) {
    const hash = run("doveadm", ["pw", "-s", scheme, "-p", password]);
    const salt = Buffer.from(hash.split("$")[4]!, "base64");
    if (!salt.includes(0)) return hash;
  }
  throw new Error("doveadm gave a salt with a NUL byte fifty times");
}

function expectBoth(carried: CarriedHash, password: string, wrong: string, where: { keycloak: boolean; dovecot: boolean }) {
  expect({ keycloak: carried.keycloak !== undefined, dovecot: carried.dovecot !== undefined }).toEqual(where);
  if (carried.keycloak) {
    expect(keycloakVerifies(password, carried.keycloak)).toBe(true);
    expect(keycloakVerifies(wrong, carried.keycloak)).toBe(false);
  }
  if (carried.dovecot) {
    expect(dovecotVerifies(carried.dovecot, password)).toBe(true);
    expect(dovecotVerifies(carried.dovecot, wrong)).toBe(false);
  }
}

describe("Argon2: Keycloak's credential and Dovecot's value both verify", () => {
  needTools("argon2", "bash", "doveadm");

  it("argon2id and argon2i from Debian's argon2, with several parameters", () => {
    for (const args of [
      ["-id"],
      ["-i"],
      ["-id", "-t", "2", "-k", "8192", "-p", "4", "-l", "16"],
      ["-i", "-t", "4", "-m", "10", "-p", "2", "-l", "40"],
    ]) {
      const encoded = run("argon2", ["migrationsalt", ...args, "-e"], PASSWORD);
      const carried = classifyLegacyHash(encoded);
      expect(carried.scheme).toBe(args[0] === "-id" ? "argon2id" : "argon2i");
      expectBoth(carried, PASSWORD, WRONG, { keycloak: true, dovecot: true });
    }
  });

  it("argon2id and argon2i from doveadm (libsodium), prefix and random salt included", () => {
    for (const scheme of ["ARGON2ID", "ARGON2I"] as const) {
      const carried = classifyLegacyHash(doveadmArgon2(scheme, PASSWORD));
      expectBoth(carried, PASSWORD, WRONG, { keycloak: true, dovecot: true });
    }
  });

  it("version 1.0 verifies in Keycloak, and Dovecot would indeed refuse it", () => {
    const encoded = run("argon2", ["migrationsalt", "-id", "-v", "10", "-e"], PASSWORD);
    const carried = classifyLegacyHash(encoded);
    expectBoth(carried, PASSWORD, WRONG, { keycloak: true, dovecot: false });
    expect(dovecotVerifies(`{ARGON2ID}${encoded}`, PASSWORD)).toBe(false);
  });

  // Keycloak's own tests carry no fixed Argon2 or PBKDF2 hash with a known password (their
  // PasswordHashingTest hashes a random one at run time): these published vectors stand in.
  it('the reference implementation\'s vectors (P-H-C/phc-winner-argon2 src/test.c): password "password", salt "somesalt"', () => {
    for (const vector of [
      "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
      "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ", // version 1.0 has no v=
    ]) {
      const carried = classifyLegacyHash(vector);
      expectBoth(carried, "password", "passwore", { keycloak: true, dovecot: vector.includes("$v=19$") });
    }
  });
});

describe("Django's pbkdf2_sha256: Keycloak's credential verifies", () => {
  needTools("python3");

  it("hashes made by Python's hashlib, ASCII and UTF-8 salts, Django's iteration counts", () => {
    for (const [salt, iterations] of [
      ["Zy5vTn3kQw8L", 36000],
      ["sél-ïn", 1000],
      ["a", 1],
    ] as const) {
      const carried = classifyLegacyHash(djangoHash(PASSWORD, salt, iterations));
      expectBoth(carried, PASSWORD, WRONG, { keycloak: true, dovecot: false });
    }
  });

  it("a short password verifies with or without Keycloak's NUL padding up to 64 characters (max-padding-length)", () => {
    const carried = classifyLegacyHash(djangoHash("short", "salt", 1000));
    // HMAC pads its key with NULs to SHA-256's 64-byte block, so padding within it changes nothing
    // (AbstractPbkdf2PasswordHashProviderFactory.java); past 64 the hash differs.
    expect(keycloakVerifies("short", carried.keycloak!, { maxPaddingLength: 14 })).toBe(true);
    expect(keycloakVerifies("short", carried.keycloak!, { maxPaddingLength: 65 })).toBe(false);
  });

  it("Django's own vector (django/django tests/auth_tests/test_hashers.py test_pbkdf2, Django 4.2)", () => {
    const carried = classifyLegacyHash("pbkdf2_sha256$600000$seasalt$OAXyhAQ/4ZDA9V5RMExt3C1OwQdUpLZ99vm1McFlLRA=");
    expectBoth(carried, "lètmein", "lètmeinz", { keycloak: true, dovecot: false });
  });
});

describe("bcrypt and SHA-512 crypt: Dovecot's value verifies, Keycloak gets nothing", () => {
  needTools("doveadm", "mkpasswd");

  it("bcrypt $2y$ (doveadm), $2b$ and $2a$ (libxcrypt)", () => {
    for (const hash of [
      run("doveadm", ["pw", "-s", "BLF-CRYPT", "-p", PASSWORD]),
      run("mkpasswd", ["-m", "bcrypt", "--stdin"], PASSWORD),
      run("mkpasswd", ["-m", "bcrypt-a", "--stdin"], PASSWORD),
    ]) {
      expectBoth(classifyLegacyHash(hash), PASSWORD, WRONG, { keycloak: false, dovecot: true });
    }
  });

  it("SHA-512 crypt from mkpasswd (default rounds and rounds=N) and doveadm", () => {
    for (const hash of [
      run("mkpasswd", ["-m", "sha-512", "--stdin"], PASSWORD),
      run("mkpasswd", ["-m", "sha-512", "-R", "20000", "--stdin"], PASSWORD),
      run("doveadm", ["pw", "-s", "SHA512-CRYPT", "-p", PASSWORD]),
    ]) {
      expectBoth(classifyLegacyHash(hash), PASSWORD, WRONG, { keycloak: false, dovecot: true });
    }
  });
});
