/**
 * The two clients of the Garage fake (test/helpers/garage-fake.ts) the site's tests use: the site's
 * provisioning script run with dash as the storage host runs it, and the S3 client a tenant
 * configures to upload (docs/operations.md "Uploading a static site").
 */
import { execFile } from "node:child_process";
import { S3Client, type S3ServiceException } from "@aws-sdk/client-s3";
import { garageSiteScript, staticSitePlan } from "../../components/tenant/static-site-config";
import { requireTool } from "./debian-tools";
import type { GarageFake } from "./garage-fake";

export interface ScriptRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a script with dash (POSIX sh), the input on stdin only, with an empty environment but PATH. */
export function runScript(script: string, stdin: string): Promise<ScriptRun> {
  // Fails at once, in one line, when dash is missing (test/helpers/debian-tools.ts).
  requireTool("dash");
  return new Promise((resolve) => {
    const child = execFile("dash", ["-c", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
    );
    child.stdin?.end(stdin);
  });
}

/** The site's script for a tenant against the fake's admin API, the admin token on stdin. */
export function provisionSite(fake: GarageFake, token: string, slug: string, domains: string[], gb: number): Promise<ScriptRun> {
  return runScript(garageSiteScript(staticSitePlan(slug, domains, gb), fake.adminUrl), `${token}\n`);
}

export type UploadKey = { accessKeyId: string; secretAccessKey: string };

/** An S3 client of the fake: path-style, one attempt, the given key and region (Garage's s3_region by default). */
export function s3Client(fake: GarageFake, key: UploadKey, region: string = fake.region): S3Client {
  return new S3Client({ endpoint: fake.s3Url, region, forcePathStyle: true, credentials: key, maxAttempts: 1 });
}

/** The S3 error Garage answers: the SDK's exception name is the XML Code. */
export async function s3Error(p: Promise<unknown>): Promise<{ status: number | undefined; code: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as S3ServiceException;
    return { status: err.$metadata?.httpStatusCode, code: err.name };
  }
  throw new Error("expected the S3 call to fail");
}
