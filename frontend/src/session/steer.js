// Steer mid-generation: while a generation runs, Send becomes Steer (same
// button, data-testid "send"; see ui/controls.js) and sends gen.steer. In the
// transcript the cut is marked "↪ steered: …"; a discarded tail (a
// half-received edit) stays visible, struck through; the continuation streams
// in after the marker (Turn.steered).

import { PROTOCOL } from "./session.js";
import { cutAnswer } from "./answer-log.js";

export function installSteer({ session, socket, status }) {
  const steer = (instruction) => {
    const run = session.current;
    if (!run?.gen || !socket.isOpen) {
      status.say("Not connected; the steer was not sent.");
      return false;
    }
    socket.send({ type: "gen.steer", v: PROTOCOL, instruction, gen: run.gen });
    run.steerSent = performance.now();
    run.steerTookEffect = false;
    run.turn.note(`↪ steering: ${instruction}…`, "note-steer-pending");
    run.steerNote = run.turn.eventsEl.lastElementChild;
    return true;
  };

  // Send while a generation runs is a steer.
  session.hook("send", (instruction) => (session.current && instruction.trim() ? steer(instruction.trim()) : undefined));

  session
    .on("gen.steered", function steered(msg, run) {
      run.steerNote?.remove();
      run.steerTookEffect = true;
      run.turn.steered(msg.instruction, cutAnswer(run, msg));
    })
    // The first token after the steer took effect: steer → first token time.
    .on("gen.delta", function steerLatency(msg, run) {
      if (run.steerSent != null && run.steerTookEffect) {
        status.steered(performance.now() - run.steerSent);
        run.steerSent = null;
      }
    })
    // A steer that arrived after the generation ended.
    .on("error:gen.not_running", function lateSteer(msg, run) {
      if (!run) return; // nothing running, nothing steered: ignored
      run.steerNote?.remove();
      run.steerSent = null;
      status.say("The generation had already finished; send the correction as a new instruction.");
    });
}
