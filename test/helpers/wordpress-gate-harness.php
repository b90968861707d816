<?php
/**
 * Runs the tenant gate (components/tenant/scripts/wordpress-tenant-gate.php) against the few
 * WordPress functions it uses, written here after WordPress's own: add_filter/add_action keep a
 * callback with its priority and accepted_args, and apply_filters/do_action pass it only that
 * many arguments, in priority order (wp-includes/plugin.php, wp-includes/class-wp-hook.php
 * apply_filters); WP_User::set_role('') removes every role (wp-includes/class-wp-user.php).
 * Usage: php wordpress-gate-harness.php <gate.php>; prints JSON.
 */
define( 'ABSPATH', '/var/www/html/' );

$GLOBALS['hooks'] = array();
function add_filter( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	$GLOBALS['hooks'][ $hook ][ $priority ][] = array( $callback, $accepted_args );
	return true;
}
function add_action( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	return add_filter( $hook, $callback, $priority, $accepted_args );
}
function apply_filters( $hook, $value, ...$args ) {
	$all = array_merge( array( $value ), $args );
	$by_priority = $GLOBALS['hooks'][ $hook ] ?? array();
	ksort( $by_priority );
	foreach ( $by_priority as $callbacks ) {
		foreach ( $callbacks as list( $callback, $accepted ) ) {
			$all[0] = call_user_func_array( $callback, array_slice( $all, 0, $accepted ) );
		}
	}
	return $all[0];
}
function do_action( $hook, ...$args ) {
	$by_priority = $GLOBALS['hooks'][ $hook ] ?? array();
	ksort( $by_priority );
	foreach ( $by_priority as $callbacks ) {
		foreach ( $callbacks as list( $callback, $accepted ) ) {
			call_user_func_array( $callback, array_slice( $args, 0, $accepted ) );
		}
	}
}
function __return_false() {
	return false;
}
class WP_Error {
	public $code;
	public function __construct( $code = '', $message = '' ) {
		$this->code = $code;
	}
}
class WP_User {
	public $roles = array();
	public function __construct( $roles ) {
		$this->roles = $roles;
	}
	public function set_role( $role ) {
		$this->roles = '' === $role ? array() : array( $role );
	}
}
class PHPMailerStub {
	public $Mailer = 'mail', $Host, $Port, $SMTPSecure, $SMTPAuth, $Username, $Password;
	public function isSMTP() {
		$this->Mailer = 'smtp';
	}
}

require $argv[1];

$claims = array(
	'member'    => array( 'sub' => '1', 'preferred_username' => 'bruno', 'groups' => array( '/tenants/acme' ) ),
	'admin'     => array( 'sub' => '2', 'preferred_username' => 'alice', 'groups' => array( '/tenants/acme', '/tenants/acme/admins' ) ),
	'other'     => array( 'sub' => '3', 'preferred_username' => 'eve', 'groups' => array( '/tenants/other', '/tenants/other/admins' ) ),
	'prefix'    => array( 'sub' => '4', 'preferred_username' => 'mallory', 'groups' => array( '/tenants/acme-evil' ) ),
	'no-groups' => array( 'sub' => '5', 'preferred_username' => 'oscar' ),
);
$result = array();
foreach ( $claims as $name => $claim ) {
	$created = new WP_User( array( 'subscriber' ) );
	do_action( 'openid-connect-generic-user-create', $created, $claim );
	$existing = new WP_User( array( 'administrator' ) );
	do_action( 'openid-connect-generic-update-user-using-current-claim', $existing, $claim );
	$result['claims'][ $name ] = array(
		'login'        => apply_filters( 'openid-connect-generic-user-login-test', true, $claim ),
		'create'       => apply_filters( 'openid-connect-generic-user-creation-test', true, $claim ),
		'createdRoles' => $created->roles,
		'updatedRoles' => $existing->roles,
	);
}
$password = apply_filters( 'authenticate', null, 'alice', 'secret' );
$result['passwordSignIn'] = is_object( $password ) ? get_class( $password ) : $password;
$result['emptySignIn'] = apply_filters( 'authenticate', 'cookie-user', '', '' );
$result['applicationPasswords'] = apply_filters( 'wp_is_application_passwords_available', true );
$result['xmlrpc'] = apply_filters( 'xmlrpc_enabled', true );
$mailer = new PHPMailerStub();
do_action( 'phpmailer_init', $mailer );
$result['mailer'] = get_object_vars( $mailer );
$result['from'] = apply_filters( 'wp_mail_from', 'wordpress@acme.org' );
$result['fromName'] = apply_filters( 'wp_mail_from_name', 'WordPress' );
echo json_encode( $result, JSON_PRETTY_PRINT ), "\n";
