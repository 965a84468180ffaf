"""The feedback loop: automatic flags, transcripts, tags, weekly review, backlog, checklist."""
