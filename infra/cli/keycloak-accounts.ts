/**
 * The realm calls the `accounts` command makes, through @keycloak/keycloak-admin-client (docs/accounts.md):
 * list the accounts, read who deleted their own account, create an account, send the invitation,
 * remove an account. Errors come back as KeycloakCallError, whose message holds no email.
 */
import type EventRepresentation from "@keycloak/keycloak-admin-client/lib/defs/eventRepresentation.js";
import type EventType from "@keycloak/keycloak-admin-client/lib/defs/eventTypes.js";
import type { ExistingAccount } from "../model/accounts";
import { INVITATION_ACTIONS } from "../model/accounts";
import { UsageError } from "./run";

export interface KeycloakSettings {
  url: string;
  realm: string;
  clientId: string;
  clientSecret: string;
}

/**
 * How long the invitation link stays valid, in seconds. Keycloak's default for admin-sent action
 * links is 12 hours (docs/services/keycloak.md "Inviting a member"), too short for a member who
 * reads their mail once a week; 7 days gives them that week while a forwarded old mail stops working.
 */
export const INVITATION_LIFESPAN_SECONDS = 7 * 24 * 60 * 60;

/**
 * The server's EventType.DELETE_ACCOUNT (keycloak/keycloak server-spi-private
 * org/keycloak/events/EventType.java, sent by services/.../requiredactions/DeleteAccount.java),
 * missing from the admin client's own list of event types in 26.7.2 (lib/defs/eventTypes.d.ts).
 */
const DELETE_ACCOUNT = "DELETE_ACCOUNT" as EventType;

/** Page size of the listings; Keycloak's default and usual cap is 100 (Constants.DEFAULT_MAX_RESULTS). */
const PAGE = 100;

/** A refused or failed call: the HTTP status and Keycloak's message with any email replaced. */
export class KeycloakCallError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface KeycloakAccounts {
  /** Every account of the realm (Keycloak's plain listing leaves service accounts out). */
  listAccounts(): Promise<ExistingAccount[]>;
  /** Lowercase usernames, or the emails they signed in with, of people who deleted their own account. */
  selfDeleted(): Promise<Set<string>>;
  /** Creates an enabled account with an unverified email; returns its id. */
  create(person: { username: string; email: string }): Promise<string>;
  /** Sends the invitation: a link to set a password and verify the email. */
  invite(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

type AdminClient = InstanceType<typeof import("@keycloak/keycloak-admin-client").default>;

export async function connectKeycloak(settings: KeycloakSettings): Promise<KeycloakAccounts> {
  // The admin client is an ES module; the commands are CommonJS.
  const { default: KeycloakAdminClient } = await import("@keycloak/keycloak-admin-client");
  const client: AdminClient = new KeycloakAdminClient({ baseUrl: settings.url, realmName: settings.realm });
  const tokens = clientCredentials(settings);
  await tokens.getAccessToken(); // a wrong secret or URL stops the run here, before anything is read
  // Not client.auth(): in 26.7.2 it decodes a refresh token unconditionally, and a client credentials
  // grant returns none (keycloak/keycloak#46433, fixed in 26.8.0 by #50845).
  client.registerTokenProvider(tokens);

  const call = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (e) {
      throw callError(e);
    }
  };

  return {
    async listAccounts() {
      const out: ExistingAccount[] = [];
      for (let first = 0; ; first += PAGE) {
        const page = await call(() => client.users.find({ first, max: PAGE, briefRepresentation: false }));
        for (const u of page) {
          const { id, username, email, enabled, emailVerified, createdTimestamp, requiredActions } = u;
          out.push({ id, username, email, enabled, emailVerified, createdTimestamp, requiredActions });
        }
        if (page.length < PAGE) return out;
      }
    },
    async selfDeleted() {
      const out = new Set<string>();
      for (let first = 0; ; first += PAGE) {
        const page: EventRepresentation[] = await call(() =>
          client.realms.findEvents({ realm: settings.realm, type: DELETE_ACCOUNT, first, max: PAGE }),
        );
        for (const event of page) {
          // DELETE_ACCOUNT names the user by id (gone with the account) and carries the login
          // event's `username` detail: the username, or what the person typed to sign in
          // (docs/accounts.md "Self-deleted accounts").
          const name = event.details?.username;
          if (typeof name === "string" && name) out.add(name.toLowerCase());
        }
        if (page.length < PAGE) return out;
      }
    },
    async create(person) {
      const { id } = await call(() =>
        client.users.create({
          username: person.username,
          email: person.email,
          enabled: true,
          emailVerified: false,
          // The invitation carries its own actions; these stay on the account until the person
          // completes them, which is how a later run tells a pending invitation from a used one.
          requiredActions: [...INVITATION_ACTIONS],
        }),
      );
      return id;
    },
    async invite(id) {
      await call(() => client.users.executeActionsEmail({ id, actions: [...INVITATION_ACTIONS], lifespan: INVITATION_LIFESPAN_SECONDS }));
    },
    async remove(id) {
      await call(() => client.users.del({ id }));
    },
  };
}

/** A client credentials token, fetched again shortly before it expires (a run over many people may outlast one). */
function clientCredentials(settings: KeycloakSettings): { getAccessToken(): Promise<string> } {
  let token: string | undefined;
  let renewAt = 0;
  const endpoint = `${settings.url.replace(/\/+$/, "")}/realms/${encodeURIComponent(settings.realm)}/protocol/openid-connect/token`;
  return {
    async getAccessToken() {
      if (token && Date.now() < renewAt) return token;
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: settings.clientId,
            client_secret: settings.clientSecret,
          }),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
        throw new UsageError(`cannot reach Keycloak at ${settings.url} (${cause}); check KEYCLOAK_URL`);
      }
      const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
      if (!response.ok || !body.access_token) {
        throw new UsageError(
          `Keycloak refused the client credentials of ${settings.clientId} in realm ${settings.realm} (${response.status}${body.error ? ` ${body.error}` : ""}); check KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET`,
        );
      }
      token = body.access_token;
      renewAt = Date.now() + Math.max(0, (body.expires_in ?? 60) - 30) * 1000;
      return token;
    },
  };
}

/** The admin client's NetworkError carries the response and Keycloak's `errorMessage`; the SMTP server's words may name the recipient. */
function callError(e: unknown): KeycloakCallError {
  const err = e as { response?: { status?: number }; responseData?: unknown; message?: string };
  const data = err.responseData as { errorMessage?: unknown; error?: unknown } | undefined;
  const text =
    typeof data?.errorMessage === "string" ? data.errorMessage : typeof data?.error === "string" ? data.error : (err.message ?? String(e));
  return new KeycloakCallError(err.response?.status, redactEmails(text));
}

/** Anything shaped like an address becomes `<email>`: the output names people by username only. */
export function redactEmails(text: string): string {
  return text.replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, "<email>");
}
