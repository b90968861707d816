/**
 * npm run post-summary, started as CI starts it (node infra/cli/launch.cjs post-summary), against
 * a fake of Gitea's comment routes (test/helpers/gitea-comments-fake.ts): the first run posts a
 * comment with the hidden marker, a re-run edits that same comment, another user's comment with the
 * marker is left alone, a long summary is cut to the comment's limit, and a missing variable or a
 * refused token says so in one line without the token.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUMMARY_MARKER } from "../infra/cli/forge-comments";
import { COMMENT_LIMIT } from "../infra/plan/plan-summary";
import { type GiteaFake, startGiteaFake } from "./helpers/gitea-comments-fake";
import { runProcess } from "./helpers/run-process";

const ROOT = path.resolve(__dirname, "..");
const TOKEN = "ci-token-0123456789abcdef";
let fake: GiteaFake;
let dir = "";

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-post-summary-"));
  fake = await startGiteaFake({
    users: { [TOKEN]: { id: 7, login: "alacarte-ci" }, other: { id: 8, login: "camille" } },
    repos: { "association/alacarte": [12, 13] },
    writers: ["alacarte-ci"],
    comments: [
      { issue: 12, repo: "association/alacarte", body: "Looks good to me", user: { id: 8, login: "camille" } },
      // Someone quoting the flow's comment, marker included: not the flow's to edit.
      { issue: 12, repo: "association/alacarte", body: `${SUMMARY_MARKER}\nquoted`, user: { id: 8, login: "camille" } },
    ],
  });
});
afterAll(async () => {
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function post(summary: string, pr: string, env: Record<string, string | undefined> = {}) {
  const file = path.join(dir, "summary.md");
  fs.writeFileSync(file, summary);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    FORGE_API_URL: fake.url,
    FORGE_REPOSITORY: "association/alacarte",
    FORGE_TOKEN: TOKEN,
    ...env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return runProcess(process.execPath, [path.join(ROOT, "infra", "cli", "launch.cjs"), "post-summary", "--file", file, "--pr", pr], {
    cwd: ROOT,
    env: childEnv,
  });
}

describe("npm run post-summary against Gitea's comment routes", () => {
  it("posts the summary once, then edits the same comment on a re-run", async () => {
    const first = await post("## What this change does\n\n1 stack(s) touched\n", "12");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const mine = fake.comments.filter((c) => c.user.login === "alacarte-ci");
    expect(mine).toHaveLength(1);
    expect(first.stdout.trim()).toBe(`summary created as comment ${mine[0]!.id} of pull request 12`);
    expect(mine[0]!.body).toBe(`${SUMMARY_MARKER}\n## What this change does\n\n1 stack(s) touched\n`);

    const second = await post("## What this change does\n\n2 stack(s) touched\n", "12");
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(`summary edited as comment ${mine[0]!.id} of pull request 12`);
    expect(fake.comments.filter((c) => c.issue === 12)).toHaveLength(3);
    expect(mine[0]!.body).toContain("2 stack(s) touched");
    // The other user's quote is untouched.
    expect(fake.comments[1]!.body).toBe(`${SUMMARY_MARKER}\nquoted`);
    expect(fake.requests.filter((r) => r.method === "PATCH").map((r) => r.path)).toEqual([
      `/api/v1/repos/association/alacarte/issues/comments/${mine[0]!.id}`,
    ]);
  }, 120_000);

  it("cuts a summary past the comment's limit", async () => {
    const run = await post(`${"- update `command:remote:Command` `x`\n".repeat(3000)}`, "13");
    expect(run.code).toBe(0);
    const c = fake.comments.find((x) => x.issue === 13)!;
    expect(c.body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(c.body).toMatch(/… \(cut at the comment's limit\)\n$/);
  }, 60_000);

  it("says in one line what is missing or refused, never the token", async () => {
    const missing = await post("x", "12", { FORGE_TOKEN: undefined });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("FORGE_TOKEN is not set (docs/pipeline.md#posting-the-summary)");
    const refused = await post("x", "12", { FORGE_TOKEN: "wrong-token-value" });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe("the forge answered 401 to GET /api/v1/user");
    const badPr = await post("x", "twelve");
    expect(badPr.code).toBe(2);
    expect(badPr.stderr.trim()).toBe('--pr must be a pull request\'s number, not "twelve"');
    for (const r of [missing, refused, badPr]) expect(r.stdout + r.stderr).not.toContain("wrong-token-value");
  }, 60_000);
});
