import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostConnection } from "../platform/outputs";
import { shellQuote } from "./shell";

export interface HostFileArgs {
  /** Host the file lives on, reached over ssh with the deploy user's agent. */
  host: HostConnection;
  /** Absolute path of the file on the host. @example "/srv/alacarte/routes/acme-website.yml" */
  path: string;
  /** Content of the file, written byte for byte (no trailing newline added). */
  content: pulumi.Input<string>;
  /** Octal permission bits of the file. @default "0640" */
  mode?: string;
  /**
   * Shell command run on the host after the file is written, rewritten or moved away
   * (e.g. a reload). It is stored in clear in the state: never put a secret in it.
   */
  afterWrite?: pulumi.Input<string>;
  /** The content is a secret: it is marked secret and reaches the host only on stdin. @default false */
  secret?: boolean;
}

/** Shell scripts that write and retire a host file. */
export interface HostFileCommands {
  /** Writes stdin to the path atomically, creating its folders (create and update). */
  write: string;
  /** Moves the file into `<dir>/.attic/<name>.<UTC timestamp>` (nothing is lost). */
  retire: string;
}

/** Default permission bits of a host file. */
export const DEFAULT_HOST_FILE_MODE = "0640";

/**
 * Pure: the create/update and delete scripts of a host file. The content always comes on stdin,
 * so it never appears in these strings.
 * @throws Error when the path is not absolute or the mode is not octal.
 */
export function hostFileCommands(opts: { path: string; mode?: string; afterWrite?: string }): HostFileCommands {
  const mode = opts.mode ?? DEFAULT_HOST_FILE_MODE;
  if (!path.posix.isAbsolute(opts.path) || opts.path.endsWith("/")) {
    throw new Error(`HostFile path must be an absolute file path, got "${opts.path}"`);
  }
  if (!/^0?[0-7]{3,4}$/.test(mode)) throw new Error(`HostFile mode must be octal like "0640", got "${mode}"`);
  const file = path.posix.normalize(opts.path);
  const dir = path.posix.dirname(file);
  const base = path.posix.basename(file);
  // The temporary name is hidden and ends in neither .yml nor a fragment suffix, so no watcher picks it up.
  const tmp = path.posix.join(dir, `.${base}.alacarte-tmp`);
  const attic = path.posix.join(dir, ".attic");
  const after = opts.afterWrite?.trim() ? [opts.afterWrite.trim()] : [];
  const write = [
    "set -eu",
    `mkdir -p ${shellQuote(dir)}`,
    // `cat`, not `install /dev/stdin`: over ssh stdin may be a socket, which /dev/stdin cannot reopen.
    `(umask 077 && cat > ${shellQuote(tmp)})`,
    `chmod ${mode} ${shellQuote(tmp)}`,
    `mv -f ${shellQuote(tmp)} ${shellQuote(file)}`,
    ...after,
  ].join("\n");
  const retire = [
    "set -eu",
    `if [ -e ${shellQuote(file)} ]; then`,
    `  mkdir -p ${shellQuote(attic)}`,
    `  mv ${shellQuote(file)} ${shellQuote(`${attic}/${base}`)}."$(date -u +%Y%m%dT%H%M%SZ)"`,
    "fi",
    ...after,
  ].join("\n");
  return { write, retire };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Pure: the ssh connection of the remote command (the agent socket only when one is set). */
export function hostConnection(
  host: HostConnection,
  agentSocketPath: string | undefined = process.env.SSH_AUTH_SOCK,
): command.types.input.remote.ConnectionArgs {
  return {
    host: host.address,
    user: host.user,
    ...(agentSocketPath ? { agentSocketPath } : {}),
  };
}

/**
 * One file on a host, written over ssh. A change of content rewrites it (update, not replace, so
 * the file is never retired by a replacement); deleting the resource moves the file into the
 * folder's `.attic`.
 *
 * It is the remote Command itself (type `command:remote:Command`, named `<name>-write`), not a
 * component around one: one registration per file instead of two, and plans and updates cost per
 * registered resource across thousands of tenant stacks. Its options are the Command's.
 */
export class HostFile extends command.remote.Command {
  /** Absolute path of the file on the host. */
  readonly path: pulumi.Output<string>;

  constructor(name: string, args: HostFileArgs, opts?: pulumi.CustomResourceOptions) {
    // Fails now on a bad path or mode, not inside an apply.
    const scriptsNow = hostFileCommands({
      path: args.path,
      mode: args.mode,
      afterWrite: typeof args.afterWrite === "string" ? args.afterWrite : undefined,
    });
    // Plain values stay plain: an Output per script and for the digest cost every host file
    // several promise chains, across thousands of tenant stacks.
    const scripts =
      args.afterWrite === undefined || typeof args.afterWrite === "string"
        ? scriptsNow
        : pulumi.output(args.afterWrite).apply((afterWrite) => hostFileCommands({ path: args.path, mode: args.mode, afterWrite }));
    const content = args.secret ? pulumi.secret(args.content) : args.content;
    // A digest, not the content: triggers stay small and hold no clear text (and stay secret with the content).
    const digest = typeof content === "string" ? sha256(content) : pulumi.output(content).apply(sha256);
    super(
      `${name}-write`,
      {
        connection: hostConnection(args.host),
        create: scripts.write,
        update: scripts.write,
        delete: scripts.retire,
        stdin: content,
        triggers: [digest],
        addPreviousOutputInEnv: false,
      },
      {
        ...opts,
        additionalSecretOutputs: args.secret ? [...(opts?.additionalSecretOutputs ?? []), "stdin"] : opts?.additionalSecretOutputs,
      },
    );
    this.path = pulumi.output(path.posix.normalize(args.path));
  }
}
