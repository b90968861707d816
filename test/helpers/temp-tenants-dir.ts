/**
 * A temporary folder of tenant files, named in ALACARTE_TENANTS_DIR when this module loads. The
 * program reads that variable once, when infra/contract/paths.ts loads: import this module before
 * any module of infra/ or components/.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const TEMP_TENANTS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-tenants-"));
process.env.ALACARTE_TENANTS_DIR = TEMP_TENANTS_DIR;
