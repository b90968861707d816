<?php
/**
 * Plugin Name: alacarte tenant gate
 * Description: Only the tenant's members sign in (through Keycloak), with the role their groups give; no password sign-in, no application password, no XML-RPC; mail through the platform's SMTP.
 *
 * Installed into wp-content/mu-plugins/ by wordpress-setup.sh (docs/services/wordpress.md
 * "Sign-in"). Its settings come from the container's environment: ALACARTE_TENANT_GROUP and
 * ALACARTE_ADMINS_GROUP (the group paths of the `groups` claim), ALACARTE_SMTP_* and
 * ALACARTE_MAIL_FROM(_NAME); the SMTP password is the secret ALACARTE_SMTP_PASSWORD.
 * The hooks are the OpenID Connect Generic plugin's, at 3.10.3:
 * includes/openid-connect-generic-client.php validate_user_claim (user-login-test),
 * includes/openid-connect-generic-client-wrapper.php create_new_user (user-creation-test,
 * user-create) and login_user (update-user-using-current-claim).
 */

defined( 'ABSPATH' ) || exit;

/** Whether a claim's `groups` lists a group path. Keycloak sends full paths (components/blocks/oidc-client.ts). */
function alacarte_claim_has_group( $user_claim, $group ) {
	if ( ! is_array( $user_claim ) || ! isset( $user_claim['groups'] ) || ! is_array( $user_claim['groups'] ) ) {
		return false;
	}
	return is_string( $group ) && '' !== $group && in_array( $group, $user_claim['groups'], true );
}

/** A member of the tenant: the claim lists `/tenants/<slug>`. Keycloak's gate is not enough (its registration and reset pages). */
function alacarte_is_member( $user_claim ) {
	return alacarte_claim_has_group( $user_claim, getenv( 'ALACARTE_TENANT_GROUP' ) );
}

/** The role a member gets: administrator for the tenant's admins, editor for the others. */
function alacarte_role_for( $user_claim ) {
	return alacarte_claim_has_group( $user_claim, getenv( 'ALACARTE_ADMINS_GROUP' ) ) ? 'administrator' : 'editor';
}

// A non-member never signs in, and never gets an account.
add_filter(
	'openid-connect-generic-user-login-test',
	function ( $login_user, $user_claim ) {
		return $login_user && alacarte_is_member( $user_claim );
	},
	10,
	2
);
add_filter(
	'openid-connect-generic-user-creation-test',
	function ( $create_user, $user_claim ) {
		return $create_user && alacarte_is_member( $user_claim );
	},
	10,
	2
);

/** Gives a member the role of their groups, at their account's creation and at every sign-in. */
function alacarte_set_role_from_claim( $user, $user_claim ) {
	if ( ! is_object( $user ) || ! method_exists( $user, 'set_role' ) ) {
		return;
	}
	$user->set_role( alacarte_is_member( $user_claim ) ? alacarte_role_for( $user_claim ) : '' );
}
add_action( 'openid-connect-generic-update-user-using-current-claim', 'alacarte_set_role_from_claim', 10, 2 );
add_action( 'openid-connect-generic-user-create', 'alacarte_set_role_from_claim', 10, 2 );

// No password sign-in: every person signs in through Keycloak (the plugin sets the cookie itself,
// never through wp_authenticate). Last, after WordPress's own authenticators (priorities 20–99).
add_filter(
	'authenticate',
	function ( $user, $username, $password ) {
		if ( '' === (string) $username && '' === (string) $password ) {
			return $user;
		}
		return new WP_Error( 'alacarte_password_sign_in', 'Sign in with your account of the association (Keycloak).' );
	},
	1000,
	3
);
add_filter( 'wp_is_application_passwords_available', '__return_false' );
add_filter( 'xmlrpc_enabled', '__return_false' );

// Mail through the platform's mail server, with its login and its sender (docs/services/app-setup.md "Mail").
add_action(
	'phpmailer_init',
	function ( $phpmailer ) {
		$phpmailer->isSMTP();
		$phpmailer->Host       = (string) getenv( 'ALACARTE_SMTP_HOST' );
		$phpmailer->Port       = (int) getenv( 'ALACARTE_SMTP_PORT' );
		$phpmailer->SMTPSecure = (string) getenv( 'ALACARTE_SMTP_SECURE' );
		$phpmailer->SMTPAuth   = true;
		$phpmailer->Username   = (string) getenv( 'ALACARTE_SMTP_USER' );
		$phpmailer->Password   = (string) getenv( 'ALACARTE_SMTP_PASSWORD' );
	}
);
add_filter(
	'wp_mail_from',
	function () {
		return (string) getenv( 'ALACARTE_MAIL_FROM' );
	}
);
add_filter(
	'wp_mail_from_name',
	function ( $name ) {
		$own = getenv( 'ALACARTE_MAIL_FROM_NAME' );
		return ( false === $own || '' === $own ) ? $name : $own;
	}
);
