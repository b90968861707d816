import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A fresh folder the program reads its tenant files from, for a test that plans tenant files of
 * its own. Import it before anything of infra/: infra/contract/paths.ts reads
 * ALACARTE_TENANTS_DIR once, when it loads, and a test's imports all run before its own
 * statements, so setting the variable in the test itself comes too late.
 */
export const TEST_TENANTS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-tenants-"));
process.env.ALACARTE_TENANTS_DIR = TEST_TENANTS_DIR;
