// What a shared server adds to the status line: the place in the waiting
// line (gen.queued), the local model starting (gen.loading), and the
// allowance left (session.ready, allowance).

import { AllowanceView } from "../status/allowance.js";

export function installQueueStatus({ session, status }) {
  session
    .on("gen.queued", function queued(msg) {
      status.queued(msg.position);
    })
    .on("gen.loading", function loadingModel() {
      status.loadingModel();
    });
}

// → the AllowanceView (window.flint.allowance).
export function installAllowance({ session, status }) {
  const allowance = new AllowanceView(status.el);
  session
    .on("session.ready", function allowanceAtStart(msg) {
      allowance.show(msg.allowance ?? {});
    })
    .on("allowance", function allowanceLeft(msg) {
      allowance.show(msg);
    });
  return allowance;
}
