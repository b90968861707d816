/**
 * Runs jobs with two bounds at once: at most `parallel` in all, and at most `perHost` on one host
 * (each preview or update of a tenant stack talks to its host's Docker daemon over ssh, so the
 * host's load is what is bounded). Jobs start in the order given, skipping over a job whose host
 * is full for one whose host is free. A job's failure is its own: the others run on.
 */
export interface PoolBounds {
  parallel: number;
  perHost: number;
}

export async function runBounded<J, R>(
  jobs: readonly J[],
  bounds: PoolBounds,
  hostOf: (job: J) => string,
  run: (job: J) => Promise<R>,
): Promise<R[]> {
  if (!(bounds.parallel >= 1 && bounds.perHost >= 1)) throw new Error("the bounds must be at least 1");
  const results = new Array<R>(jobs.length);
  const waiting = jobs.map((job, index) => ({ job, index }));
  const busy = new Map<string, number>();
  let running = 0;
  return new Promise<R[]>((resolve, reject) => {
    const next = () => {
      if (waiting.length === 0 && running === 0) {
        resolve(results);
        return;
      }
      while (running < bounds.parallel) {
        const at = waiting.findIndex((w) => (busy.get(hostOf(w.job)) ?? 0) < bounds.perHost);
        if (at < 0) break;
        const [{ job, index }] = waiting.splice(at, 1) as [{ job: J; index: number }];
        const host = hostOf(job);
        busy.set(host, (busy.get(host) ?? 0) + 1);
        running++;
        run(job).then(
          (r) => {
            results[index] = r;
            busy.set(host, busy.get(host)! - 1);
            running--;
            next();
          },
          reject, // `run` reports a stack's failure as its result; a throw is a bug and stops the run
        );
      }
    };
    next();
  });
}
