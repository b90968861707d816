#!/usr/bin/env node
/**
 * A stateful stand-in for wp-cli 2.12.0, the version of the pinned CLI image
 * (components/tenant/wordpress-image.ts), implementing only the subcommands
 * components/tenant/scripts/wordpress-setup.sh runs. Its state (a JSON file, WP_STUB_STATE) is
 * what WordPress would hold: installed or not, users with roles, sessions and application
 * passwords, plugins with versions and activation; WP_STUB_LOG gets one line per command that
 * changed it. Each rule follows wp-cli's source at the tags bundled in wp-cli 2.12.0
 * (wp-cli/wp-cli-bundle@v2.12.0:composer.lock): wp-cli/wp-cli@v2.12.0,
 * wp-cli/core-command@v2.1.20, wp-cli/entity-command@v2.8.4, wp-cli/extension-command@v2.1.24.
 * An unknown subcommand or flag fails, as wp-cli's synopsis check does.
 */
const fs = require("node:fs");

const statePath = process.env.WP_STUB_STATE;
const logPath = process.env.WP_STUB_LOG;
if (!statePath || !logPath) {
  process.stderr.write("wp stub: WP_STUB_STATE and WP_STUB_LOG must be set\n");
  process.exit(2);
}
const state = fs.existsSync(statePath)
  ? JSON.parse(fs.readFileSync(statePath, "utf8"))
  : { dbUp: true, installed: false, coreVersion: process.env.WP_STUB_CORE_VERSION, users: [], plugins: {} };

const argv = process.argv.slice(2);
const positional = [];
const flags = {};
for (const a of argv) {
  const m = /^--([a-z_-]+)(?:=(.*))?$/s.exec(a);
  if (m) flags[m[1]] = m[2] === undefined ? true : m[2];
  else positional.push(a);
}

function out(text) {
  process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
}
/** WP_CLI::error: "Error: …" on stderr, exit 1 (wp-cli@v2.12.0:php/class-wp-cli.php error). */
function error(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}
function warning(message) {
  process.stderr.write(`Warning: ${message}\n`);
}
function success(message) {
  out(`Success: ${message}`);
}
function changed(what) {
  fs.writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);
  fs.appendFileSync(logPath, `${what}\n`);
}
/** Only these flags, as wp-cli refuses a flag its synopsis lacks ("unknown --x parameter"). */
function allow(...names) {
  for (const f of Object.keys(flags)) if (!names.includes(f)) error(`Parameter errors:\n unknown --${f} parameter`);
}
function needInstalled() {
  // wp-cli@v2.12.0:php/utils-wp.php wp_not_installed, run before any command but core's and db's.
  if (!state.installed) error("The site you have requested is not installed.\nRun `wp core install` to create database tables.");
}
/** The user fetcher: by login here (entity-command@v2.8.4:src/WP_CLI/Fetchers/User.php get_check). */
function userOf(login) {
  const user = state.users.find((u) => u.login === login);
  if (!user) error(`Invalid user ID, email or login: '${login}'`);
  return user;
}
/** WordPress's default roles (wp-admin/includes/schema.php populate_roles); validate_role refuses others. */
const ROLES = ["administrator", "editor", "author", "contributor", "subscriber"];
function validateRole(role) {
  if (!ROLES.includes(role)) error(`Role doesn't exist: ${role}`);
}

const [group, sub, ...rest] = positional;
const cmd = `${group ?? ""} ${sub ?? ""}`.trim();

switch (cmd) {
  case "db query": {
    allow();
    // wp db query runs the mysql client with wp-config.php's credentials: it fails while the server is down.
    if (!state.dbUp) error("Failed to get current SQL modes. Reason: ERROR 2002 (HY000): Can't connect to server");
    out("1\n1");
    break;
  }
  case "core is-installed": {
    // core-command@v2.1.20:src/Core_Command.php is_installed: no output, halt(0) or halt(1).
    allow();
    process.exit(state.installed ? 0 : 1);
    break;
  }
  case "core install": {
    allow("url", "title", "admin_user", "admin_email", "admin_password", "skip-email", "prompt");
    // core-command@v2.1.20 install: an installed site is logged, not an error, exit 0.
    if (state.installed) {
      out("WordPress is already installed.");
      break;
    }
    let password = typeof flags.admin_password === "string" ? flags.admin_password : "";
    if (typeof flags.prompt === "string" && flags.prompt.split(",").includes("admin_password")) {
      // wp-cli@v2.12.0:php/WP_CLI/Dispatcher/Subcommand.php prompt: one line of STDIN.
      password = fs.readFileSync(0, "utf8").split("\n")[0];
    }
    const email = typeof flags.admin_email === "string" ? flags.admin_email : "";
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) error(`The '${email}' email address is invalid.`);
    const login = typeof flags.admin_user === "string" ? flags.admin_user : "";
    // wp_install → wp_create_user refuses an empty login (wp-includes/user.php wp_insert_user).
    if (!login) error("Installation failed (Cannot create a user with an empty login name.).");
    if (!password) out(`Admin password: generated`);
    state.installed = true;
    state.dbVersion = state.coreVersion;
    state.home = flags.url;
    state.title = flags.title;
    state.users.push({ login, email, roles: ["administrator"], sessions: 0, appPasswords: 0, passwordLength: password.length });
    changed(`core install ${login}`);
    success("WordPress installed successfully.");
    break;
  }
  case "core version": {
    // core-command@v2.1.20 version: the version of wp-includes/version.php, which the image's
    // entrypoint copied into the volume; none there is wp-cli's "not a WordPress installation".
    allow();
    if (!state.coreVersion) error("This does not seem to be a WordPress installation.");
    out(state.coreVersion);
    break;
  }
  case "core update": {
    allow("version");
    needInstalled();
    const target = String(flags.version ?? "");
    const newer = (a, b) => {
      const [x, y] = [a, b].map((v) => v.split(".").map(Number));
      for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
      return false;
    };
    // core-command@v2.1.20 update: --version above the installed one updates; else, without
    // --force, nothing to do ("WordPress is up to date.").
    if (!/^\d+\.\d+(\.\d+)?$/.test(target) || !newer(target, state.coreVersion)) {
      success("WordPress is up to date.");
      break;
    }
    state.coreVersion = target;
    changed(`core update ${target}`);
    success("WordPress updated successfully.");
    break;
  }
  case "core update-db": {
    allow();
    needInstalled();
    // core-command@v2.1.20 update_db: nothing when the stored db_version is the core's.
    if (state.dbVersion === state.coreVersion) {
      success("WordPress database already at latest db version.");
      break;
    }
    state.dbVersion = state.coreVersion;
    changed(`core update-db ${state.coreVersion}`);
    success("WordPress database upgraded successfully.");
    break;
  }
  case "plugin get": {
    allow("field");
    needInstalled();
    // extension-command@v2.1.24:src/WP_CLI/Fetchers/Plugin.php: "The '%s' plugin could not be found."
    const plugin = state.plugins[rest[0]];
    if (!plugin) error(`The '${rest[0]}' plugin could not be found.`);
    if (flags.field === "version") out(plugin.version);
    else if (flags.field === "status") out(plugin.active ? "active" : "inactive");
    else error(`Invalid field: ${flags.field}`);
    break;
  }
  case "plugin install": {
    allow("force", "activate");
    needInstalled();
    // A zip URL: WP's upgrader refuses an existing folder unless clear_destination (--force)
    // (extension-command@v2.1.24:src/WP_CLI/CommandWithUpgrade.php install, wp-admin/includes/class-wp-upgrader.php install_package).
    const m = /^https:\/\/downloads\.wordpress\.org\/plugin\/([a-z0-9-]+)\.([0-9][0-9a-z.-]*)\.zip$/.exec(rest[0] ?? "");
    if (!m) error("No plugins installed.");
    const [, slug, version] = m;
    const existing = state.plugins[slug];
    if (existing && !flags.force) {
      warning("Destination folder already exists.");
      error("No plugins installed.");
    }
    state.plugins[slug] = { version, active: existing?.active ?? false };
    changed(`plugin install ${slug} ${version}`);
    success("Installed 1 of 1 plugins.");
    break;
  }
  case "plugin is-active": {
    allow();
    needInstalled();
    // extension-command@v2.1.24 is_active: halt(1) for a missing plugin too.
    const plugin = state.plugins[rest[0]];
    process.exit(plugin?.active ? 0 : 1);
    break;
  }
  case "plugin activate": {
    allow();
    needInstalled();
    const plugin = state.plugins[rest[0]];
    if (!plugin) {
      warning(`The '${rest[0]}' plugin could not be found.`);
      error("No plugins activated.");
    }
    if (plugin.active) {
      // Not an error: report_batch_operation_results with nothing done (wp-cli@v2.12.0:php/utils.php).
      warning(`Plugin '${rest[0]}' is already active.`);
      success("Plugin already activated.");
      break;
    }
    plugin.active = true;
    changed(`plugin activate ${rest[0]}`);
    success("Activated 1 of 1 plugins.");
    break;
  }
  case "user list": {
    allow("field");
    needInstalled();
    if (flags.field !== "user_login") error(`Invalid field: ${flags.field}`);
    for (const u of state.users) out(u.login);
    break;
  }
  case "user get": {
    allow("field");
    needInstalled();
    const user = userOf(rest[0]);
    // entity-command@v2.8.4:src/User_Command.php get: roles joined by ", ".
    if (flags.field !== "roles") error(`Invalid field: ${flags.field}`);
    out(user.roles.join(", "));
    break;
  }
  case "user set-role": {
    allow();
    needInstalled();
    const user = userOf(rest[0]);
    const role = rest[1] ?? "subscriber";
    validateRole(role);
    user.roles = [role];
    changed(`user set-role ${user.login} ${role}`);
    success(`Added ${user.login} to the site as ${role}.`);
    break;
  }
  case "user remove-role": {
    allow();
    needInstalled();
    const user = userOf(rest[0]);
    const roles = rest.slice(1);
    for (const r of roles) validateRole(r);
    // Without a role: remove_all_caps on a single site (entity-command@v2.8.4 remove_role).
    user.roles = roles.length ? user.roles.filter((r) => !roles.includes(r)) : [];
    changed(`user remove-role ${user.login}`);
    success(`Removed ${user.login} from the site.`);
    break;
  }
  case "user session": {
    needInstalled();
    const [action, login] = rest;
    const user = userOf(login);
    if (action === "list") {
      allow("format");
      if (flags.format !== "count") error(`Invalid format: ${flags.format}`);
      out(String(user.sessions));
    } else if (action === "destroy") {
      allow("all");
      // entity-command@v2.8.4:src/User_Session_Command.php destroy: --all destroys all, even none.
      if (!flags.all) error("Session not found.");
      user.sessions = 0;
      changed(`user session destroy ${user.login}`);
      success("Destroyed all sessions.");
    } else error(`'user session ${action}' is not a registered wp command.`);
    break;
  }
  case "user application-password": {
    needInstalled();
    const [action, login, ...uuids] = rest;
    const user = userOf(login);
    if (action === "list") {
      allow("format");
      if (flags.format !== "count") error(`Invalid format: ${flags.format}`);
      out(String(user.appPasswords));
    } else if (action === "delete") {
      allow("all");
      // entity-command@v2.8.4:src/User_Application_Password_Command.php delete.
      if ((uuids.length > 0 && flags.all) || (uuids.length === 0 && !flags.all))
        error("You need to specify either one or more UUIDS or provide the --all flag");
      user.appPasswords = 0;
      changed(`user application-password delete ${user.login}`);
      success("Deleted all application passwords.");
    } else error(`'user application-password ${action}' is not a registered wp command.`);
    break;
  }
  default:
    error(`'${cmd}' is not a registered wp command. See 'wp help' for available commands.`);
}
