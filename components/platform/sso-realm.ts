import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import { buildAuthFlow, type AuthStep } from "../blocks/auth-flow";
import { OidcClient } from "../blocks/oidc-client";
import { createSignInGate, type SignInGate } from "../blocks/sign-in-gate";
import {
  browserSignInSteps,
  directGrantSignInSteps,
  GATED_CLIENT_SCOPE,
  registrationSteps,
  resetCredentialsSteps,
  SECOND_FACTOR_ATTRIBUTE,
  SECOND_FACTOR_REQUIRED,
} from "../blocks/sign-in-steps";

export const SSO_REALM_TYPE = "alacarte:platform:SsoRealm";

/** Client id of the confidential service-account client tenant stacks manage their identity with. */
export const TENANTS_ADMIN_CLIENT_ID = "alacarte-tenants";

/**
 * Roles of the built-in `realm-management` client granted to the tenant stacks' client (sorted),
 * the least that creating groups, memberships, roles, flows and clients takes in Keycloak's
 * classic admin permissions (docs/services/keycloak.md "What a tenant stack can reach").
 */
export const TENANTS_ADMIN_ROLES = ["manage-clients", "manage-realm", "manage-users", "view-realm"] as const;

/** Client id of the `accounts` command's service account. */
export const ACCOUNTS_CLIENT_ID = "alacarte-accounts";

/** What the `accounts` command needs: find and create users, invite them, read DELETE_ACCOUNT events (sorted). */
export const ACCOUNTS_ROLES = ["manage-users", "query-users", "view-events", "view-users"] as const;

/** The realm-management role platform administrators hold through their group. */
export const PLATFORM_ADMIN_ROLE = "realm-admin";

/** Name of the group of platform administrators (top level, beside `/tenants`). */
export const PLATFORM_ADMINS_GROUP = "platform-admins";

/**
 * Password policy (Keycloak's policy syntax): 12 characters at least, neither the username nor
 * the email. No hash algorithm is named, so Keycloak uses its default (argon2 outside FIPS mode,
 * docs/services/keycloak.md "Passwords").
 */
export const PASSWORD_POLICY = "length(12) and notUsername and notEmail";

/**
 * Token and session lifespans (Keycloak durations), each with its reason
 * (docs/services/keycloak.md "Lifespans and policies").
 */
export const LIFESPANS = {
  /** A removed member keeps a token at most this long: Keycloak's own default. */
  accessTokenLifespan: "5m",
  /** A browser session ends after a working half-day of inactivity. */
  ssoSessionIdleTimeout: "4h",
  /** …and after a working day in any case, so a shared computer is not signed in the next morning. */
  ssoSessionMaxLifespan: "10h",
  /** "Remember me" on a person's own device: two weeks idle, a month at most. */
  ssoSessionIdleTimeoutRememberMe: "336h",
  ssoSessionMaxLifespanRememberMe: "720h",
  /** Offline tokens (mobile and desktop apps) lapse after a month unused. */
  offlineSessionIdleTimeout: "720h",
  /** An invitation from the `accounts` command is valid a week: people read their mail late. */
  actionTokenGeneratedByAdminLifespan: "168h",
  /** A verification or reset link the person asked for: half an hour. */
  actionTokenGeneratedByUserLifespan: "30m",
} as const;

/**
 * Brute-force protection: a temporary lockout growing by a minute per failure after 5, up to 15
 * minutes, forgotten after 12 hours; never permanent (a permanent lockout lets anyone lock a
 * member out by guessing).
 */
export const BRUTE_FORCE = {
  permanentLockout: false,
  maxLoginFailures: 5,
  waitIncrementSeconds: 60,
  maxFailureWaitSeconds: 900,
  failureResetTimeSeconds: 43200,
  quickLoginCheckMilliSeconds: 1000,
  minimumQuickLoginWaitSeconds: 60,
} as const;

/**
 * The only user event the realm stores: an account deleted by its owner, which the `accounts`
 * command reads so as not to re-create it (docs/accounts.md). Sign-ins are not recorded.
 */
export const STORED_EVENT_TYPES = ["DELETE_ACCOUNT"] as const;

/** Keycloak's default roles of a new realm, plus `account/delete-account`: a person may delete their own account. */
export const DEFAULT_ROLES = [
  "offline_access",
  "uma_authorization",
  "account/view-profile",
  "account/manage-account",
  "account/delete-account",
];

/** The historic member services: each opens to a realm role granted to `/tenants/<slug>/<service>`. */
export const MEMBER_SERVICES = {
  git: { name: "Git", host: "git", redirectPath: "/user/oauth2/alacarte/callback" },
  nextcloud: { name: "Nextcloud", host: "cloud", redirectPath: "/apps/user_oidc/code" },
} as const;
export type MemberService = keyof typeof MEMBER_SERVICES;

/** Pure: the realm role that opens a member service. @example memberServiceRole("git") → "member-git" */
export function memberServiceRole(service: MemberService): string {
  return `member-${service}`;
}

/** The mail service's client: the webmail's sign-in, and the password grant Dovecot makes for a mail client (docs/services/mail.md "Signing in"). */
export const MAIL_CLIENT_ID = "members-mail";

/**
 * The realm role that opens mail with the Keycloak password, granted once to `/tenants`: its
 * subgroups' members inherit it (Keycloak's group role mappings), so every member of a tenant has
 * it. Which mailbox a person opens is the mail server's own map of owners, not the role.
 */
export const MAIL_ROLE = "member-mail";

/**
 * Pure: the webmail's OIDC redirect URI: Roundcube's generic OAuth login sends `<its URL>index.php/login/oauth`
 * (rcmail_oauth::get_redirect_uri, docs/services/mail.md "Webmail").
 */
export function webmailRedirectUri(webmailHostname: string): string {
  return `https://${webmailHostname}/index.php/login/oauth`;
}

export interface SsoRealmSmtp {
  host: string;
  port: number;
  from: string;
  fromDisplayName: string;
  starttls: boolean;
  /** With a password: SMTP login. */
  auth?: { username: string; password: pulumi.Input<string> };
}

export interface SsoRealmArgs {
  /** Realm name. @example "alacarte" */
  realm: string;
  /** Base domain: the member services answer on `git.<baseDomain>` and `cloud.<baseDomain>`. */
  baseDomain: string;
  /** Public URL of Keycloak. @example "https://sso.example.org" */
  keycloakUrl: string;
  /** Realm SMTP; without it no verification, reset or invitation mail leaves. */
  smtp?: SsoRealmSmtp;
  /** Usernames of the platform administrators (their accounts come from the `accounts` command). */
  admins: string[];
  /** Public name of the webmail, the mail client's redirect. @example "webmail.example.org" */
  webmailHostname: string;
  /** Protect the realm and the `/tenants` group. */
  protect: boolean;
}

/**
 * The platform realm: its settings (self-registration with verified email, password policy,
 * brute-force protection, French first, lifespans, SMTP), its flows (sign-in with a second factor
 * where required; registration and reset refused to gated clients), the `/tenants` and
 * `/platform-admins` groups, the member services' roles, gates and clients, and the service
 * accounts of tenant stacks and of the `accounts` command.
 */
export class SsoRealm extends pulumi.ComponentResource {
  readonly realmId: pulumi.Output<string>;
  readonly tenantsGroupId: pulumi.Output<string>;
  readonly adminClientId: pulumi.Output<string>;
  readonly adminClientSecret: pulumi.Output<string>;
  readonly accountsClientId: pulumi.Output<string>;
  readonly accountsClientSecret: pulumi.Output<string>;
  /** Ids of the member services' roles, for the tenants' access subgroups. */
  readonly memberServiceRoleIds: Record<MemberService, pulumi.Output<string>>;
  /** Each member service's gate. */
  readonly memberServiceGates: Record<MemberService, SignInGate>;
  /** Each member service's OIDC client. */
  readonly memberServiceClients: Record<MemberService, OidcClient>;
  /** The mail client (webmail sign-in, Dovecot's password grant): its id and secret (secret). */
  readonly mailClient: OidcClient;

  /**
   * @param name also names the resources (`<name>-realm`, `<name>-tenants-group`…), which keep
   * the names they had under the Keycloak component.
   */
  constructor(name: string, args: SsoRealmArgs, opts: pulumi.ComponentResourceOptions & { keycloakComponent?: pulumi.Resource } = {}) {
    super(SSO_REALM_TYPE, `${name}-sso`, {}, opts);
    const parent = { parent: this };
    // These three were children of the Keycloak component itself.
    const moved = opts.keycloakComponent ? { aliases: [{ parent: opts.keycloakComponent }] } : {};
    const accountUrl = `${args.keycloakUrl}/realms/${args.realm}/account`;

    const realm = new keycloak.Realm(
      `${name}-realm`,
      {
        realm: args.realm,
        enabled: true,
        // Self-registration for the free services, with a verified email (docs/services/keycloak.md "Self-registration").
        registrationAllowed: true,
        verifyEmail: true,
        resetPasswordAllowed: true,
        rememberMe: true,
        loginWithEmailAllowed: true,
        duplicateEmailsAllowed: false,
        // The username is the uid in every app and what memberships match: never changed by its owner.
        editUsernameAllowed: false,
        sslRequired: "external",
        passwordPolicy: PASSWORD_POLICY,
        securityDefenses: { bruteForceDetection: { ...BRUTE_FORCE } },
        internationalization: { defaultLocale: "fr", supportedLocales: ["fr", "en"] },
        ...LIFESPANS,
        ...(args.smtp
          ? {
              smtpServer: {
                host: args.smtp.host,
                port: String(args.smtp.port),
                from: args.smtp.from,
                fromDisplayName: args.smtp.fromDisplayName,
                starttls: args.smtp.starttls,
                ssl: !args.smtp.starttls,
                ...(args.smtp.auth
                  ? { auth: { username: args.smtp.auth.username, password: pulumi.secret(args.smtp.auth.password) } }
                  : {}),
              },
            }
          : {}),
      },
      // The realm holds every account: never deleted by an edit.
      { ...parent, protect: args.protect, retainOnDelete: true, ...moved },
    );
    const realmId = realm.id;

    new keycloak.RealmEvents(
      `${name}-events`,
      {
        realmId,
        eventsEnabled: true,
        enabledEventTypes: [...STORED_EVENT_TYPES],
        // Ten years: long enough to remember who left, for an event that carries no more than a username.
        eventsExpiration: 10 * 365 * 24 * 3600,
        // Every change made through the admin API (tenant stacks, ops) is kept, without representations (they may hold secrets).
        adminEventsEnabled: true,
        adminEventsDetailsEnabled: false,
      },
      parent,
    );
    new keycloak.RequiredAction(`${name}-delete-account`, { realmId, alias: "delete_account", enabled: true }, parent);
    new keycloak.DefaultRoles(`${name}-default-roles`, { realmId, defaultRoles: DEFAULT_ROLES }, parent);

    const gatedScope = new keycloak.openid.ClientScope(
      `${name}-gated-scope`,
      {
        realmId,
        name: GATED_CLIENT_SCOPE,
        description: "Marks a client reserved to some members: the realm's registration and reset flows refuse it",
        includeInTokenScope: false,
      },
      parent,
    );

    // The realm's own flows, bound once complete (their ids carry every part).
    const realmFlow = (part: string, alias: string, description: string, steps: AuthStep[], after: pulumi.Resource[] = []) => {
      const built = buildAuthFlow(
        { flow: `${name}-${part}-flow`, prefix: `${name}-${part}` },
        { realmId, alias, description, steps },
        parent,
      );
      return pulumi.all([built.id, ...after.map((r) => r.urn)]).apply(() => alias);
    };
    new keycloak.authentication.Bindings(
      `${name}-flow-bindings`,
      {
        realmId,
        browserFlow: realmFlow("browser", "alacarte-browser", "Sign-in, with a second factor where required", browserSignInSteps()),
        directGrantFlow: realmFlow(
          "direct-grant",
          "alacarte-direct-grant",
          "Password grant, with a second factor where required",
          directGrantSignInSteps(),
        ),
        registrationFlow: realmFlow(
          "registration",
          "alacarte-registration",
          "Registration, refused to gated clients",
          registrationSteps(accountUrl),
          [gatedScope],
        ),
        resetCredentialsFlow: realmFlow(
          "reset",
          "alacarte-reset-credentials",
          "Password reset, refused to gated clients",
          resetCredentialsSteps(accountUrl),
          [gatedScope],
        ),
      },
      parent,
    );

    const tenants = new keycloak.Group(
      `${name}-tenants-group`,
      { realmId, name: "tenants" },
      { ...parent, protect: args.protect, retainOnDelete: true, ...moved },
    );

    const realmManagement = keycloak.openid.getClientOutput({ realmId, clientId: "realm-management" }, parent);
    const realmManagementRole = (role: string) => keycloak.getRoleOutput({ realmId, clientId: realmManagement.id, name: role }, parent);

    const platformAdmins = new keycloak.Group(
      `${name}-platform-admins`,
      { realmId, name: PLATFORM_ADMINS_GROUP, attributes: { [SECOND_FACTOR_ATTRIBUTE]: SECOND_FACTOR_REQUIRED } },
      parent,
    );
    new keycloak.GroupRoles(
      `${name}-platform-admins-roles`,
      { realmId, groupId: platformAdmins.id, roleIds: [realmManagementRole(PLATFORM_ADMIN_ROLE).id], exhaustive: true },
      parent,
    );
    new keycloak.GroupMemberships(
      `${name}-platform-admins-members`,
      { realmId, groupId: platformAdmins.id, members: [...new Set(args.admins)].sort() },
      parent,
    );

    const roleIds: Partial<Record<MemberService, pulumi.Output<string>>> = {};
    const gates: Partial<Record<MemberService, SignInGate>> = {};
    const clients: Partial<Record<MemberService, OidcClient>> = {};
    for (const service of Object.keys(MEMBER_SERVICES) as MemberService[]) {
      const facts = MEMBER_SERVICES[service];
      const role = new keycloak.Role(
        `${name}-${service}-role`,
        {
          realmId,
          name: memberServiceRole(service),
          description: `Opens the members' ${facts.name}: granted to /tenants/<slug>/${service}`,
        },
        parent,
      );
      roleIds[service] = role.id;
      const gate = createSignInGate(
        `${name}-${service}`,
        {
          realmId,
          alias: `member-${service}`,
          role: role.name,
          who: `members whose tenant file gives them ${service}`,
          denyMessage: `The members' ${facts.name} is reserved to the members whose organisation gives them access.`,
          directGrant: true,
        },
        parent,
      );
      gates[service] = gate;
      const origin = `https://${facts.host}.${args.baseDomain}`;
      clients[service] = new OidcClient(
        `${name}-${service}-oidc`,
        {
          realmId,
          clientId: `members-${service}`,
          name: `${facts.name} (members)`,
          redirectUris: [`${origin}${facts.redirectPath}`],
          baseUrl: origin,
          gate,
          keycloakUrl: args.keycloakUrl,
          realmName: args.realm,
        },
        { ...parent, dependsOn: [gatedScope] },
      );
    }

    // Mail: every tenant member, through the role on /tenants; password grant allowed (Dovecot).
    const mailRole = new keycloak.Role(
      `${name}-mail-role`,
      { realmId, name: MAIL_ROLE, description: "Opens mail with the Keycloak password: granted to /tenants, inherited by its subgroups" },
      parent,
    );
    new keycloak.GroupRoles(
      `${name}-mail-role-tenants`,
      { realmId, groupId: tenants.id, roleIds: [mailRole.id], exhaustive: true },
      parent,
    );
    const mailGate = createSignInGate(
      `${name}-mail`,
      {
        realmId,
        alias: "member-mail",
        role: mailRole.name,
        who: "members of a tenant",
        denyMessage: "Mail is reserved to the members of an organisation hosted here.",
        directGrant: true,
      },
      parent,
    );
    this.mailClient = new OidcClient(
      `${name}-mail-oidc`,
      {
        realmId,
        clientId: MAIL_CLIENT_ID,
        name: "Mail (members)",
        redirectUris: [webmailRedirectUri(args.webmailHostname)],
        baseUrl: `https://${args.webmailHostname}`,
        // Roundcube 1.6 sends no code_challenge (rcmail_oauth::login_redirect); it is a confidential client.
        pkce: false,
        gate: mailGate,
        directGrant: true,
        keycloakUrl: args.keycloakUrl,
        realmName: args.realm,
      },
      { ...parent, dependsOn: [gatedScope] },
    );

    const serviceAccount = (part: string, clientId: string, description: string, roles: readonly string[]) => {
      const client = new keycloak.openid.Client(
        `${name}-${part}-client`,
        {
          realmId,
          clientId,
          name: description,
          accessType: "CONFIDENTIAL",
          serviceAccountsEnabled: true,
          standardFlowEnabled: false,
          implicitFlowEnabled: false,
          directAccessGrantsEnabled: false,
        },
        { ...parent, ...(part === "tenants" ? moved : {}) },
      );
      for (const role of roles) {
        new keycloak.openid.ClientServiceAccountRole(
          `${name}-${part}-${role}`,
          { realmId, serviceAccountUserId: client.serviceAccountUserId, clientId: realmManagement.id, role },
          parent,
        );
      }
      return client;
    };
    const adminClient = serviceAccount("tenants", TENANTS_ADMIN_CLIENT_ID, "alacarte tenant stacks", TENANTS_ADMIN_ROLES);
    const accountsClient = serviceAccount("accounts", ACCOUNTS_CLIENT_ID, "alacarte accounts command", ACCOUNTS_ROLES);

    this.realmId = realmId;
    this.tenantsGroupId = tenants.id;
    this.adminClientId = adminClient.clientId;
    this.adminClientSecret = pulumi.secret(adminClient.clientSecret);
    this.accountsClientId = accountsClient.clientId;
    this.accountsClientSecret = pulumi.secret(accountsClient.clientSecret);
    this.memberServiceRoleIds = roleIds as Record<MemberService, pulumi.Output<string>>;
    this.memberServiceGates = gates as Record<MemberService, SignInGate>;
    this.memberServiceClients = clients as Record<MemberService, OidcClient>;
    this.registerOutputs({
      realmId: this.realmId,
      tenantsGroupId: this.tenantsGroupId,
      adminClientId: this.adminClientId,
      adminClientSecret: this.adminClientSecret,
      accountsClientId: this.accountsClientId,
      accountsClientSecret: this.accountsClientSecret,
      memberServiceRoleIds: this.memberServiceRoleIds,
    });
  }
}
