"""Writing the answer: one builder per intent, the writer of sections and citations, the safe HTML."""
