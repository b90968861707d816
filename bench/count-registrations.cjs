// Preloaded (NODE_OPTIONS --require) by every process of a benchmarked plan, the plan's own worker
// processes included: counts the registrations Pulumi's mock monitor answers, apart from the plan's
// own recording, and adds this process's count to the file BENCH_COUNT_FILE names when it ends
// (the measuring process reads its own count through a global instead).
const fs = require("node:fs");
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");

let seen = 0;
for (const method of ["registerResource", "readResource"]) {
  const original = MockMonitor.prototype[method];
  MockMonitor.prototype[method] = function (req, callback) {
    return original.call(this, req, (err, resp) => {
      if (!err && resp) seen++;
      callback(err, resp);
    });
  };
}
globalThis.__alacarteBenchRegistrations = () => seen;
process.on("exit", () => {
  if (process.env.BENCH_COUNT_FILE) fs.appendFileSync(process.env.BENCH_COUNT_FILE, `${seen}\n`);
});
