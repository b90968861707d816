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
 *
 * The master realm is emulated too, for the permanent admin setup (infra/cli/keycloak-admin.ts): its
 * token endpoint, discovery document, clients (list by clientId, create, read, update, delete), their
 * service-account users, realm roles and realm role mappings, with the bootstrap service account
 * Keycloak creates from KC_BOOTSTRAP_ADMIN_CLIENT_ID/SECRET. Its admin API answers only a bearer
 * whose service account holds the master `admin` role (every other caller: 403), and a token of one
 * realm is never accepted by the other's admin API (a master admin reaching another realm is not
 * emulated). Client searches (`search`, `q`, `first`, `max`) and secrets in client representations
 * are not emulated either.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type ClientRepresentation from "@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js";
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
  /**
   * The temporary admin Keycloak creates in the master realm on first start from
   * KC_BOOTSTRAP_ADMIN_CLIENT_ID/SECRET (docs/services/keycloak.md "Admin"). @default none
   */
  bootstrapAdmin?: { clientId: string; secret: string };
}

/** A client of the master realm as stored: the fields Keycloak always sets present. */
export type FakeClient = ClientRepresentation &
  Required<Pick<ClientRepresentation, "id" | "clientId" | "enabled" | "publicClient" | "bearerOnly" | "serviceAccountsEnabled">>;

/** A user of the master realm: only service accounts are emulated there. */
export interface FakeMasterUser {
  id: string;
  username: string;
  enabled: boolean;
  /** UserModel.getServiceAccountClientLink: the internal id of the client it belongs to. */
  serviceAccountClientId: string;
  /** Names of the master realm roles granted to it directly. */
  realmRoles: Set<string>;
}

export interface FakeMasterRealm {
  /** By internal id. */
  clients: Map<string, FakeClient>;
  /** By id. */
  users: Map<string, FakeMasterUser>;
  /** Realm roles by name. */
  roles: Map<string, { id: string; name: string; description?: string }>;
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
  /** The master realm (clients, service accounts, realm roles). */
  master: FakeMasterRealm;
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
const MASTER = "master";
/**
 * The master realm's own roles (services/managers/RealmManager.java createMasterRealm / setupAdmin,
 * AdminRoles.ADMIN and AdminRoles.CREATE_REALM; the default roles composite and its two members).
 */
const MASTER_ROLES = ["admin", "create-realm", "default-roles-master", "offline_access", "uma_authorization"];
/** ApplianceBootstrap.createTemporaryMasterRealmAdminService marks the client it creates. */
const IS_TEMP_ADMIN_ATTR_NAME = "is_temporary_admin";
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
  if (options.realm === MASTER) throw new Error("the fake's realm must not be master: the master realm is emulated on its own");
  const master: FakeMasterRealm = {
    clients: new Map(),
    users: new Map(),
    roles: new Map(MASTER_ROLES.map((name) => [name, { id: randomUUID(), name }])),
  };
  const state: KeycloakFakeState = { users: new Map(), events: [], sentEmails: [], calls: [], smtpFailure: null, master };
  /** Access token → the realm that issued it, its expiry (ms) and, in master, the client's internal id. */
  const tokens = new Map<string, { realm: string; expiry: number; client?: string }>();
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
    const issued = token ? tokens.get(token) : undefined;
    // AdminRoot.authenticateRealmAdminRequest: no or a bad bearer token is 401.
    if (issued === undefined || issued.realm !== options.realm || issued.expiry < Date.now())
      throw new HttpError(401, { error: "HTTP 401 Unauthorized" });
  }

  function requireRole(role: AdminRole): void {
    if (!roles.has(role)) throw new HttpError(403, { error: "unknown_error" });
  }

  async function tokenEndpoint(req: IncomingMessage): Promise<unknown> {
    const { form, clientId, secret } = await clientCredentials(req);
    if (clientId !== options.clientId)
      // Unknown client: invalid_client (NOT CONFIRMED: the exact error code for an unknown client id).
      throw new HttpError(401, { error: "invalid_client", error_description: "Invalid client or Invalid client credentials" });
    if (secret !== options.clientSecret)
      throw new HttpError(401, { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" });
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") throw new HttpError(501, `grant ${grant} not emulated`);
    return issueToken(options.realm, clientId);
  }

  function issueToken(realm: string, clientId: string, client?: string): unknown {
    const exp = Math.floor(Date.now() / 1000) + lifespan;
    const payload = Buffer.from(JSON.stringify({ exp, azp: clientId, preferred_username: SERVICE_ACCOUNT_PREFIX + clientId })).toString(
      "base64url",
    );
    const token = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${payload}.${randomUUID()}`;
    tokens.set(token, { realm, expiry: exp * 1000, ...(client ? { client } : {}) });
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

  // ---- The master realm (the permanent admin setup) ----

  /** ClientManager.enableServiceAccount: `service-account-<clientId>` in lowercase, holding the realm's default roles. */
  function enableServiceAccount(client: FakeClient): FakeMasterUser {
    const user: FakeMasterUser = {
      id: randomUUID(),
      username: (SERVICE_ACCOUNT_PREFIX + client.clientId).toLowerCase(),
      enabled: true,
      serviceAccountClientId: client.id,
      realmRoles: new Set(["default-roles-master"]),
    };
    master.users.set(user.id, user);
    return user;
  }

  function serviceAccountOf(client: FakeClient): FakeMasterUser | undefined {
    return [...master.users.values()].find((u) => u.serviceAccountClientId === client.id);
  }

  function clientByClientId(clientId: string): FakeClient | undefined {
    return [...master.clients.values()].find((c) => c.clientId === clientId);
  }

  /** ClientManager.removeClient: the client's service-account user goes with it. */
  function removeClient(client: FakeClient): void {
    const account = serviceAccountOf(client);
    if (account) master.users.delete(account.id);
    master.clients.delete(client.id);
  }

  /**
   * RepresentationToModel.createClient: a client is enabled and confidential unless the
   * representation says otherwise (NOT CONFIRMED for 26.x: the enabled default), and a confidential
   * client without a secret gets a generated one.
   */
  function storeClient(rep: ClientRepresentation & { clientId: string }): FakeClient {
    const client: FakeClient = {
      ...rep,
      id: randomUUID(),
      enabled: rep.enabled ?? true,
      publicClient: rep.publicClient ?? false,
      bearerOnly: rep.bearerOnly ?? false,
      serviceAccountsEnabled: rep.serviceAccountsEnabled ?? false,
    };
    if (!client.publicClient && !client.secret) client.secret = randomUUID();
    master.clients.set(client.id, client);
    // ClientsResource.createClient: a service-account client gets its user at once.
    if (client.serviceAccountsEnabled) enableServiceAccount(client);
    return client;
  }

  if (options.bootstrapAdmin) {
    // ApplianceBootstrap.createTemporaryMasterRealmAdminService: a confidential service-account
    // client, no standard flow, marked temporary, whose service account holds the master `admin` role.
    const client = storeClient({
      clientId: options.bootstrapAdmin.clientId,
      secret: options.bootstrapAdmin.secret,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      publicClient: false,
      attributes: { [IS_TEMP_ADMIN_ATTR_NAME]: "true" },
    });
    serviceAccountOf(client)!.realmRoles.add("admin");
  }

  /**
   * The master token endpoint: ClientIdAndSecretAuthenticator, then TokenEndpoint's grant check,
   * then ClientCredentialsGrantType.process (keycloak/keycloak
   * `services/.../protocol/oidc/grants/ClientCredentialsGrantType.java`), in that order.
   */
  async function masterTokenEndpoint(req: IncomingMessage): Promise<unknown> {
    const { form, clientId, secret } = await clientCredentials(req);
    const client = clientId === null ? undefined : clientByClientId(clientId);
    // Unknown or disabled client: AuthenticationFlowError CLIENT_NOT_FOUND / CLIENT_DISABLED (NOT CONFIRMED: the exact error code).
    if (!client?.enabled)
      throw new HttpError(401, { error: "invalid_client", error_description: "Invalid client or Invalid client credentials" });
    // reportFailedAuth: a wrong secret is unauthorized_client; a public client is not asked for one.
    if (!client.publicClient && (secret === null || secret !== client.secret))
      throw new HttpError(401, { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" });
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") throw new HttpError(501, `grant ${grant} not emulated`);
    const refuse = (description: string) => new HttpError(401, { error: "unauthorized_client", error_description: description });
    if (client.bearerOnly) throw refuse("Bearer-only client not allowed to retrieve service account");
    if (client.publicClient) throw refuse("Public client not allowed to retrieve service account");
    if (!client.serviceAccountsEnabled) throw refuse("Client not enabled to retrieve service account");
    const account = serviceAccountOf(client);
    if (!account)
      throw new HttpError(401, {
        error: "invalid_request",
        error_description: "The associated service account for the client does not exist",
      });
    if (!account.enabled) throw new HttpError(401, { error: "invalid_request", error_description: `User '${account.username}' disabled` });
    return issueToken(MASTER, client.clientId, client.id);
  }

  /**
   * AdminRoot.authenticateRealmAdminRequest: the bearer must be a live master token whose user
   * still exists (BearerTokenAuthenticator; deleting a client deletes its service account), else 401.
   * Then the master admin API is granted to the master `admin` role only (AdminRoles.ADMIN; other
   * admin roles and fine-grained permissions are not emulated): 403 for anyone else.
   */
  function authenticateMasterAdmin(req: IncomingMessage): void {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const issued = token ? tokens.get(token) : undefined;
    const client = issued?.client ? master.clients.get(issued.client) : undefined;
    const account = client ? serviceAccountOf(client) : undefined;
    if (!issued || issued.realm !== MASTER || issued.expiry < Date.now() || !account || !account.enabled)
      throw new HttpError(401, { error: "HTTP 401 Unauthorized" });
    if (!account.realmRoles.has("admin")) throw new HttpError(403, { error: "unknown_error" });
  }

  /** ModelToRepresentation.toRepresentation(ClientModel), the secret left out (not emulated). */
  function representClient(client: FakeClient): ClientRepresentation {
    const { secret: _secret, ...rep } = client;
    return { ...rep };
  }

  function masterClientById(id: string): FakeClient {
    const client = master.clients.get(id);
    // ClientsResource.getClient: NotFoundException("Could not find client") for a caller who may list clients.
    if (!client) throw new HttpError(404, { error: "Could not find client" });
    return client;
  }

  function masterUserById(id: string): FakeMasterUser {
    const user = master.users.get(id);
    if (!user) throw new HttpError(404, { error: "User not found" });
    return user;
  }

  function representMasterUser(user: FakeMasterUser): UserRepresentation {
    const { realmRoles: _roles, ...rep } = user;
    return { ...rep, emailVerified: false, requiredActions: [] };
  }

  /** /admin/realms/master/…, after authenticateMasterAdmin. */
  async function masterAdmin(req: IncomingMessage, res: ServerResponse, rest: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? "GET";
    if (rest === "/clients" && method === "GET") {
      // ClientsResource.getClients: a clientId is looked up exactly (getClientByClientId), and the answer is always a list.
      if (query.has("search") || query.has("q") || query.has("first") || query.has("max"))
        throw new HttpError(501, "client search and paging not emulated");
      const clientId = query.get("clientId")?.trim();
      const found = clientId ? [clientByClientId(clientId)].filter((c) => c !== undefined) : [...master.clients.values()];
      return send(res, 200, found.map(representClient));
    }
    if (rest === "/clients" && method === "POST") {
      const rep = JSON.parse((await readBody(req)) || "{}") as ClientRepresentation;
      if (!rep.clientId) throw new HttpError(501, "a client without clientId not emulated");
      // ClientsResource.createClient: ModelDuplicateException → ErrorResponse.exists, 409.
      if (clientByClientId(rep.clientId)) throw errorResponse(409, `Client ${rep.clientId} already exists`);
      const { id: _ignored, ...fields } = rep;
      const client = storeClient({ ...fields, clientId: rep.clientId });
      res.writeHead(201, { Location: `${baseUrl}/admin/realms/${MASTER}/clients/${client.id}` }).end();
      return;
    }
    const clientPath = /^\/clients\/([^/]+)(\/service-account-user)?$/.exec(rest);
    if (clientPath) {
      const client = masterClientById(decodeURIComponent(clientPath[1]!));
      if (clientPath[2] && method === "GET") {
        // ClientResource.getServiceAccountUser: made on demand when enabled, 400 when not.
        if (!client.serviceAccountsEnabled)
          throw new HttpError(400, { error: `Service account not enabled for the client '${client.clientId}'` });
        return send(res, 200, representMasterUser(serviceAccountOf(client) ?? enableServiceAccount(client)));
      }
      if (clientPath[2]) throw new HttpError(405, { error: "HTTP 405 Method Not Allowed" });
      if (method === "GET") return send(res, 200, representClient(client));
      if (method === "PUT") {
        const rep = JSON.parse((await readBody(req)) || "{}") as ClientRepresentation;
        // ClientResource.updateClientFromRep reads rep.getClientId() unguarded (NOT CONFIRMED: the status without it).
        if (!rep.clientId) throw new HttpError(501, "an update without clientId not emulated");
        if (rep.clientId !== client.clientId && clientByClientId(rep.clientId)) throw errorResponse(409, "Client already exists");
        // updateClientFromRep: serviceAccountsEnabled true makes the service account if missing;
        // anything else (false or absent) removes it, with its role mappings.
        const account = serviceAccountOf(client);
        if (rep.serviceAccountsEnabled === true && !account) enableServiceAccount({ ...client, clientId: rep.clientId });
        if (rep.serviceAccountsEnabled !== true && account) master.users.delete(account.id);
        // RepresentationToModel.updateClient: only the fields the representation carries change.
        const { id: _ignored, ...fields } = rep;
        const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));
        Object.assign(client, defined, { serviceAccountsEnabled: rep.serviceAccountsEnabled === true });
        res.writeHead(204).end();
        return;
      }
      if (method === "DELETE") {
        removeClient(client);
        res.writeHead(204).end();
        return;
      }
    }
    const rolePath = /^\/roles\/([^/]+)$/.exec(rest);
    if (rolePath && method === "GET") {
      // RoleContainerResource.getRole: by name, NotFoundException("Could not find role").
      const role = master.roles.get(decodeURIComponent(rolePath[1]!));
      if (!role) throw new HttpError(404, { error: "Could not find role" });
      return send(res, 200, { ...role, composite: role.name === "admin" || role.name === "default-roles-master", clientRole: false });
    }
    const mappingPath = /^\/users\/([^/]+)\/role-mappings\/realm$/.exec(rest);
    if (mappingPath) {
      const user = masterUserById(decodeURIComponent(mappingPath[1]!));
      if (method === "GET")
        return send(
          res,
          200,
          [...user.realmRoles].map((name) => master.roles.get(name)!),
        );
      if (method === "POST") {
        const roles = JSON.parse((await readBody(req)) || "[]") as { id?: string; name?: string }[];
        // RoleMapperResource.addRealmRoleMappings: each role by name, its id must match, else 404;
        // the whole list is checked before any grant (one transaction). Granting twice is harmless.
        const granted = roles.map((r) => {
          const role = r.name === undefined ? undefined : master.roles.get(r.name);
          if (!role || role.id !== r.id) throw new HttpError(404, { error: "Role not found" });
          return role.name;
        });
        for (const name of granted) user.realmRoles.add(name);
        res.writeHead(204).end();
        return;
      }
    }
    throw new HttpError(501, `${method} /admin/realms/${MASTER}${rest} not emulated`);
  }

  /** OIDCWellKnownProvider.getConfig: the realm's discovery document (the fields a client reads first). */
  function discovery(realm: string): unknown {
    const issuer = `${baseUrl}/realms/${realm}`;
    return {
      issuer,
      authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
      token_endpoint: `${issuer}/protocol/openid-connect/token`,
      userinfo_endpoint: `${issuer}/protocol/openid-connect/userinfo`,
      end_session_endpoint: `${issuer}/protocol/openid-connect/logout`,
      jwks_uri: `${issuer}/protocol/openid-connect/certs`,
      grant_types_supported: ["authorization_code", "client_credentials", "refresh_token"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
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
    if (url.pathname === `/realms/${MASTER}/protocol/openid-connect/token` && method === "POST")
      return send(res, 200, await masterTokenEndpoint(req));
    const wellKnown = /^\/realms\/([^/]+)\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (wellKnown && method === "GET") {
      // RealmsResource.getRealm: an unknown realm is 404 "Realm does not exist".
      if (wellKnown[1] !== realm && wellKnown[1] !== MASTER) throw new HttpError(404, { error: "Realm does not exist" });
      return send(res, 200, discovery(decodeURIComponent(wellKnown[1]!)));
    }
    const masterAdminBase = `/admin/realms/${MASTER}`;
    if (url.pathname.startsWith(`${masterAdminBase}/`)) {
      authenticateMasterAdmin(req);
      return masterAdmin(req, res, url.pathname.slice(masterAdminBase.length).replace(/(.)\/$/, "$1"), url.searchParams);
    }
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

/** ClientIdAndSecretAuthenticator.authenticateClient: client_secret_basic (Authorization: Basic) or client_secret_post, the form winning. */
async function clientCredentials(req: IncomingMessage): Promise<{ form: URLSearchParams; clientId: string | null; secret: string | null }> {
  const form = new URLSearchParams(await readBody(req));
  let clientId = form.get("client_id");
  let secret = form.get("client_secret");
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
  }
  return { form, clientId, secret };
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
