import * as pulumi from "@pulumi/pulumi";
import type { HostConnection } from "../platform/outputs";
import {
  assembleOfficeCommand,
  officeFolders,
  officeFragmentPath,
  renderOfficeFragment,
  type OfficeFolders,
} from "../platform/office-fragments";
import { HostFile } from "./host-file";

/** Type token of {@link OfficeAccess}; ends up in URNs, never rename it without an alias. */
export const OFFICE_ACCESS_TYPE = "alacarte:block:OfficeAccess";

export interface OfficeAccessArgs {
  /** The office server's host (the platform output `office.host`). */
  host: HostConnection;
  /** Folder of the fragments on that host (the platform output `office.fragmentsDir`). @example "/srv/alacarte/office/fragments" */
  fragmentsDir: string;
  /** The tenant's slug: the fragment's name, and the only thing resource names derive from. @example "amis-du-velo" */
  name: string;
  /**
   * The public https URLs of the tenant's Nextcloud: the first is its main name, the others its
   * aliases (one alias group). @example ["https://cloud.amisduvelo.org"]
   */
  wopiHosts: string[];
  /** The office server's public URL (the platform output `office.url`). @example "https://office.example.org" */
  url: pulumi.Input<string>;
}

/**
 * Lets one tenant's Nextcloud use the platform's office server: the tenant stack writes its own
 * fragment into the office host's fragments folder and rebuilds the assembled list of allowed WOPI
 * hosts there, which coolwsd picks up at its next poll, within a minute and without a restart
 * (docs/services/office.md "Allowed hosts"). Deleting it retires the fragment and rebuilds the list
 * without the tenant. A domain change rewrites the fragment in place: names come from the slug only.
 */
export class OfficeAccess extends pulumi.ComponentResource {
  /** The office server's public URL, for `occ config:app:set richdocuments wopi_url`. */
  readonly wopiUrl: pulumi.Output<string>;
  /** Path of the tenant's fragment on the office host. */
  readonly fragmentPath: string;

  constructor(name: string, args: OfficeAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    // Fails on a bad slug, folder or host before anything is registered.
    const fragmentPath = officeFragmentPath(args.fragmentsDir, args.name);
    const folders: OfficeFolders = officeFolders(officeDirOf(args.fragmentsDir));
    const content = renderOfficeFragment(args.name, args.wopiHosts);
    super(OFFICE_ACCESS_TYPE, name, {}, opts);
    new HostFile(
      `${name}-fragment`,
      {
        host: args.host,
        path: fragmentPath,
        content,
        mode: "0644",
        afterWrite: assembleOfficeCommand(folders),
      },
      { parent: this },
    );
    this.wopiUrl = pulumi.output(args.url);
    this.fragmentPath = fragmentPath;
    this.registerOutputs({ wopiUrl: this.wopiUrl, fragmentPath });
  }
}

/**
 * Pure: the office folder a fragments folder belongs to (its parent, as {@link officeFolders} lays it out).
 * @throws Error when the folder is not `<office folder>/fragments`.
 */
export function officeDirOf(fragmentsDir: string): string {
  const dir = fragmentsDir.replace(/\/+$/, "");
  if (!dir.startsWith("/") || !dir.endsWith("/fragments")) {
    throw new Error(`office access: the fragments folder must be "<office folder>/fragments", got "${fragmentsDir}"`);
  }
  return dir.slice(0, -"/fragments".length) || "/";
}
