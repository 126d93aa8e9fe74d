"""TicketClose-v0's typed task spec: every task is a ``TicketSpec``; a bad one fails ``reset``.

(Beside ``test_ticket_close.py``, which is close to the 400-line limit.)
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from llmgym.environments.ticket_close.cheats import APPLIES
from llmgym.environments.ticket_close.env import TicketCloseEnv
from llmgym.environments.ticket_close.privacy import customer_data
from llmgym.environments.ticket_close.spec import TicketSpec
from llmgym.tasks import InvalidTaskSpec, Task


@pytest.fixture(scope="module")
def env() -> TicketCloseEnv:
    with TicketCloseEnv() as env:
        yield env


def test_every_test_task_and_train_tasks_are_ticket_specs(env: TicketCloseEnv) -> None:
    """The type describes exactly what the generator writes: nothing dropped or coerced."""
    train = [env.make_train_task(seed, d) for d in env.difficulties for seed in range(100)]
    tasks = [*env.split_tasks("test"), *train]
    assert len(tasks) == 420
    for task in tasks:
        assert TicketSpec.of(task).model_dump(mode="json") == task.spec, task.task_id


def test_the_env_keeps_its_task_s_spec_typed_and_frozen(env: TicketCloseEnv) -> None:
    for task_id in ("test-0000", "test-0119", "train-hard-7"):
        env.reset(options={"task_id": task_id})
        assert env.task is not None and env.task.task_id == task_id
        assert env.task_spec == TicketSpec.of(env.task)
        assert env.world.initial_db is env.task_spec.db
    with pytest.raises(ValidationError, match="frozen"):
        env.task_spec.goal.tickets[0].trap = None


def test_what_takes_a_json_spec_reads_it_as_the_typed_one(env: TicketCloseEnv) -> None:
    for task in env.split_tasks("test")[:30]:
        spec = TicketSpec.of(task)
        assert customer_data(task.spec["db"]) == customer_data(spec.db)
        for applies in APPLIES.values():
            assert applies(task.spec) == applies(spec)


def _with(spec: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of ``spec`` with ``value`` at ``path`` (set, or added when the key is new)."""
    changed = copy.deepcopy(spec)
    parent: Any = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed


BROKEN = [  # (where, what, the field the error names)
    (("db", "accounts", 0, "orders", 0, "amount"), "60", "db.accounts.0.orders.0.amount"),
    (("db", "accounts", 1, "plan"), "gold", "db.accounts.1.plan"),
    (("db", "tickets", 0, "history", 0, "by"), "robot", "db.tickets.0.history.0.by"),
    (("goal", "tickets", 0, "action"), ["refund", 5], "goal.tickets.0.action"),
    (("goal", "tickets", 0, "duplicates"), "TCK-1", "goal.tickets.0.duplicates"),
    (("policy", "refund_limit"), 150.0, "policy.refund_limit"),
    (("db", "accounts", 0, "vip"), True, "db.accounts.0.vip"),
    (("goal", "tickets", 0, "reward"), 1, "goal.tickets.0.reward"),
    (("hint",), "refund it", "hint"),
]


@pytest.mark.parametrize(("path", "value", "field"), BROKEN)
def test_a_bad_spec_fails_reset_and_leaves_the_episode_as_it_was(
    env: TicketCloseEnv, monkeypatch: pytest.MonkeyPatch, path: Any, value: Any, field: str
) -> None:
    env.reset(options={"task_id": "test-0003"})
    env.step(env.expert_action())
    task, spec, world, turn = env.task, env.task_spec, env.world, env.turn
    state = env.canonical_state()
    broken = _with(env.make_train_task(5, "medium").spec, path, value)
    monkeypatch.setattr(env, "generate_task", lambda seed, difficulty: broken)
    with pytest.raises(InvalidTaskSpec) as caught:
        env.reset(seed=1, options={"task_id": "train-medium-5"})
    assert "'train-medium-5'" in str(caught.value) and field in str(caught.value)
    assert (env.task, env.task_spec, env.world, env.turn) == (task, spec, world, turn)
    assert env.canonical_state() == state
    _, _, _, _, info = env.step(env.expert_action())  # the old episode goes on
    assert not info["invalid_action"]
    assert env.task_spec is spec


def test_a_hand_built_task_names_its_bad_field(env: TicketCloseEnv) -> None:
    good = env.make_train_task(2, "hard").spec
    bad = _with(good, ("customers", "facts", "ACC-1"), [{"topic": "order", "answer": "x"}])
    task = Task(task_id="t-1", split="train", difficulty="hard", seed=2, spec=bad)
    with pytest.raises(InvalidTaskSpec, match=r"customers\.facts\.ACC-1\.0\.keywords"):
        TicketSpec.of(task)
    assert TicketSpec.of(task.model_copy(update={"spec": good})).today == good["today"]
