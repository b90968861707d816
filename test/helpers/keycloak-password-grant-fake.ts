/**
 * An in-process fake of a Keycloak realm's token endpoint for the password grant (what Dovecot's
 * oauth2 passdb sends, images/mail/dovecot/keycloak-grant.conf.ext) and of its token introspection,
 * on a 127.0.0.1 listener. It follows Keycloak 26's rules, each citing the file it comes from
 * (keycloak/keycloak, paths from `services/src/main/java/org/keycloak/`), and the realm's own
 * direct-grant flow as this program builds it (components/blocks/sign-in-steps.ts
 * `directGrantSignInSteps` then the gate's `roleGateSteps`), in that order.
 *
 * Not emulated (answered 501 or refused, never accepted silently): other grants, client
 * authentication other than client_secret_post and HTTP basic, refresh tokens, the brute-force
 * lockout itself (failures are only counted, `failures`), a `totp` parameter (Dovecot never sends one).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface PasswordGrantAccount {
  username: string;
  email: string;
  password: string;
  /** Realm roles, inherited ones included (a role mapped on a parent group counts). */
  roles: string[];
  /** A one-time-code credential is configured. */
  otpConfigured?: boolean;
  /** In a group whose attribute makes the second factor compulsory (sign-in-steps.ts SECOND_FACTOR_ATTRIBUTE). */
  secondFactorRequired?: boolean;
  /** Required actions still pending (e.g. UPDATE_PASSWORD). */
  requiredActions?: string[];
  enabled?: boolean;
}

export interface PasswordGrantClient {
  clientId: string;
  secret: string;
  directAccessGrantsEnabled: boolean;
  /** The role the client's direct-grant gate asks for (roleGateSteps); none: the realm's flow. */
  gateRole?: string;
}

export interface PasswordGrantFake {
  tokenUrl: string;
  introspectionUrl: string;
  /** Password grants received, each with the username it named and the outcome. */
  grants: { username: string; outcome: "token" | string }[];
  /** Wrong passwords per account (what Keycloak's brute-force protector counts against it). */
  failures: Map<string, number>;
  close(): Promise<void>;
}

const TOKEN_LIFESPAN_SECONDS = 300;

export async function startPasswordGrantFake(options: {
  realm: string;
  clients: PasswordGrantClient[];
  accounts: PasswordGrantAccount[];
}): Promise<PasswordGrantFake> {
  const tokens = new Map<string, { account: PasswordGrantAccount; clientId: string; exp: number }>();
  const grants: PasswordGrantFake["grants"] = [];
  const failures = new Map<string, number>();
  const base = `/realms/${options.realm}/protocol/openid-connect/token`;
  let issuer = "";

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  // AbstractDirectGrantAuthenticator.errorResponse: {"error", "error_description"} with the given status.
  const oauthError = (res: ServerResponse, status: number, error: string, description: string) =>
    json(res, status, { error, error_description: description });

  /** authentication/authenticators/client/ClientIdAndSecretAuthenticator.java: client_secret_post or basic; a bad one is 401 unauthorized_client. */
  const authenticateClient = (req: IncomingMessage, form: URLSearchParams): PasswordGrantClient | undefined => {
    let clientId = form.get("client_id");
    let secret = form.get("client_secret");
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
    if (basic) {
      const [id, pw] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":");
      clientId = decodeURIComponent(id ?? "");
      secret = decodeURIComponent(pw ?? "");
    }
    const client = options.clients.find((c) => c.clientId === clientId);
    return client && client.secret === secret ? client : undefined;
  };

  const countFailure = (account: PasswordGrantAccount) => failures.set(account.username, (failures.get(account.username) ?? 0) + 1);

  const passwordGrant = (res: ServerResponse, client: PasswordGrantClient, form: URLSearchParams) => {
    const username = form.get("username") ?? "";
    const refuse = (status: number, error: string, description: string) => {
      grants.push({ username, outcome: `${status} ${error}: ${description}` });
      oauthError(res, status, error, description);
    };
    // protocol/oidc/grants/ResourceOwnerPasswordCredentialsGrantType.java: the client must allow direct access grants.
    if (!client.directAccessGrantsEnabled) return refuse(400, "unauthorized_client", "Client not allowed for direct access grants");
    // authenticators/directgrant/ValidateUsername.java: by username or email (findUserByNameOrEmail; the realm allows
    // sign-in by email, components/platform/sso-realm.ts), case-insensitively as Keycloak stores usernames lower-cased.
    if (!form.get("username")) return refuse(401, "invalid_request", "Missing parameter: username");
    const wanted = username.toLowerCase();
    const account = options.accounts.find((a) => a.username === wanted || a.email.toLowerCase() === wanted);
    if (!account) return refuse(400, "invalid_grant", "Invalid user credentials");
    if (account.enabled === false) return refuse(400, "invalid_grant", "Account disabled");
    // authenticators/directgrant/ValidatePassword.java: a wrong password is 401 invalid_grant, and a failure the brute-force protector counts.
    if (form.get("password") !== account.password) {
      countFailure(account);
      return refuse(401, "invalid_grant", "Invalid user credentials");
    }
    // authenticators/directgrant/ValidateOTP.java: REQUIRED (the second factor is compulsory) and not configured, or
    // configured and no `totp` parameter: 401 invalid_grant. Dovecot sends no totp, so a second factor always refuses.
    if (account.secondFactorRequired || account.otpConfigured) {
      return refuse(401, "invalid_grant", "Invalid user credentials");
    }
    // authenticators/access/DenyAccessAuthenticator.java, after conditional-user-role (negated): the gate's refusal is
    // an HTML error page with 401, not an OAuth error.
    if (client.gateRole && !account.roles.includes(client.gateRole)) {
      grants.push({ username, outcome: "401 access denied (gate)" });
      res.writeHead(401, { "content-type": "text/html;charset=utf-8" });
      res.end("<!DOCTYPE html><html><body><p>Access denied</p></body></html>");
      return;
    }
    // ResourceOwnerPasswordCredentialsGrantType.java: pending required actions end the grant.
    if ((account.requiredActions ?? []).length > 0) return refuse(400, "invalid_grant", "Account is not fully set up");
    const token = randomBytes(24).toString("base64url");
    tokens.set(token, { account, clientId: client.clientId, exp: Math.floor(Date.now() / 1000) + TOKEN_LIFESPAN_SECONDS });
    grants.push({ username, outcome: "token" });
    json(res, 200, {
      access_token: token,
      expires_in: TOKEN_LIFESPAN_SECONDS,
      refresh_expires_in: 1800,
      refresh_token: randomBytes(24).toString("base64url"),
      token_type: "Bearer",
      "not-before-policy": 0,
      session_state: randomBytes(8).toString("hex"),
      scope: "profile email",
    });
  };

  /**
   * protocol/oidc/AccessTokenIntrospectionProvider.java: the token's claims (nested ones included, as Keycloak's
   * access token carries them), `client_id`, `username` from preferred_username, and `active`; an unknown or
   * expired token is `{"active": false}` with 200.
   */
  const introspect = (res: ServerResponse, form: URLSearchParams) => {
    const found = tokens.get(form.get("token") ?? "");
    const now = Math.floor(Date.now() / 1000);
    if (!found || found.exp < now) return json(res, 200, { active: false });
    const { account } = found;
    json(res, 200, {
      exp: found.exp,
      iat: found.exp - TOKEN_LIFESPAN_SECONDS,
      jti: randomBytes(8).toString("hex"),
      iss: issuer,
      aud: "account",
      sub: `sub-${account.username}`,
      typ: "Bearer",
      azp: found.clientId,
      realm_access: { roles: account.roles },
      resource_access: { account: { roles: ["manage-account", "view-profile"] } },
      scope: "profile email",
      email_verified: true,
      preferred_username: account.username,
      email: account.email,
      client_id: found.clientId,
      username: account.username,
      token_type: "Bearer",
      active: true,
    });
  };

  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      const form = new URLSearchParams(body);
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "POST" || (path !== base && path !== `${base}/introspect`)) {
        res.writeHead(501);
        res.end("not emulated");
        return;
      }
      const client = authenticateClient(req, form);
      if (!client) return oauthError(res, 401, "unauthorized_client", "Invalid client or Invalid client credentials");
      if (path === `${base}/introspect`) return introspect(res, form);
      if (form.get("grant_type") !== "password") return oauthError(res, 501, "unsupported_grant_type", "not emulated");
      passwordGrant(res, client, form);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}/realms/${options.realm}`;
  return {
    tokenUrl: `http://127.0.0.1:${port}${base}`,
    introspectionUrl: `http://127.0.0.1:${port}${base}/introspect`,
    grants,
    failures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
