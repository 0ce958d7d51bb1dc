// How a model edit enters an editor state: one transaction, marked so that
// undo and the user-change tracker can tell it from typing.

import { Annotation, Transaction } from "@codemirror/state";
import { isolateHistory } from "@codemirror/commands";

// Carries {gen, hunk} of the edit that made the transaction.
export const aiEdit = Annotation.define();

export function aiTransactionSpec(changes, { gen, hunk }) {
  return {
    changes,
    annotations: [
      Transaction.userEvent.of("input.ai"),
      aiEdit.of({ gen, hunk }),
      // Each model edit is its own undo step, never merged with typing.
      isolateHistory.of("full"),
    ],
  };
}

export function isAiTransaction(tr) {
  return tr.annotation(aiEdit) !== undefined;
}
