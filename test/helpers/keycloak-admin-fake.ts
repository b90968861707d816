/**
 * An in-process fake of Keycloak's token endpoint and of the admin REST calls the `accounts` command
 * makes, on a 127.0.0.1 listener, with the state in memory. It follows Keycloak's own rules, each
 * citing the file it comes from. Source read: keycloak/keycloak 26.x (the `main` branch of a 26.x
 * fork, Pankraz76/keycloak at 6cebe177, for UsersResource.java, UserResource.java and
 * JpaUserProvider.java; keycloak/keycloak for DeleteAccount.java and EventBuilder.java; stored copies
 * of upstream-looking 26.x code whose repository the index did not name for RealmAdminResource.java,
 * LoginActionsService.java and OIDCAdvancedConfigWrapper.java). No 26.7.2 tag was read: a change
 * between that tag and these trees is not reflected here. Paths are relative to
 * `services/src/main/java/org/keycloak/` unless they say otherwise.
 *
 * Not emulated (answered 501, never accepted silently): grants other than client_credentials, the
 * `q` attribute search, `idpAlias`/`idpUserId`, user profile validation beyond the duplicate checks,
 * fine-grained admin permissions. Admin role checks are by realm-management role only.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type EventRepresentation from "@keycloak/keycloak-admin-client/lib/defs/eventRepresentation.js";
import type UserRepresentation from "@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js";

/** realm-management roles the fake checks (services/resources/admin/fgap/*PermissionEvaluator: requireQuery, requireManage, requireViewEvents). */
export type AdminRole = "query-users" | "view-users" | "manage-users" | "view-events";

export interface KeycloakFakeOptions {
  realm: string;
  /** The confidential client whose service account calls the admin API. */
  clientId: string;
  clientSecret: string;
  /** Roles its service account holds. @default every AdminRole */
  roles?: readonly AdminRole[];
  /** RealmRepresentation.duplicateEmailsAllowed. @default false (the platform realm, components/platform/keycloak.ts) */
  duplicateEmailsAllowed?: boolean;
  /** RealmRepresentation.enabledEventTypes: only these are stored (EventBuilder.sendNow). @default ["DELETE_ACCOUNT"] */
  enabledEventTypes?: readonly string[];
  /** Access token lifespan, seconds (RealmRepresentation.accessTokenLifespan, 300 by default). */
  accessTokenLifespan?: number;
}

/** A stored user: the full representation Keycloak returns, every field it always sets present. */
export type FakeUser = UserRepresentation &
  Required<Pick<UserRepresentation, "id" | "username" | "enabled" | "emailVerified" | "createdTimestamp" | "requiredActions">>;

export interface SentEmail {
  userId: string;
  /** The address it went to (the fake's state only; the command must never print it). */
  email: string;
  actions: string[];
  lifespan: number;
}

/** A stored event. The server's types include DELETE_ACCOUNT, which the admin client's EventType union lacks in 26.7.2. */
export type FakeEvent = Omit<EventRepresentation, "type"> & { type: string };

export interface KeycloakFakeState {
  users: Map<string, FakeUser>;
  /** Stored events, oldest first. */
  events: FakeEvent[];
  sentEmails: SentEmail[];
  /** Every call, `METHOD /path?query`, in order (refused ones included). */
  calls: string[];
  /** When set, sending mail fails with this EmailException message (e.g. no sender address configured). */
  smtpFailure: string | null;
}

export interface KeycloakFake {
  url: string;
  state: KeycloakFakeState;
  /** Stores a user as the admin API would, bypassing HTTP (fixtures); returns its id. */
  addUser(user: Partial<UserRepresentation> & { username: string }): string;
  /**
   * The person deletes their own account from the account console (DeleteAccount.processAction):
   * the user is removed and a DELETE_ACCOUNT event stored. `typed` is what they typed at login, which
   * replaces the username detail (LoginActionsService.initLoginEvent, ATTEMPTED_USERNAME).
   */
  selfDelete(userId: string, typed?: string): void;
  close(): Promise<void>;
}

/** Required action provider ids a default 26.x server registers (authentication/requiredactions/*.java PROVIDER_ID / UserModel.RequiredAction). */
const REQUIRED_ACTIONS = new Set([
  "CONFIGURE_TOTP",
  "TERMS_AND_CONDITIONS",
  "UPDATE_PASSWORD",
  "UPDATE_PROFILE",
  "VERIFY_EMAIL",
  "VERIFY_PROFILE",
  "delete_account",
  "update_user_locale",
  "webauthn-register",
  "webauthn-register-passwordless",
  "CONFIGURE_RECOVERY_AUTHN_CODES",
  "UPDATE_EMAIL",
  "delete_credential",
  "idp_link",
]);

/** Constants.DEFAULT_MAX_RESULTS (server-spi-private models/Constants.java). */
const DEFAULT_MAX_RESULTS = 100;
/** RealmModel.getActionTokenGeneratedByAdminLifespan default: 12 h (docs/services/keycloak.md "Inviting a member"). */
const ADMIN_ACTION_TOKEN_LIFESPAN = 12 * 60 * 60;
const SERVICE_ACCOUNT_PREFIX = "service-account-";
const ALL_ROLES: readonly AdminRole[] = ["query-users", "view-users", "manage-users", "view-events"];

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === "string" ? body : JSON.stringify(body));
  }
}

/** ErrorResponse.error / ErrorResponse.exists: an ErrorRepresentation, `{"errorMessage": …}` (services/ErrorResponse.java). */
function errorResponse(status: number, errorMessage: string): HttpError {
  return new HttpError(status, { errorMessage });
}

export async function startKeycloakFake(options: KeycloakFakeOptions): Promise<KeycloakFake> {
  const roles = new Set(options.roles ?? ALL_ROLES);
  const enabledEventTypes = new Set(options.enabledEventTypes ?? ["DELETE_ACCOUNT"]);
  const lifespan = options.accessTokenLifespan ?? 300;
  const state: KeycloakFakeState = { users: new Map(), events: [], sentEmails: [], calls: [], smtpFailure: null };
  const tokens = new Map<string, number>(); // access token → expiry (ms)
  const realmId = randomUUID();
  let baseUrl = "";

  function store(rep: Partial<UserRepresentation> & { username: string }): FakeUser {
    // DefaultAttributes.normalizeAttributeValues (server-spi-private userprofile/): both are stored in lowercase.
    const user: FakeUser = {
      ...rep,
      id: randomUUID(),
      username: rep.username.toLowerCase(),
      ...(rep.email ? { email: rep.email.toLowerCase() } : {}),
      // UserEntity.enabled has no default: a representation without `enabled` makes a disabled user (NOT CONFIRMED for 26.x).
      enabled: rep.enabled ?? false,
      emailVerified: rep.emailVerified ?? false,
      // UserResource.updateUserFromRep: a creation takes rep.createdTimestamp when given.
      createdTimestamp: rep.createdTimestamp ?? Date.now(),
      // updateUserFromRep adds only the actions a registered provider implements; others are dropped silently.
      requiredActions: (rep.requiredActions ?? []).filter((a) => REQUIRED_ACTIONS.has(a)),
    };
    state.users.set(user.id, user);
    return user;
  }

  function recordEvent(event: FakeEvent): void {
    // EventBuilder.sendNow: with enabledEventTypes set, only those types reach the store.
    if (event.type && enabledEventTypes.has(event.type)) state.events.push(event);
  }

  function authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization ?? "";
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    const expiry = token ? tokens.get(token) : undefined;
    // AdminRoot.authenticateRealmAdminRequest: no or a bad bearer token is 401.
    if (expiry === undefined || expiry < Date.now()) throw new HttpError(401, { error: "HTTP 401 Unauthorized" });
  }

  function requireRole(role: AdminRole): void {
    if (!roles.has(role)) throw new HttpError(403, { error: "unknown_error" });
  }

  async function tokenEndpoint(req: IncomingMessage): Promise<unknown> {
    const form = new URLSearchParams(await readBody(req));
    // ClientIdAndSecretAuthenticator: client_secret_basic (Authorization: Basic) or client_secret_post.
    let clientId = form.get("client_id");
    let secret = form.get("client_secret");
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (basic) {
      const decoded = Buffer.from(basic, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
    }
    if (clientId !== options.clientId)
      // Unknown client: invalid_client (NOT CONFIRMED: the exact error code for an unknown client id).
      throw new HttpError(401, { error: "invalid_client", error_description: "Invalid client or Invalid client credentials" });
    if (secret !== options.clientSecret)
      throw new HttpError(401, { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" });
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") throw new HttpError(501, `grant ${grant} not emulated`);
    const exp = Math.floor(Date.now() / 1000) + lifespan;
    const payload = Buffer.from(JSON.stringify({ exp, azp: clientId, preferred_username: SERVICE_ACCOUNT_PREFIX + clientId })).toString(
      "base64url",
    );
    const token = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${payload}.${randomUUID()}`;
    tokens.set(token, exp * 1000);
    // ClientCredentialsGrantType.useRefreshToken: no refresh token unless the client's
    // "use refresh tokens for client credentials grant" is on (OIDCAdvancedConfigWrapper, false by default).
    return {
      access_token: token,
      expires_in: lifespan,
      refresh_expires_in: 0,
      token_type: "Bearer",
      "not-before-policy": 0,
      scope: "profile email",
    };
  }

  /** UsersResource.getUsers and JpaUserProvider.searchForUserStream / predicates. */
  function listUsers(query: URLSearchParams): unknown[] {
    requireRole("query-users");
    if (query.has("q") || query.has("idpAlias") || query.has("idpUserId"))
      throw new HttpError(501, "q, idpAlias and idpUserId not emulated");
    const first = Math.max(0, Number(query.get("first") ?? -1));
    const max = Number(query.get("max") ?? DEFAULT_MAX_RESULTS);
    const brief = query.get("briefRepresentation") === "true";
    const search = query.get("search");
    const exact = query.get("exact") === "true";
    const bool = (name: string) => (query.has(name) ? query.get(name) === "true" : undefined);
    const enabled = bool("enabled");
    const emailVerified = bool("emailVerified");
    let users = [...state.users.values()];
    let includeServiceAccounts = false;
    if (search !== null) {
      if (search.startsWith("id:")) {
        const ids = search.slice(3).trim().split(/\s+/);
        return ids.flatMap((id) => (state.users.has(id) ? [represent(state.users.get(id)!, brief)] : []));
      }
      // Each whitespace-separated word must match username, email, first or last name (getSearchOptionPredicateArray).
      for (const word of search.trim().split(/\s+/)) users = users.filter((u) => matchesSearchWord(u, word));
    } else {
      const fields = ["lastName", "firstName", "email", "username"] as const;
      const filtered = fields.some((f) => query.has(f)) || enabled !== undefined || emailVerified !== undefined || query.has("exact");
      // Attribute searches include service accounts; a plain listing does not (UsersResource.searchForUser's last argument).
      includeServiceAccounts = filtered;
      for (const field of fields) {
        const value = query.get(field);
        if (value === null) continue;
        const wanted = value.toLowerCase();
        users = users.filter((u) => {
          // username and email are compared as stored (lowercase); first and last name through lower().
          const stored = field === "username" || field === "email" ? u[field] : u[field]?.toLowerCase();
          if (stored === undefined) return false;
          return exact ? stored === wanted : stored.includes(wanted);
        });
      }
    }
    if (enabled !== undefined) users = users.filter((u) => u.enabled === enabled);
    if (emailVerified !== undefined) users = users.filter((u) => u.emailVerified === emailVerified);
    if (!includeServiceAccounts) users = users.filter((u) => u.serviceAccountClientId === undefined);
    // Ordered by username (JpaUserProvider.searchForUserStream orderBy USERNAME asc), then paginated.
    users.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
    return users.slice(first, first + max).map((u) => represent(u, brief));
  }

  function createUser(rep: UserRepresentation): string {
    requireRole("manage-users");
    // UsersResource.createUser → UserResource.validateUserProfile: the first profile error decides.
    const username = rep.username?.trim();
    if (!username) throw errorResponse(400, "User name is missing");
    const taken = (field: "username" | "email", value: string) =>
      [...state.users.values()].some((u) => u[field] !== undefined && u[field] === value.toLowerCase());
    if (taken("username", username)) throw errorResponse(409, "User exists with same username");
    if (rep.email && !options.duplicateEmailsAllowed && taken("email", rep.email)) throw errorResponse(409, "User exists with same email");
    return store({ ...rep, username }).id;
  }

  function userById(id: string): FakeUser {
    const user = state.users.get(id);
    // UsersResource.user: NotFoundException("User not found") for a caller who may query users.
    if (!user) throw new HttpError(404, { error: "User not found" });
    return user;
  }

  /** UserResource.executeActionsEmail and verifySendEmailParams, in their order. */
  function executeActionsEmail(user: FakeUser, query: URLSearchParams, actions: unknown): void {
    requireRole("manage-users");
    if (!user.email) throw errorResponse(400, "User email missing");
    if (!user.enabled) throw errorResponse(400, "User is disabled");
    const clientId = query.get("client_id");
    if (query.has("redirect_uri") && clientId === null) throw errorResponse(400, "Client id missing");
    if (clientId !== null && clientId !== "account" && clientId !== options.clientId) throw errorResponse(400, "Client doesn't exist");
    const list = Array.isArray(actions) ? actions.map(String) : [];
    if (list.length > 0 && !list.every((a) => REQUIRED_ACTIONS.has(a))) throw errorResponse(400, "Provided invalid required actions");
    const seconds = query.has("lifespan") ? Number(query.get("lifespan")) : ADMIN_ACTION_TOKEN_LIFESPAN;
    if (state.smtpFailure !== null) throw errorResponse(500, `Failed to send execute actions email: ${state.smtpFailure}`);
    state.sentEmails.push({ userId: user.id, email: user.email, actions: list, lifespan: seconds });
  }

  /** RealmAdminResource.getEvents: filters, then newest first unless direction=asc, then first/max (100). */
  function listEvents(query: URLSearchParams): FakeEvent[] {
    requireRole("view-events");
    const types = query.getAll("type");
    const user = query.get("user");
    const client = query.get("client");
    const direction = query.get("direction");
    if (direction !== null && direction !== "asc" && direction !== "desc")
      throw new HttpError(400, { error: "Invalid value for sortDirection, expected value is asc or desc" });
    let events = state.events.filter(
      (e) =>
        (types.length === 0 || types.includes(e.type ?? "")) &&
        (user === null || e.userId === user) &&
        (client === null || e.clientId === client),
    );
    // JpaEventQuery orders by time descending unless asked otherwise (NOT CONFIRMED for 26.x: the default order).
    events = [...events].sort((a, b) => (direction === "asc" ? (a.time ?? 0) - (b.time ?? 0) : (b.time ?? 0) - (a.time ?? 0)));
    const first = Number(query.get("first") ?? 0);
    const max = Number(query.get("max") ?? DEFAULT_MAX_RESULTS);
    return events.slice(first, first + max);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const realm = encodeURIComponent(options.realm);
    if (url.pathname === `/realms/${realm}/protocol/openid-connect/token` && method === "POST")
      return send(res, 200, await tokenEndpoint(req));
    const admin = `/admin/realms/${realm}`;
    if (!url.pathname.startsWith(`${admin}/`)) throw new HttpError(404, { error: "Realm not found." });
    authenticate(req);
    // The admin client asks for `/users/`; JAX-RS matches a path with or without its trailing slash.
    const rest = url.pathname.slice(admin.length).replace(/(.)\/$/, "$1");
    if (rest === "/users" && method === "GET") return send(res, 200, listUsers(url.searchParams));
    if (rest === "/users" && method === "POST") {
      const id = createUser(JSON.parse((await readBody(req)) || "{}") as UserRepresentation);
      res.writeHead(201, { Location: `${baseUrl}${admin}/users/${id}` }).end();
      return;
    }
    if (rest === "/events" && method === "GET") return send(res, 200, listEvents(url.searchParams));
    const userPath = /^\/users\/([^/]+)(\/execute-actions-email)?$/.exec(rest);
    if (userPath) {
      const user = userById(decodeURIComponent(userPath[1]!));
      if (userPath[2] && method === "PUT") {
        executeActionsEmail(user, url.searchParams, JSON.parse((await readBody(req)) || "[]"));
        res.writeHead(204).end();
        return;
      }
      if (!userPath[2] && method === "GET") {
        requireRole("view-users");
        return send(res, 200, represent(user, false));
      }
      if (!userPath[2] && method === "DELETE") {
        requireRole("manage-users");
        state.users.delete(user.id);
        res.writeHead(204).end();
        return;
      }
    }
    throw new HttpError(501, `${method} ${url.pathname} not emulated`);
  }

  const server: Server = createServer((req, res) => {
    state.calls.push(`${req.method} ${req.url}`);
    route(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) send(res, e.status, e.body);
      else send(res, 500, { error: String(e) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    state,
    addUser: (user) => store(user).id,
    selfDelete(userId, typed) {
      const user = userById(userId);
      state.users.delete(userId);
      // DeleteAccount.processAction: event(DELETE_ACCOUNT).client(account console).user(user); the
      // details are the login event's (initLoginEvent): the username, or what the person typed.
      recordEvent({
        time: Date.now(),
        type: "DELETE_ACCOUNT",
        realmId,
        clientId: "account-console",
        userId,
        ipAddress: "127.0.0.1",
        details: { auth_method: "openid-connect", username: typed ?? user.username, remember_me: "false", response_type: "code" },
      });
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** getSearchOptionPredicateArray: `"x"` is exact on username or email; otherwise a prefix, `*` a wildcard. */
function matchesSearchWord(user: FakeUser, word: string): boolean {
  const value = word.toLowerCase();
  const candidates = [user.username, user.email, user.firstName?.toLowerCase(), user.lastName?.toLowerCase()];
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    const inner = value.slice(1, -1);
    return candidates.some((c) => c === inner);
  }
  const pattern = value.endsWith("*") ? value : `${value}*`;
  const regex = new RegExp(`^${pattern.split("*").map(escapeRegex).join(".*")}$`, "s");
  return candidates.some((c) => c !== undefined && regex.test(c));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * ModelToRepresentation.toRepresentation / toBriefRepresentation. The brief form carries no required
 * actions (NOT CONFIRMED: its exact field list in 26.x).
 */
function represent(user: FakeUser, brief: boolean): UserRepresentation {
  if (!brief) return { ...user };
  const { id, username, firstName, lastName, email, enabled, emailVerified, createdTimestamp } = user;
  return { id, username, firstName, lastName, email, enabled, emailVerified, createdTimestamp };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": typeof body === "string" ? "text/plain" : "application/json" }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
