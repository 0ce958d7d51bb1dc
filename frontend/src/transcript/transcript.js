// The transcript pane: turns in order, kept scrolled to the newest unless
// the user scrolled up to read.

import { h } from "../ui/dom.js";
import { schedule } from "../ui/frame.js";
import { Turn } from "./turn.js";

export class Transcript {
  constructor(el, actions) {
    this.el = el;
    this.actions = actions;
    this.stick = true;
    this.autoTop = 0; // where the last automatic scroll put us
    this.empty = h("div", { class: "transcript-empty" }, "Ask for a change below. Answers and edits show up here.");
    this.el.append(this.empty);
    // Content keeps growing between an automatic scroll and its scroll event,
    // so "not at the bottom" alone does not mean the user scrolled away: only
    // moving up from where we put the view does.
    this.el.addEventListener("scroll", () => {
      const { scrollTop, scrollHeight, clientHeight } = this.el;
      if (scrollHeight - scrollTop - clientHeight < 40) this.stick = true;
      else if (scrollTop < this.autoTop - 4) this.stick = false;
    });
    this.scroll = () => {
      if (!this.stick) return;
      this.el.scrollTop = this.el.scrollHeight;
      this.autoTop = this.el.scrollTop;
    };
  }

  addTurn(instruction) {
    this.empty.remove();
    const turn = new Turn(instruction, { actions: this.actions, onRendered: () => schedule(this.scroll) });
    this.el.append(turn.el);
    this.stick = true;
    schedule(this.scroll);
    return turn;
  }

  // A message that belongs to no turn (e.g. a protocol error).
  notice(text, cls = "") {
    this.empty.remove();
    this.el.append(h("div", { class: `note notice ${cls}` }, text));
    schedule(this.scroll);
  }
}
