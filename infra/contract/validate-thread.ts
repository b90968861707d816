import { parentPort, workerData } from "node:worker_threads";
import { checkFile, type FileCheckContext } from "./validate";

/**
 * A thread of a parallel validation (validate.ts `validateTenantsInParallel`): runs the single-file
 * checks on its share of the files and posts each file's tenant data and problems back, in order.
 */
export interface ThreadShare {
  files: string[];
  names: string[];
  context: FileCheckContext;
}

const share = workerData as ThreadShare;
parentPort!.postMessage(
  share.files.map((file, i) => {
    const checked = checkFile(file, share.names[i]!, share.context);
    return { tenant: checked.tenant?.tenant, digest: checked.tenant?.digest, problems: checked.problems };
  }),
);
