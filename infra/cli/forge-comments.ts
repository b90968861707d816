import { COMMENT_LIMIT } from "../plan/plan-summary";

/**
 * The pull request's summary as one comment of the forge, through its REST API (docs/pipeline.md
 * "Posting the summary"). Forgejo and Gitea (go-gitea/gitea routers/api/v1/api.go,
 * routers/api/v1/repo/issue_comment.go) and GitHub share these routes: `GET /user`,
 * `GET|POST /repos/{owner}/{repo}/issues/{index}/comments`, `PATCH
 * /repos/{owner}/{repo}/issues/comments/{id}`, with `Authorization: token <token>`. The comment is
 * found again by a hidden marker line, so a re-run edits it instead of adding one.
 */

export const SUMMARY_MARKER = "<!-- alacarte-summary -->";

export interface ForgeSettings {
  /** The API's root: https://<forgejo>/api/v1, or https://api.github.com. */
  apiUrl: string;
  /** owner/name. */
  repository: string;
  token: string;
}

/** What the forge answered that the command did not expect: its status and route, never the token. */
export class ForgeError extends Error {}

interface ForgeComment {
  id: number;
  body: string;
  user?: { login?: string };
}

/** Pure: the comment's body: the marker, then the summary, cut to the comment's limit. */
export function commentBody(summary: string, limit = COMMENT_LIMIT): string {
  const body = `${SUMMARY_MARKER}\n${summary}`;
  return body.length <= limit ? body : `${body.slice(0, limit - 40)}\n\n… (cut at the comment's limit)\n`;
}

export async function postSummary(
  settings: ForgeSettings,
  pr: number,
  summary: string,
  fetchImpl: typeof fetch = fetch,
): Promise<{ action: "created" | "edited"; id: number }> {
  const api = settings.apiUrl.replace(/\/+$/, "");
  const [owner, name] = settings.repository.split("/");
  const repo = `${api}/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(name!)}`;
  const call = async (method: string, url: string, body?: unknown): Promise<unknown> => {
    const response = await fetchImpl(url, {
      method,
      headers: {
        Authorization: `token ${settings.token}`,
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new ForgeError(`the forge answered ${response.status} to ${method} ${new URL(url).pathname}`);
    return response.status === 204 ? undefined : response.json();
  };
  const me = ((await call("GET", `${api}/user`)) as { login?: string }).login;
  // GitHub pages by per_page (at most 100) and page; Gitea's list of an issue's comments has no
  // paging and gives them all at once (issue_comment.go ListIssueComments): stop at a short page
  // or at a page that brings nothing new.
  const mine: ForgeComment[] = [];
  const seen = new Set<number>();
  for (let page = 1; ; page++) {
    const list = (await call("GET", `${repo}/issues/${pr}/comments?per_page=100&page=${page}`)) as ForgeComment[];
    const fresh = list.filter((c) => !seen.has(c.id));
    for (const c of fresh) {
      seen.add(c.id);
      if (c.user?.login === me && c.body.split("\n")[0]!.trim() === SUMMARY_MARKER) mine.push(c);
    }
    if (list.length < 100 || fresh.length === 0) break;
  }
  const body = commentBody(summary);
  const existing = mine[0];
  if (existing) {
    await call("PATCH", `${repo}/issues/comments/${existing.id}`, { body });
    return { action: "edited", id: existing.id };
  }
  const created = (await call("POST", `${repo}/issues/${pr}/comments`, { body })) as ForgeComment;
  return { action: "created", id: created.id };
}
