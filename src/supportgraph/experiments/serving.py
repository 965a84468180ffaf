"""Which variant a turn is served: the conversation's stored assignment, else (for a new
conversation, while an experiment runs) a sticky one from the hash. Stopped experiments and
out-of-coverage conversations get production. The agent calls ``arm_for`` before a turn and
``after_turn`` once it is stored."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from supportgraph.agents.brief import Brief
from supportgraph.errors import ConfigError
from supportgraph.evals.variants import PRODUCTION, Variant
from supportgraph.experiments.assignment import bucket, choose
from supportgraph.experiments.definition import Experiment, check_variants, load_experiments
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.store.experiments import (
    ExperimentAssignment,
    assignment_of,
    count_assigned,
    has_turns,
    record_assignment,
    stop_of,
)
from supportgraph.store.repository import Store

NO_EXPERIMENT_CHANNELS = ("eval",)  # offline evaluation answers as the variant it was asked for


@dataclass(frozen=True)
class Arm:
    """What a turn is served, and why (written on the turn's trace)."""

    prompt_label: str
    retriever: Retriever
    brief: Brief
    experiment: str | None = None
    variant: str | None = None       # assigned (None: not in the experiment)
    served: str = PRODUCTION         # production once the experiment stopped
    new: ExperimentAssignment | None = None  # to store with the first turn

    def trace(self) -> dict | None:
        if self.experiment is None:
            return None
        return {"name": self.experiment, "variant": self.variant, "served": self.served}


class Cohorts:
    def __init__(self, project_dir: Path, production: Arm, embedder) -> None:
        self.project_dir = project_dir
        self.production = production
        self.embedder = embedder
        self._arms: dict[str, tuple[str, Arm]] = {}  # variant name -> (its definition, its parts)
        self._lock = threading.Lock()

    def running(self) -> Experiment | None:
        return next((e for e in load_experiments(self.project_dir).values() if e.status == "running"), None)

    def arm_for(self, store: Store, thread_id: str, channel: str) -> Arm:
        if channel in NO_EXPERIMENT_CHANNELS:
            return self.production
        try:
            return self._arm_for(store, thread_id)
        except ConfigError:
            # A broken experiment file must not take the chat down: production answers, and
            # `supportgraph experiment list` shows the error.
            return self.production

    def _arm_for(self, store: Store, thread_id: str) -> Arm:
        stored = assignment_of(store, thread_id)
        experiments = load_experiments(self.project_dir)
        if stored is not None:
            experiment = experiments.get(stored.experiment)
            if stored.variant is None or experiment is None or not self._serving(store, experiment):
                return self._as(PRODUCTION, experiment or stored.experiment, stored.variant, None)
            return self._as(stored.variant, experiment, stored.variant, None)
        experiment = next((e for e in experiments.values() if e.status == "running"), None)
        if experiment is None or has_turns(store, thread_id) or not self._serving(store, experiment):
            return self.production  # only new conversations enter an experiment
        unit_id = self._unit_id(store, experiment, thread_id)
        b = bucket(experiment.salt, unit_id)
        variant = choose(b, list(experiment.variants), list(experiment.variants.values()), experiment.coverage)
        row = ExperimentAssignment(conversation_id=thread_id, experiment=experiment.name, variant=variant,
                                   bucket=b, unit=experiment.unit)
        return self._as(variant or PRODUCTION, experiment, variant, row)

    def after_turn(self, store: Store, arm: Arm) -> None:
        """Store a new assignment; every check_every assigned conversations, check the guardrails."""
        if arm.new is None or not record_assignment(store, arm.new) or arm.variant is None:
            return
        experiment = load_experiments(self.project_dir).get(arm.experiment)
        if experiment is not None and count_assigned(store, experiment.name) % experiment.check_every == 0:
            from supportgraph.experiments.live import check_guardrails

            check_guardrails(store, experiment)

    def _serving(self, store: Store, experiment: Experiment) -> bool:
        return experiment.status == "running" and stop_of(store, experiment.name, experiment.salt) is None

    @staticmethod
    def _unit_id(store: Store, experiment: Experiment, thread_id: str) -> str:
        if experiment.unit == "end_user":
            from supportgraph.store.threads import thread_owner

            owner = thread_owner(store, thread_id)
            if owner is not None and owner.end_user:
                return f"{owner.tenant}/{owner.end_user}"
        return thread_id

    def _as(self, served: str, experiment: Experiment | str | None, variant: str | None,
            new: ExperimentAssignment | None) -> Arm:
        name = experiment if isinstance(experiment, str) or experiment is None else experiment.name
        parts = self.production if served == PRODUCTION else self._parts(experiment, served)
        return Arm(prompt_label=parts.prompt_label, retriever=parts.retriever, brief=parts.brief, experiment=name,
                   variant=variant, served=served, new=new)

    def _parts(self, experiment: Experiment, name: str) -> Arm:
        """The variant's prompt label, retriever (its params over the served ones) and brief, built once
        per definition (a changed params.yaml builds them afresh)."""
        variant: Variant = check_variants(self.project_dir, experiment)[name]
        key = variant.model_dump_json()
        with self._lock:
            cached = self._arms.get(name)
            if cached is None or cached[0] != key:
                base = self.production
                retriever = base.retriever if not variant.retrieval else Retriever(
                    base.retriever.settings, self.embedder, params=variant.retrieval_params(base.retriever.params))
                cached = (key, Arm(prompt_label=variant.prompts if variant.prompts != PRODUCTION
                                   else base.prompt_label, retriever=retriever, brief=variant.brief_for(base.brief)))
                self._arms[name] = cached
            return cached[1]
