#!/usr/bin/env node
/**
 * A stateful stub of Nextcloud's `occ` (and, invoked as `curl`, of the two HTTP calls the setup
 * script makes: an app archive download and user_oidc's OCS user API), for the post-install
 * script's tests. State lives in the JSON file $OCC_STATE; app code lives in
 * $NEXTCLOUD_ROOT/custom_apps, as in the image. It fails where the real commands fail; each rule
 * cites the command's source in nextcloud/server (core/Command/…, recent master) or nextcloud/user_oidc@v8.10.1.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const statePath = process.env.OCC_STATE;
if (!statePath) fail("OCC_STATE is not set", 2);
const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
const root = process.env.NEXTCLOUD_ROOT ?? "/var/www/html";
const save = () => fs.writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Symfony console's parsing: `--name=value`, `--name value` for options that take one, positionals. */
function parse(argv, valued) {
  const options = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) options[a.slice(2, eq)] = a.slice(eq + 1);
      else if (valued.includes(a.slice(2))) options[a.slice(2)] = argv[++i];
      else options[a.slice(2)] = true;
    } else positional.push(a);
  }
  return { options, positional };
}

/** An unknown option is refused (Symfony console: `The "--x" option does not exist.`). */
function only(options, allowed) {
  for (const k of Object.keys(options)) if (!allowed.includes(k)) fail(`The "--${k}" option does not exist.`);
}

function codeVersion(id) {
  const info = path.join(root, "custom_apps", id, "appinfo", "info.xml");
  if (!fs.existsSync(info)) return undefined;
  return /<version>([^<]+)<\/version>/.exec(fs.readFileSync(info, "utf8"))?.[1];
}

function user(uid) {
  const u = state.users[uid];
  return u;
}

if (path.basename(process.argv[1]) === "curl" || process.env.STUB_AS === "curl") curl(process.argv.slice(2));
else occ(process.argv.slice(2));

function occ(argv) {
  const [command, ...rest] = argv;
  if (!state.installed && command !== "status") fail("Nextcloud is not installed - only a limited number of commands are available");
  const { options, positional } = parse(rest, ["value", "type", "output", "last-used-before"]);
  switch (command) {
    case "status": {
      // core/Command/Status.php: installed, version, maintenance…
      process.stdout.write(
        `${JSON.stringify({ installed: state.installed, maintenance: false, needsDbUpgrade: false, versionstring: state.version })}\n`,
      );
      return;
    }
    case "config:system:set": {
      // core/Command/Config/System/SetConfig.php: names nest; --type boolean takes only true/false.
      only(options, ["value", "type"]);
      if (options.value === undefined) fail("The value is required");
      let value = options.value;
      if (options.type === "boolean") {
        if (!/^(true|false)$/i.test(value)) fail(`Unable to parse value as boolean`);
        value = value.toLowerCase() === "true";
      } else if (options.type !== undefined && options.type !== "string") fail(`stub: type ${options.type} not modelled`);
      let node = state.systemConfig;
      positional.slice(0, -1).forEach((k) => {
        node[k] ??= {};
        node = node[k];
      });
      node[positional.at(-1)] = value;
      save();
      return;
    }
    case "config:app:set": {
      // core/Command/Config/App/SetConfig.php
      only(options, ["value"]);
      const [app, name] = positional;
      if (!app || !name || options.value === undefined) fail("Not enough arguments");
      state.appConfig[app] ??= {};
      state.appConfig[app][name] = options.value;
      save();
      return;
    }
    case "config:app:get": {
      // core/Command/Config/App/GetConfig.php: a key never set, without --default-value, exits 1 and prints nothing.
      const [app, name] = positional;
      const value = state.appConfig[app]?.[name];
      if (value === undefined) process.exit(1);
      process.stdout.write(`${value}\n`);
      return;
    }
    case "background:cron": {
      // core/Command/Background/Mode.php
      state.appConfig.core ??= {};
      state.appConfig.core.backgroundjobs_mode = "cron";
      save();
      return;
    }
    case "app:list": {
      // core/Command/App/ListApps.php: {"enabled":{id:version},"disabled":{id:version|null}}
      const enabled = {};
      const disabled = {};
      for (const [id, app] of Object.entries(state.apps)) (app.enabled ? enabled : disabled)[id] = app.version ?? null;
      process.stdout.write(`${JSON.stringify({ enabled, disabled })}\n`);
      return;
    }
    case "app:enable": {
      // core/Command/App/Enable.php: an app whose code is absent is looked up in the app store
      // (unreachable here: "<id> not found", exit 1); its installed version becomes the code's.
      for (const id of positional) {
        const version = codeVersion(id) ?? state.apps[id]?.shippedVersion;
        if (!version) fail(`${id} not found`);
        state.apps[id] = { ...(state.apps[id] ?? {}), enabled: true, version };
        state.appConfig[id] ??= {};
        state.appConfig[id].installed_version ??= version;
        if (state.appConfig[id].installed_version !== version) fail(`${id} needs an upgrade: run occ upgrade`);
      }
      save();
      return;
    }
    case "app:disable": {
      // core/Command/App/Disable.php: "No such app enabled: <id>" for an app that is not enabled.
      for (const id of positional) {
        if (!state.apps[id]?.enabled) fail(`No such app enabled: ${id}`);
        state.apps[id].enabled = false;
      }
      save();
      return;
    }
    case "upgrade": {
      // core/Command/Upgrade.php: migrates every app whose code is newer than its installed version.
      for (const id of Object.keys(state.apps)) {
        const version = codeVersion(id);
        if (version && state.appConfig[id]) state.appConfig[id].installed_version = version;
        if (version) state.apps[id].version = version;
      }
      save();
      return;
    }
    case "richdocuments:activate-config": {
      // richdocuments lib/Command/ActivateConfig.php: needs the app and its wopi_url.
      if (!state.apps.richdocuments?.enabled) fail('Command "richdocuments:activate-config" is not defined.');
      if (!state.appConfig.richdocuments?.wopi_url) fail("No WOPI URL configured");
      state.appConfig.richdocuments.activated = state.appConfig.richdocuments.wopi_url;
      save();
      return;
    }
    case "user_oidc:provider":
      return provider(positional, options);
    case "user:list": {
      // core/Command/User/ListCommand.php: {uid: displayName}, `[]` when there is none.
      const list = Object.fromEntries(Object.entries(state.users).map(([uid, u]) => [uid, u.displayName]));
      process.stdout.write(`${Object.keys(list).length ? JSON.stringify(list) : "[]"}\n`);
      return;
    }
    case "user:info": {
      // core/Command/User/Info.php: "user not found", exit 1.
      const u = user(positional[0]);
      if (!u) fail("user not found");
      process.stdout.write(
        `${JSON.stringify({ user_id: positional[0], display_name: u.displayName, enabled: u.enabled, backend: u.backend })}\n`,
      );
      return;
    }
    case "user:enable":
    case "user:disable": {
      // core/Command/User/Enable.php, Disable.php: a missing user is an error.
      const u = user(positional[0]);
      if (!u) fail("User does not exist");
      u.enabled = command === "user:enable";
      save();
      return;
    }
    case "user:auth-tokens:delete": {
      // core/Command/User/AuthTokens/Delete.php: a token id or --last-used-before is required; --all
      // is refused here, since not every release has it.
      only(options, ["last-used-before"]);
      const u = user(positional[0]);
      if (!u) fail(`user ${positional[0]} not found`);
      if (positional[1] === undefined && options["last-used-before"] === undefined)
        fail("Not enough arguments. Specify the token <id> or use the --last-used-before option.");
      const before = Number(options["last-used-before"]);
      if (!Number.isFinite(before)) fail("Invalid timestamp");
      u.tokens = u.tokens.filter((t) => (positional[1] !== undefined ? t.id !== positional[1] : t.lastUsed >= before));
      save();
      return;
    }
    case "group:list": {
      // core/Command/Group/ListCommand.php: {gid: [uid…]}
      process.stdout.write(`${JSON.stringify(state.groups)}\n`);
      return;
    }
    case "group:adduser":
    case "group:removeuser": {
      // core/Command/Group/AddUser.php, RemoveUser.php: missing group or user is an error; adding a
      // member or removing a non-member changes nothing (lib/private/Group/Group.php).
      const [gid, uid] = positional;
      if (!state.groups[gid]) fail("group not found");
      if (!user(uid)) fail("user not found");
      const members = new Set(state.groups[gid]);
      if (command === "group:adduser") members.add(uid);
      else members.delete(uid);
      state.groups[gid] = [...members].sort();
      save();
      return;
    }
    default:
      fail(`Command "${command}" is not defined.`);
  }
}

/** user_oidc lib/Command/UpsertProvider.php: upsert with options, show with none (`Provider not found`, exit -1). */
function provider(positional, options) {
  const [identifier] = positional;
  const settings = Object.fromEntries(Object.entries(options).filter(([k]) => k !== "output"));
  if (Object.keys(settings).length === 0) {
    const p = state.providers[identifier];
    if (!p) fail("Provider not found", 255);
    process.stdout.write(`${JSON.stringify({ id: p.id, identifier, clientId: p.settings.clientid, settings: p.settings })}\n`);
    return;
  }
  if (settings["clientsecret-file"] !== undefined) {
    settings.clientsecret = fs.readFileSync(settings["clientsecret-file"] === "/dev/stdin" ? 0 : settings["clientsecret-file"], "utf8");
    delete settings["clientsecret-file"];
  }
  const existing = state.providers[identifier];
  if (!existing && (!settings.clientid || !settings.clientsecret || !settings.discoveryuri)) fail("Missing arguments for a new provider");
  state.providers[identifier] = {
    id: existing?.id ?? Object.keys(state.providers).length + 1,
    settings: { ...(existing?.settings ?? {}), ...settings },
  };
  save();
}

/** The two requests of the setup script, as curl makes them. */
function curl(argv) {
  const { options, positional } = parse(argv, ["o", "K", "X", "H", "data-urlencode", "retry"]);
  // curl's short flags: the stub reads the ones the script passes (-fsSL, -fsS, -o, -K, -X, -H).
  const args = [];
  for (let i = 0; i < argv.length; i++) args.push(argv[i]);
  const value = (flag) => {
    const values = [];
    for (let i = 0; i < args.length; i++) if (args[i] === flag) values.push(args[i + 1]);
    return values;
  };
  const url = positional.filter((p) => /^https?:\/\//.test(p)).at(-1);
  if (!url) fail("curl: no URL specified", 2);
  const out = value("-o")[0];
  if (url.startsWith("http://localhost/ocs/v2.php/apps/user_oidc/api/v1/user")) {
    // nextcloud/server lib/private/AppFramework/Middleware/Security/CORSMiddleware + OCS: basic
    // auth of an admin, and the OCS-APIRequest header against CSRF; user_oidc@v8.10.1
    // lib/Controller/OcsApiController.php createUser: create or update the backend user.
    const config = value("-K")[0] === "-" ? fs.readFileSync(0, "utf8") : "";
    const login = /^user = "([^:"]*):([^"]*)"$/m.exec(config);
    const admin = login && state.users[login[1]];
    if (!login || !admin || login[2] !== state.adminPassword || !state.groups.admin.includes(login[1])) fail("curl: (22) 401", 22);
    if (!value("-H").includes("OCS-APIRequest: true")) fail("curl: (22) 401", 22);
    const form = Object.fromEntries(value("--data-urlencode").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const providerOk = Object.values(state.providers).some((p) => String(p.id) === form.providerId);
    if (!providerOk || !form.userId) fail("curl: (22) 400", 22);
    state.users[form.userId] ??= { displayName: form.userId, enabled: true, backend: "user_oidc", tokens: [] };
    save();
    if (out && out !== "/dev/null") fs.writeFileSync(out, '{"ocs":{"data":{"user_id":"x"}}}');
    return;
  }
  const fixture = JSON.parse(process.env.CURL_FIXTURES ?? "{}")[url];
  if (!fixture) fail(`curl: (22) The requested URL returned error: 404 (${url})`, 22);
  state.downloads = [...(state.downloads ?? []), url];
  save();
  fs.copyFileSync(fixture, out);
  void options;
}
