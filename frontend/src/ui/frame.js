// One requestAnimationFrame for all DOM work: callers schedule a job, and
// every job scheduled within a frame runs once, together, before the paint.
// A job scheduled several times in one frame still runs once.

const jobs = new Set();
let requested = false;

function run() {
  // Jobs scheduled by jobs (e.g. "scroll to the end" after rendering) still
  // belong to this frame: one more pass, not a loop; the rest waits a frame.
  runBatch();
  if (jobs.size) runBatch();
  requested = jobs.size > 0;
  if (requested) requestAnimationFrame(run);
}

function runBatch() {
  const batch = [...jobs];
  jobs.clear();
  for (const job of batch) {
    try {
      job();
    } catch (err) {
      // One broken job must not starve the others (or later frames).
      console.error(err);
    }
  }
}

export function schedule(job) {
  jobs.add(job);
  if (!requested) {
    requested = true;
    requestAnimationFrame(run);
  }
}

// Run a scheduled job now (e.g. before appending the final state of a turn).
export function flushNow(job) {
  if (jobs.delete(job)) job();
}
