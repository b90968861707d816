import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { PROJECT_ROOT } from "../../infra/contract/paths";
import type { HostConnection } from "../platform/outputs";
import { hostConnection } from "./host-file";
import { shellQuote } from "./shell";

export const APP_SETUP_TYPE = "alacarte:block:AppSetup";

/** Where the post-install scripts of the offers live in the repository (docs/services/app-setup.md). */
export const APP_SCRIPTS_DIR = "components/tenant/scripts";

/** A post-install script of the repository: its name (the file's) and its text. */
export interface AppScript {
  /** File name under {@link APP_SCRIPTS_DIR}. @example "nextcloud-setup.sh" */
  name: string;
  text: string;
}

const scripts = new Map<string, AppScript>();

/** The text of a script of {@link APP_SCRIPTS_DIR}, read once per process. */
export function appScript(name: string): AppScript {
  let script = scripts.get(name);
  if (!script) {
    if (!/^[a-z0-9-]+\.(sh|php)$/.test(name)) throw new Error(`App script name "${name}" must be a plain file name`);
    script = { name, text: fs.readFileSync(path.join(PROJECT_ROOT, APP_SCRIPTS_DIR, name), "utf8") };
    scripts.set(name, script);
  }
  return script;
}

export interface AppSetupArgs {
  /** Host the container runs on: the command runs there over ssh. */
  host: HostConnection;
  /** Name of the running container the script runs in (`docker exec`). */
  container: pulumi.Input<string>;
  /**
   * Id of that container: a new container (a new image, changed settings) runs the script again,
   * as a change of the script or of its arguments does.
   */
  containerId: pulumi.Input<string>;
  /** User the script runs as inside the container. @example "www-data" */
  user: string;
  /** The script, run by `sh -c` inside the container. */
  script: AppScript;
  /** Its positional arguments (`$1`…): no secret here, they are stored in clear in the state. */
  args: pulumi.Input<string>[];
  /** Secrets, one a line on the script's standard input, in this order. @default none */
  secrets?: pulumi.Input<string>[];
}

/**
 * Pure: the host command that runs a script inside a container: `docker exec -i` (standard input
 * stays open for the secrets), as `user`, `sh -c <script> <name> <args…>`. Names and arguments are
 * quoted one word each, so no value reaches a shell as code.
 */
export function appSetupCommand(container: string, user: string, script: AppScript, args: readonly string[]): string {
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(container)) throw new Error(`invalid container name "${container}"`);
  if (!/^[a-z0-9_-]+$/.test(user)) throw new Error(`invalid user "${user}"`);
  return ["docker", "exec", "-i", "-u", user, container, "sh", "-c", script.text, script.name, ...args].map(shellQuote).join(" ");
}

/**
 * Pure: the hash in the command's triggers: the script and its arguments. A changed input re-runs
 * the script (the command is replaced, and replacing it only runs it again: it deletes nothing).
 */
export function appSetupTrigger(script: AppScript, args: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify([script.name, script.text, args]))
    .digest("hex");
}

/** Pure: the secrets as the script reads them, one a line; a secret holding a line break would shift the others. */
export function secretLines(secrets: readonly string[]): string {
  if (secrets.some((s) => /[\r\n]/.test(s))) throw new Error("a secret for a setup script must be one line");
  return `${secrets.join("\n")}\n`;
}

/**
 * A post-install script of the repository run inside an app's container on every `up` whose
 * inputs changed: idempotent (a second run changes nothing), secrets on standard input, its
 * arguments and the container's id hashed into the triggers. Nothing runs on delete: what it
 * configured lives in the app's data (docs/services/app-setup.md).
 */
export class AppSetup extends pulumi.ComponentResource {
  readonly command: command.remote.Command;

  constructor(name: string, args: AppSetupArgs, opts?: pulumi.ComponentResourceOptions) {
    super(APP_SETUP_TYPE, name, { script: args.script.name }, opts);
    const scriptArgs = pulumi.all(args.args);
    const run = pulumi.all([args.container, scriptArgs]).apply(([c, a]) => appSetupCommand(c, args.user, args.script, a));
    const secrets = args.secrets ?? [];
    this.command = new command.remote.Command(
      `${name}-run`,
      {
        connection: hostConnection(args.host),
        create: run,
        update: run,
        triggers: [scriptArgs.apply((a) => appSetupTrigger(args.script, a)), args.containerId],
        ...(secrets.length ? { stdin: pulumi.secret(pulumi.all(secrets).apply(secretLines)) } : {}),
        addPreviousOutputInEnv: false,
        logging: "stderr",
      },
      // Its output too: a script may echo what it was given.
      { parent: this, additionalSecretOutputs: ["stdin", "stdout"] },
    );
    this.registerOutputs({ script: args.script.name });
  }
}
