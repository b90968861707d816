// Preloaded (NODE_OPTIONS --require) by every process of a benchmarked command, the plan's own
// worker processes included (and by their threads, which report nothing). When the process ends it appends one JSON line to the file
// BENCH_REPORT_FILE names: its pid, its peak memory (RSS), and the registrations a monitor answered
// in it (counted apart from the plan's own recording; 0 where Pulumi is not loaded).
//
// A registration is answered with a RegisterResourceResponse (a read with a ReadResourceResponse)
// that gets its URN once: Pulumi's MockMonitor builds them, so does the plan's own answer for a
// preview (infra/plan/sdk-internals.ts answerAsPreview); the SDK only reads them. Counting the URNs set on them
// counts every answered registration, whichever answered it.
const fs = require("node:fs");

let registrations = 0;
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  const exported = load.call(this, request, ...rest);
  if (
    /(^|[\\/])proto[\\/]resource_pb(\.js)?$/.test(request) &&
    exported?.RegisterResourceResponse &&
    !exported.RegisterResourceResponse.__benchCounted
  ) {
    for (const Response of [exported.RegisterResourceResponse, exported.ReadResourceResponse]) {
      Response.__benchCounted = true;
      const setUrn = Response.prototype.setUrn;
      Response.prototype.setUrn = function (value) {
        registrations++;
        return setUrn.call(this, value);
      };
    }
  }
  return exported;
};

process.on("exit", () => {
  const file = process.env.BENCH_REPORT_FILE;
  // Worker threads run this preload too, but their process's memory is the process's, reported once.
  if (!file || !require("node:worker_threads").isMainThread) return;
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  fs.appendFileSync(file, `${JSON.stringify({ pid: process.pid, main: !process.send, maxRssMb, registrations })}\n`);
});
