import { parse, stringify } from "yaml";
import { z } from "zod";

/**
 * The record `npm run decommission` leaves in the repository (docs/decommission.md "The pull
 * request"): which data resources it took out of a stack's state. The pull request that removes
 * the offer (or the tenant file) carries it, and the flow then lets that change through: the
 * offline plans know no state, so without it the flow would refuse the removal as a data delete.
 * The record only lets the pipeline pass; what keeps data safe is still each data resource's
 * protection and retain-on-delete.
 */

/** The folder of the records, one file per decommission. */
export const DECOMMISSIONS_DIR = "stacks/decommissioned";

const recordSchema = z.strictObject({
  /** The stack. @example "prod.amis-du-velo" */
  stack: z.string().regex(/^[a-z]+(\.[a-z0-9]+(-[a-z0-9]+)*)?$/),
  /** The offer (a field of `services`, or `mail`); absent for the whole tenant. */
  offer: z
    .string()
    .regex(/^[a-z]+$/)
    .optional(),
  /** When it was done, and until when the data is kept. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** The names of the data resources taken out of the stack. */
  resources: z.array(z.string().min(1)),
});

export type DecommissionRecord = z.infer<typeof recordSchema>;

/** Pure: the record's file, under {@link DECOMMISSIONS_DIR}. @example "stacks/decommissioned/prod.acme.nextcloud.yaml" */
export function decommissionRecordPath(record: Pick<DecommissionRecord, "stack" | "offer">): string {
  return `${DECOMMISSIONS_DIR}/${record.stack}${record.offer ? `.${record.offer}` : ""}.yaml`;
}

/** Pure: the record's text. */
export function renderDecommissionRecord(record: DecommissionRecord): string {
  const checked = recordSchema.parse(record);
  return [
    "# Written by npm run decommission (docs/decommission.md): commit it with the change that removes",
    "# the offer or the tenant file, so the pull-request flow lets that change through.",
    stringify({ ...checked, resources: [...checked.resources].sort() }).trimEnd(),
    "",
  ].join("\n");
}

/**
 * Pure: a record read back.
 * @throws Error naming the file and what is wrong.
 */
export function parseDecommissionRecord(file: string, text: string): DecommissionRecord {
  const parsed = recordSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join(".") || "(record)"}: ${issue.message}`);
  }
  return parsed.data;
}
