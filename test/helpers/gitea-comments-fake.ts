/**
 * A fake of the part of Gitea's (and Forgejo's) REST API that npm run post-summary uses, following
 * go-gitea/gitea's source:
 * - the API is served under /api/v1 (routers/api/v1/api.go `Routes`);
 * - a token comes as `Authorization: token <t>` (or `bearer`); a route under reqToken() answers
 *   401 without a valid one (services/auth/oauth2.go, routers/api/v1/api.go reqToken);
 * - `GET /user` is the token's user (routers/api/v1/user/user.go GetAuthenticatedUser);
 * - `GET /repos/{owner}/{repo}/issues/{index}/comments` lists every plain comment at once, with no
 *   paging (page and limit are not read), and sets X-Total-Count; a missing issue is an internal
 *   error (routers/api/v1/repo/issue_comment.go ListIssueComments);
 * - `POST` there creates a comment, 201 with the Comment; an empty body fails the binding
 *   (`binding:"Required"`, modules/structs/issue_comment.go CreateIssueCommentOption), 422;
 * - `PATCH /repos/{owner}/{repo}/issues/comments/{id}` edits one: 404 when it does not exist or
 *   belongs to another repository, 403 when the token's user is not its poster and cannot write
 *   the repository's issues, else 200 with the Comment (issue_comment.go editIssueComment);
 * - no length limit is checked on a body: the column is LONGTEXT (models/issues/comment.go).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeComment {
  id: number;
  issue: number;
  repo: string;
  body: string;
  user: { id: number; login: string };
}

export interface GiteaFake {
  /** The API root, http://127.0.0.1:<port>/api/v1. */
  url: string;
  comments: FakeComment[];
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startGiteaFake(options: {
  users: Record<string, { id: number; login: string }>; // by token
  repos: Record<string, number[]>; // owner/name → issue indexes
  writers?: readonly string[]; // logins that may write every repository's issues
  comments?: Omit<FakeComment, "id">[];
}): Promise<GiteaFake> {
  const comments: FakeComment[] = (options.comments ?? []).map((c, i) => ({ ...c, id: i + 1 }));
  let nextId = comments.length + 1;
  const requests: GiteaFake["requests"] = [];
  const view = (c: FakeComment) => ({ id: c.id, body: c.body, user: c.user, html_url: "", created_at: "", updated_at: "" });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    requests.push({ method: req.method ?? "", path: url.pathname });
    let raw = "";
    req.on("data", (d: Buffer) => {
      raw += d.toString("utf8");
    });
    req.on("end", () => {
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "Content-Type": "application/json;charset=utf-8", ...headers });
        res.end(body === undefined ? "" : JSON.stringify(body));
      };
      const auth = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? "");
      const user = auth ? options.users[auth[1]!] : undefined;
      if (!user) return send(401, { message: "token is required" });
      const path = url.pathname;
      if (req.method === "GET" && path === "/api/v1/user") return send(200, user);
      const list = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path);
      const edit = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(path);
      const repoOf = (m: RegExpExecArray) => `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      if (list) {
        const repo = repoOf(list);
        const issue = Number(list[3]);
        if (!options.repos[repo]) return send(404, { message: "repository not found" });
        if (!options.repos[repo]!.includes(issue)) return send(500, { message: "issue does not exist" });
        if (req.method === "GET") {
          const found = comments.filter((c) => c.repo === repo && c.issue === issue);
          return send(200, found.map(view), { "X-Total-Count": String(found.length) });
        }
        if (req.method === "POST") {
          const body = (JSON.parse(raw || "{}") as { body?: unknown }).body;
          if (typeof body !== "string" || body === "") return send(422, { message: "Body: Required" });
          const c: FakeComment = { id: nextId++, issue, repo, body, user };
          comments.push(c);
          return send(201, view(c));
        }
      }
      if (edit && req.method === "PATCH") {
        const c = comments.find((x) => x.id === Number(edit[3]));
        if (!c) return send(404, { message: "comment does not exist" });
        if (c.repo !== repoOf(edit)) return send(404);
        if (c.user.id !== user.id && !(options.writers ?? []).includes(user.login)) return send(403);
        const body = (JSON.parse(raw || "{}") as { body?: unknown }).body;
        if (typeof body !== "string" || body === "") return send(422, { message: "Body: Required" });
        c.body = body;
        return send(200, view(c));
      }
      return send(404, { message: "not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    comments,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
