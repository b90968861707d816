// Preloaded (NODE_OPTIONS --require) by every process of a benchmarked command, the plan's own
// worker processes included (and by their threads, which report nothing). When the process ends it appends one JSON line to the file
// BENCH_REPORT_FILE names: its pid, its peak memory (RSS), and the registrations Pulumi's mock
// monitor answered in it (counted apart from the plan's own recording; 0 where Pulumi is not loaded).
const fs = require("node:fs");

let registrations = 0;
const Module = require("node:module");
const load = Module._load;
// Counting starts when the command itself loads Pulumi's mocks: validate never does.
Module._load = function (request, parent, isMain) {
  const exported = load.apply(this, arguments);
  if (request === "@pulumi/pulumi/runtime/mocks" || (request === "./mocks" && /@pulumi[\\/]pulumi[\\/]runtime/.test(parent?.filename ?? ""))) {
    const { MockMonitor } = exported;
    if (MockMonitor && !MockMonitor.__benchCounted) {
      MockMonitor.__benchCounted = true;
      for (const method of ["registerResource", "readResource"]) {
        const original = MockMonitor.prototype[method];
        MockMonitor.prototype[method] = function (req, callback) {
          return original.call(this, req, (err, resp) => {
            if (!err && resp) registrations++;
            callback(err, resp);
          });
        };
      }
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
