"""Online experiments end to end (a benchmark, not a test): the golden set replayed as live traffic
through the real agent while an experiment runs, with each customer's feedback drawn from how right
the answer they got was (measured as the evaluation measures it).

Two runs, each in a throwaway copy of the project and store (the repository is never edited):

1. `dense-retrieval` (production vs dense-only): assignment balance, when (if ever) the primary
   metric reaches significance, and the conclusion `supportgraph experiment conclude` draws.
2. `cautious-handoff` (production vs cautious: escalation.min_confidence 0.7): the escalation
   guardrail stops it by itself, after which everyone is served production, and with a small
   minimum sample the primary metric reaches significance and conclude archives the variant.

Customer model: an answer is right when an answerable question is answered citing one of its
sources, or an unanswerable one is handed over. Right: thumbs up with p=0.85 and "that fixed it"
(the agent records a resolution) with p=0.8; wrong: thumbs up with p=0.15, and "it still doesn't
work" otherwise. Coverage is 100% so the run is short; assignment is by the real hash.

    python bench/experiment_sim.py --out FILE [--conversations 420] [--guardrail-conversations 120] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from embedding_cache import product_embedder  # noqa: E402

from supportgraph.agents.service import SupportAgent  # noqa: E402
from supportgraph.config import Settings  # noqa: E402
from supportgraph.errors import SupportGraphError  # noqa: E402
from supportgraph.evals.datasets import load_dataset  # noqa: E402
from supportgraph.evals.metrics import ABSTAINED  # noqa: E402
from supportgraph.experiments.conclude import conclude_online, online_figures  # noqa: E402
from supportgraph.experiments.definition import get_experiment  # noqa: E402
from supportgraph.experiments.live import live_status  # noqa: E402
from supportgraph.knowledge.index import build_index  # noqa: E402
from supportgraph.store import FeedbackIn  # noqa: E402

EXPERIMENTS = {
    "dense-retrieval": """\
description: dense-only retrieval against hybrid (simulated traffic)
status: running
salt: sim-dense-1
coverage: 1.0
variants: {production: 50, dense-only: 50}
primary_metric: thumbs_up
guardrails: [escalation, negative_feedback, latency]
min_sample: 100
guardrail_min_sample: 60
check_every: 20
""",
    "cautious-handoff": """\
description: hand over below 0.7 confidence instead of 0.5 (simulated traffic)
status: running
salt: sim-cautious-1
coverage: 1.0
variants: {production: 50, cautious: 50}
primary_metric: resolution
guardrails: [escalation, negative_feedback]
min_sample: 30
guardrail_min_sample: 30
check_every: 10
""",
}
RIGHT_UP, WRONG_UP, RIGHT_RESOLVES = 0.85, 0.15, 0.8
DEFAULT_CLARIFY = "I use the web app in a browser."
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None  # store and memory in RAM: the sim is about the loop


def right(case, result) -> bool:
    if not case.answerable:
        return result.outcome in ABSTAINED
    return result.outcome == "answered" and any(c.id in case.sources for c in result.citations)


def project_copy(root: Path, experiment: str) -> Path:
    for folder in ("agents", "prompts"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    (root / "experiments").mkdir()
    (root / "experiments" / f"{experiment}.yaml").write_text(EXPERIMENTS[experiment])
    return root


def simulate(name: str, home: Path, embedder, cases, conversations: int, seed: int, lines: list[str]) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix=f"sim-{name}-", dir=SCRATCH) as scratch:
        root = project_copy(Path(scratch) / "project", name)
        settings = Settings(project_dir=root, home=home, knowledge_dir=REPO / "knowledge",
                            database_url=f"sqlite:///{scratch}/sim.db")
        memory = settings.model_copy(update={"home": Path(scratch) / "memory"})
        from supportgraph.agents.memory import open_checkpointer

        agent = SupportAgent(settings, embedder=embedder, checkpointer=open_checkpointer(memory))
        experiment = get_experiment(root, name)
        order = [cases[i % len(cases)] for i in rng.sample(range(conversations), conversations)]
        significant_at = stopped_at = None
        served_after_stop: dict[str, int] = {}
        started = time.perf_counter()
        for n, case in enumerate(order, 1):
            thread = f"{name}-{n}"
            result = agent.ask(case.question, thread_id=thread, channel="chat")
            if result.outcome == "clarify":
                result = agent.ask(getattr(case, "clarify_reply", None) or DEFAULT_CLARIFY, thread_id=thread,
                                   channel="chat")
            good = right(case, result)
            thumb = "up" if rng.random() < (RIGHT_UP if good else WRONG_UP) else "down"
            agent.store.save_feedback(FeedbackIn(turn_id=result.turn_id, thumb=thumb))
            if result.outcome == "answered":
                follow = "That fixed it, thanks!" if good and rng.random() < RIGHT_RESOLVES else \
                    "It still doesn't work."
                agent.ask(follow, thread_id=thread, channel="chat")
            if stopped_at is not None:
                served = (result.experiment or {}).get("served", "production")
                served_after_stop[served] = served_after_stop.get(served, 0) + 1
            if n % 20 == 0 or n == len(order):
                status = live_status(agent.store, experiment)
                if significant_at is None and status.winner is not None:
                    significant_at = (n, status.verdict)
                if stopped_at is None and status.stop is not None:
                    stopped_at = (n, status.stop.reason)
        elapsed = time.perf_counter() - started
        status = live_status(agent.store, experiment)
        arms = {a.variant: a.conversations for a in status.arms}
        lines += [f"### {name}", "", f"{experiment.description}. {len(order)} conversations "
                  f"({elapsed:.0f} s through the real agent), primary metric `{experiment.primary_metric}`.", "",
                  f"- assignment: {', '.join(f'{v} {c}' for v, c in arms.items())}; sample-ratio chi-square "
                  f"p={status.srm_p:.3g} ({'ok' if status.srm_ok else 'MISMATCH'})",
                  "- significance: " + (f"first reached after {significant_at[0]} conversations ({significant_at[1]})"
                                         if significant_at else "never reached")]
        if stopped_at:
            lines.append(f"- guardrail stop after {stopped_at[0]} conversations: {stopped_at[1]}")
            lines.append(f"- after the stop, new conversations were served: "
                         f"{', '.join(f'{v} {c}' for v, c in served_after_stop.items()) or 'none'}")
        lines += [f"- verdict at the end: {status.verdict}", "", "| metric | " + " | ".join(arms) + " |",
                  "|---|" + "---|" * len(arms)]
        lines += [f"| {metric} | " + " | ".join(values[v] for v in arms) + " |"
                  for metric, values in online_figures(status).items()]
        lines.append("")
        try:  # after a stop too: concluding archives the loser and records the learning
            record = conclude_online(root, agent.store, name, "simulated traffic")
            lines += [f"- conclude: winner {record.winner.name} ({record.evidence}); archived {record.loser.name}; "
                      f"promoted: {'; '.join(record.promoted) or 'nothing (production already serves)'}", ""]
        except SupportGraphError as error:  # the refusal is the result to show
            lines += [f"- conclude refused: {error.message}", ""]
        agent.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Markdown file to write.")
    parser.add_argument("--conversations", type=int, default=420, help="Of the dense-retrieval run.")
    parser.add_argument("--guardrail-conversations", type=int, default=120, help="Of the cautious-handoff run.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=sorted(EXPERIMENTS), help="Run one of the two.")
    args = parser.parse_args()
    embedder = product_embedder()
    cases = load_dataset(REPO / "evals" / "datasets" / "golden.jsonl")
    lines = ["## Online experiments, simulated (bench/experiment_sim.py)", "",
             f"The golden set ({len(cases)} questions) replayed as traffic through the real agent with no chat "
             f"model, seed {args.seed}. Feedback follows each answer's measured correctness: right answers get a "
             f"thumbs up with p={RIGHT_UP} and are confirmed resolved with p={RIGHT_RESOLVES}; wrong ones get a "
             f"thumbs up with p={WRONG_UP}.", ""]
    with tempfile.TemporaryDirectory(prefix="sim-index-", dir=SCRATCH) as home:
        build_index(Settings(project_dir=REPO, home=Path(home)), embedder)
        for offset, name in enumerate(EXPERIMENTS):
            if args.only in (None, name):
                count = args.conversations if name == "dense-retrieval" else args.guardrail_conversations
                simulate(name, Path(home), embedder, cases, count, args.seed + offset, lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
