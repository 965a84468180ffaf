"""Online experiments: definitions in experiments/<name>.yaml, sticky assignment of new
conversations to variants, live results per variant with significance, the guardrail stop, and
concluding (promote the winner, archive the loser, log the learning)."""
