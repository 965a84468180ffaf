"""Start, stop and conclude an online experiment: the one home of these decisions, called by the CLI,
the HTTP API and the Experiments page alike.

Start and stop edit the status in experiments/<name>.yaml (commit it: the change is reviewed like
code); a stop is also recorded in the store with who stopped it and why, which is what stops
serving on every replica. An action that does not fit the experiment's state raises
:class:`ExperimentStateError` (the API answers 409)."""

from __future__ import annotations

import threading
from pathlib import Path

from supportgraph.errors import ConfigError, ExperimentStateError
from supportgraph.evals.experiments import ExperimentRecord
from supportgraph.experiments.conclude import conclude_online
from supportgraph.experiments.definition import (
    Experiment,
    check_variants,
    get_experiment,
    load_experiments,
    set_status,
)
from supportgraph.experiments.live import LiveStatus, live_status, stop_by_hand
from supportgraph.store.experiments import stop_of
from supportgraph.store.repository import Store

AGAIN = "copy the file to a new name with a new salt to run it again (a new salt hashes everyone afresh)."
# One action at a time in this process: the API and the page run requests in threads, and start
# checks "one running experiment" by reading the files it has just written.
_lock = threading.Lock()


def start_experiment(project_dir: Path, store: Store, name: str) -> Experiment:
    """Set a draft (or a stopped one the store holds no stop for) running: new conversations enter it."""
    with _lock:
        definition = get_experiment(project_dir, name)
        if definition.status == "concluded":  # before the variants: concluding archived the loser
            raise ExperimentStateError(f"'{name}' is concluded.", AGAIN)
        stop = stop_of(store, name, definition.salt)
        if stop is not None:
            raise ExperimentStateError(f"'{name}' was stopped by {stop.by} ({stop.reason}); a stopped experiment "
                                       "is not served again under the same salt.", AGAIN)
        if definition.status == "running":
            raise ExperimentStateError(f"'{name}' is already running.",
                                       f"read its results (`supportgraph experiment status {name}`).")
        running = [n for n, e in load_experiments(project_dir).items() if e.status == "running"]
        if running:  # a conversation is in one experiment at most
            raise ExperimentStateError(f"'{running[0]}' is running; one experiment runs at a time.",
                                       f"stop it first (`supportgraph experiment stop {running[0]}`).")
        check_variants(project_dir, definition)
        set_status(project_dir, name, "running")
        return get_experiment(project_dir, name)


def stop_experiment(project_dir: Path, store: Store, name: str, reason: str, by: str) -> LiveStatus:
    """Stop serving a running experiment (everyone returns to production), record who and why, and
    mark the file stopped. After a guardrail stop this only marks the file: the first stop stays the record."""
    if not reason.strip():
        raise ConfigError("A stop needs its reason recorded.", "say why, e.g. \"pager: escalations doubled\".")
    with _lock:
        definition = get_experiment(project_dir, name)
        if definition.status != "running":
            raise ExperimentStateError(f"'{name}' is not running (it is {definition.status}).",
                                       "only a running experiment can be stopped.")
        if stop_of(store, name, definition.salt) is None:
            stop_by_hand(store, definition, reason.strip(), by=by[:64])  # the column's width
        set_status(project_dir, name, "stopped")
        return live_status(store, get_experiment(project_dir, name))


def conclude_experiment(project_dir: Path, store: Store, name: str, learning: str, winner: str | None = None,
                        force: bool = False) -> ExperimentRecord:
    """Promote the winner, archive the loser, log the learning (conclude.py); refused without significance
    unless forced."""
    with _lock:
        return conclude_online(project_dir, store, name, learning, winner, force)
