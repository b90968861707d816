import type * as pulumi from "@pulumi/pulumi";
import type { AuthExecution, AuthStep, AuthSubflow } from "./auth-flow";

/**
 * The steps of the realm's authentication flows and of each gate, as data (components/blocks/auth-flow.ts
 * builds them). Provider ids and config keys are Keycloak 26's, checked in its source
 * (docs/services/keycloak.md "Flows").
 */

/**
 * Group attribute that makes a second factor compulsory for the group's members (platform
 * administrators, every tenant's `admins`): read by "Condition - user attribute" with group
 * attributes included, so granting it costs no resource beyond the group itself.
 */
export const SECOND_FACTOR_ATTRIBUTE = "alacarte-second-factor";
export const SECOND_FACTOR_REQUIRED = "required";

/** Client scope every gated client carries: the realm's registration and reset flows refuse those clients. */
export const GATED_CLIENT_SCOPE = "alacarte-gated";

/** Keycloak's default client scopes of an OIDC client (26.x), kept when the gated scope is added. */
export const DEFAULT_CLIENT_SCOPES = ["acr", "basic", "email", "profile", "roles", "web-origins"] as const;

function execution(
  part: string,
  authenticator: string,
  requirement: AuthExecution["requirement"],
  config?: AuthExecution["config"],
): AuthExecution {
  return { kind: "execution", part, authenticator, requirement, ...(config ? { config } : {}) };
}

function subflow(part: string, requirement: AuthSubflow["requirement"], steps: AuthStep[]): AuthSubflow {
  return { kind: "subflow", part, requirement, steps };
}

/** "Condition - user attribute" on the second-factor group attribute; `negate` turns it into "not required". */
function secondFactorCondition(part: string, negate: boolean): AuthExecution {
  return execution(part, "conditional-user-attribute", "REQUIRED", {
    attribute_name: SECOND_FACTOR_ATTRIBUTE,
    attribute_expected_value: SECOND_FACTOR_REQUIRED,
    include_group_attributes: "true",
    not: String(negate),
  });
}

/**
 * The one-time code after a password: compulsory for whoever the second-factor attribute names
 * (REQUIRED, so Keycloak makes a person without one set it up first), asked of everyone else who
 * configured it. Two subflows because the conditions of one subflow are all required together.
 */
function secondFactorSteps(otpAuthenticator: string): AuthStep[] {
  return [
    subflow("second-factor", "CONDITIONAL", [
      secondFactorCondition("second-factor-required", false),
      execution("second-factor-otp", otpAuthenticator, "REQUIRED"),
    ]),
    subflow("otp", "CONDITIONAL", [
      execution("otp-configured", "conditional-user-configured", "REQUIRED"),
      secondFactorCondition("otp-not-required", true),
      execution("otp-form", otpAuthenticator, "REQUIRED"),
    ]),
  ];
}

/** Sign-in in a browser: the SSO cookie, or the password form and the second factor. */
export function browserSignInSteps(): AuthStep[] {
  return [
    subflow("login", "REQUIRED", [
      execution("cookie", "auth-cookie", "ALTERNATIVE"),
      subflow("forms", "ALTERNATIVE", [
        execution("password", "auth-username-password-form", "REQUIRED"),
        ...secondFactorSteps("auth-otp-form"),
      ]),
    ]),
  ];
}

/** Sign-in by the password grant (a mail client through Dovecot): username, password, second factor. */
export function directGrantSignInSteps(): AuthStep[] {
  return [
    execution("username", "direct-grant-validate-username", "REQUIRED"),
    execution("password", "direct-grant-validate-password", "REQUIRED"),
    ...secondFactorSteps("direct-grant-validate-otp"),
  ];
}

/**
 * Denies whoever lacks `role` (a realm role, by name; an Output of the role resource, so the
 * config waits for the role). Placed after a REQUIRED sign-in, it runs on SSO-cookie sign-ins too.
 */
export function roleGateSteps(role: pulumi.Input<string>, message: string): AuthStep[] {
  return [
    subflow("gate", "CONDITIONAL", [
      execution("not-member", "conditional-user-role", "REQUIRED", { condUserRole: role, negate: "true" }),
      execution("deny", "deny-access-authenticator", "REQUIRED", { denyErrorMessage: message }),
    ]),
  ];
}

/** Denies a flow to gated clients (their client scope): registration and reset from a tenant app's sign-in page. */
function gatedClientDenySteps(message: string): AuthStep[] {
  return [
    subflow("gated-client", "CONDITIONAL", [
      execution("gated-client-scope", "conditional-client-scope", "REQUIRED", { client_scope: GATED_CLIENT_SCOPE, negate: "false" }),
      execution("gated-client-deny", "deny-access-authenticator", "REQUIRED", { denyErrorMessage: message }),
    ]),
  ];
}

/**
 * Keycloak's registration flow (`DefaultAuthenticationFlows.registrationFlow`), reCAPTCHA left out
 * (a third party), behind a refusal for gated clients: an account made from a tenant app's page
 * would otherwise be signed in to that app (keycloak#12759).
 */
export function registrationSteps(accountUrl: string): AuthStep[] {
  return [
    ...gatedClientDenySteps(`Create your account at ${accountUrl}, then ask the organisation to add you.`),
    {
      kind: "subflow",
      part: "form",
      requirement: "REQUIRED",
      providerId: "form-flow",
      authenticator: "registration-page-form",
      steps: [
        execution("user-creation", "registration-user-creation", "REQUIRED"),
        execution("password-action", "registration-password-action", "REQUIRED"),
      ],
    },
  ];
}

/**
 * Keycloak's reset-credentials flow (`DefaultAuthenticationFlows.resetCredentialsFlow`) behind the
 * same refusal: a reset ends by signing in to the client that asked, which must not open a gated
 * app to a non-member. Members reset from the account console instead.
 */
export function resetCredentialsSteps(accountUrl: string): AuthStep[] {
  return [
    ...gatedClientDenySteps(`Reset your password at ${accountUrl}.`),
    execution("choose-user", "reset-credentials-choose-user", "REQUIRED"),
    execution("send-email", "reset-credential-email", "REQUIRED"),
    execution("new-password", "reset-password", "REQUIRED"),
    subflow("otp", "CONDITIONAL", [
      execution("otp-configured", "conditional-user-configured", "REQUIRED"),
      execution("reset-otp", "reset-otp", "REQUIRED"),
    ]),
  ];
}
