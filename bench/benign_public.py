"""How often the injection detector stops a real customer of a help centre it was not trained on.

Every question of each converted public set (bench/sets.py; the golden set is left out, its questions
are training data) goes through the detector the agent runs on each message
(supportgraph.security.injection.detect). Refused: read as an attack with no question left beside it,
so the customer gets the refusal. Summary guarded: suspicious (score >= SUSPICIOUS), so the reply's
summary line may not repeat the message word for word. No agent, no embeddings: seconds.

Then the same for the articles: how many sentences of each set's help centre the classifier alone
flags as an instruction to the assistant (knowledge/safety.py), with and without its gate
NAMES_THE_ASSISTANT, beside what the gate costs on the labelled attacks (tests/data/security/) read
as if they were planted in an article.

    python bench/benign_public.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from sets import benchmark_sets  # noqa: E402

from supportgraph.knowledge.safety import PASSAGE_THRESHOLD, classifier_reads, reads_as_sentence  # noqa: E402
from supportgraph.security.datasets import heldout_examples, injection_examples  # noqa: E402
from supportgraph.security.injection import SUSPICIOUS, classifier, detect, rule_hits, sentences  # noqa: E402


def flagged_by_classifier(texts: list[str]) -> list[list[str]]:
    """Per text, the sentences the passage check's classifier flags (gate or not) and no rule does."""
    per_text = [[s for line in t.splitlines() for s in sentences(line) if reads_as_sentence(s) and not rule_hits(s)]
                for t in texts]
    every = list(dict.fromkeys(s for found in per_text for s in found))
    flagged = {s for s, p in zip(every, classifier().scores(every)) if p >= PASSAGE_THRESHOLD}
    return [[s for s in found if s in flagged] for found in per_text]


def counts(per_text: list[list[str]]) -> tuple[int, int]:
    """Sentences flagged without the gate NAMES_THE_ASSISTANT, and those the gate lets through."""
    return sum(map(len, per_text)), sum(classifier_reads(s) for found in per_text for s in found)


def articles_table() -> str:
    lines = ["| set | article sentences | flagged by the classifier alone, no gate | with the gate |", "|---|---|---|---|"]
    for bench_set in benchmark_sets():
        bodies = [a.body for a in bench_set.articles()]
        total = sum(len(sentences(b)) for b in bodies)
        flagged, gated = counts(flagged_by_classifier(bodies))
        lines.append(f"| {bench_set.name} | {total} | {flagged} | {gated} |")
    attacks = [e.text for e in injection_examples(REPO) + heldout_examples(REPO) if e.attack]
    per_attack = flagged_by_classifier(attacks)
    flagged, gated = counts(per_attack)
    ruled = [any(rule_hits(s) for s in sentences(t)) for t in attacks]
    whole = sum(r or bool(found) for r, found in zip(ruled, per_attack))
    whole_gated = sum(r or any(map(classifier_reads, found)) for r, found in zip(ruled, per_attack))
    lines.append(f"| labelled attacks ({len(attacks)}), sentences no rule catches | | {flagged} | {gated} |")
    lines.append(f"| labelled attacks planted whole: flagged by a rule or the classifier | | {whole} | {whole_gated} |")
    return "\n".join(lines)


def main() -> None:
    lines = ["| set | questions | refused as an attack | summary guarded (score >= %.1f) | refused, e.g. |" % SUSPICIOUS,
             "|---|---|---|---|---|"]
    for bench_set in benchmark_sets()[1:]:
        questions = [case.question for case in bench_set.cases()]
        verdicts = [detect(q) for q in questions]
        refused = [q for q, v in zip(questions, verdicts) if v.attack and not v.question]
        guarded = sum(v.suspicious for v in verdicts)
        example = refused[0][:90].replace("|", "\\|") if refused else "–"
        lines.append(f"| {bench_set.name} | {len(questions)} | {len(refused)} ({len(refused) / len(questions):.3f}) "
                     f"| {guarded} ({guarded / len(questions):.3f}) | {example} |")
    print("\n".join(lines))
    print()
    print(articles_table())


if __name__ == "__main__":
    main()
