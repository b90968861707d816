import { execFileSync } from "node:child_process";
import { requireTool } from "./debian-tools";

/** Runs a Debian tool (declared by the calling test with needTools), its output trimmed. */
export const run = (tool: string, args: string[], input?: string) =>
  execFileSync(requireTool(tool), args, { encoding: "utf8", ...(input === undefined ? {} : { input }) }).trim();

/** Django's pbkdf2_sha256 string, built by Python as django/contrib/auth/hashers.py does. */
export const djangoHash = (password: string, salt: string, iterations: number) =>
  run(
    "python3",
    [
      "-c",
      "import base64,hashlib,sys\n" +
        "pw=sys.stdin.buffer.read(); salt=sys.argv[1]; n=int(sys.argv[2])\n" +
        "h=base64.b64encode(hashlib.pbkdf2_hmac('sha256', pw, salt.encode('utf-8'), n)).decode('ascii')\n" +
        "print('pbkdf2_sha256$%d$%s$%s' % (n, salt, h))",
      salt,
      String(iterations),
    ],
    password,
  );
