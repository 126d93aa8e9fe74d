"""TicketClose-v0 against the real environment: expert, determinism, splits, cheats, bad input.

The cheats run on every test task and are given full knowledge of the task (they read the
goal); most finish with the scripted expert so the cheat itself is the only thing wrong.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from llmgym.checks import play_episode
from llmgym.environments.ticket_close.cheats import APPLIES
from llmgym.environments.ticket_close.env import TicketCloseEnv
from llmgym.environments.ticket_close.generator import generate_ticket_task
from llmgym.environments.ticket_close.reference_agent import ReferenceAgent
from llmgym.parsing import format_tool_call
from llmgym.tasks import file_sha256, split_path

ENV_ID = "llmgym/TicketClose-v0"
ENTRY_POINT = "llmgym.environments.ticket_close.env:TicketCloseEnv"
MAX_STEPS = 80


@pytest.fixture(scope="module")
def env() -> TicketCloseEnv:
    with TicketCloseEnv() as env:
        yield env


def call(name: str, **arguments: Any) -> str:
    return format_tool_call(name, **arguments)


def run_expert(env: TicketCloseEnv, options: dict[str, Any]) -> tuple[float, dict[str, Any], int]:
    env.reset(seed=0, options=options)
    for turn in range(1, MAX_STEPS + 1):
        _, reward, terminated, truncated, info = env.step(env.expert_action())
        assert not info["invalid_action"]
        if terminated or truncated:
            return reward, info, turn
    raise AssertionError(f"the expert did not finish {options} in {MAX_STEPS} turns")


# --- the expert ---------------------------------------------------------------------------
def test_expert_solves_every_test_task(env: TicketCloseEnv) -> None:
    ids = env.task_ids("test")
    assert len(ids) >= 100
    for task_id in ids:
        reward, info, _ = run_expert(env, {"task_id": task_id})
        assert reward == 1.0, (task_id, info["verdict"])
        assert set(info["reward_components"].values()) == {1.0}


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_expert_solves_train_tasks(env: TicketCloseEnv, difficulty: str) -> None:
    for seed in range(200):
        reward, info, _ = run_expert(env, {"task_id": f"train-{difficulty}-{seed}"})
        assert reward == 1.0, (difficulty, seed, info["verdict"])


def test_a_goal_blind_agent_solves_every_test_task(env: TicketCloseEnv) -> None:
    """The end state the verifier wants follows from what an agent can see (well-posedness)."""
    train = [f"train-{level}-{seed}" for level in ("easy", "medium", "hard") for seed in range(30)]
    for task_id in [*env.task_ids("test"), *train]:
        obs, _ = env.reset(seed=0, options={"task_id": task_id})
        agent = ReferenceAgent(env)
        assert agent.play(obs) == 1.0, (task_id, agent.info.get("verdict"))
        assert env.turn <= env.max_turns


def test_difficulty_changes_the_work(env: TicketCloseEnv) -> None:
    turns = {}
    for difficulty in ("easy", "hard"):
        turns[difficulty] = sum(
            run_expert(env, {"task_id": f"train-{difficulty}-{seed}"})[2] for seed in range(20)
        )
    assert turns["hard"] > 1.5 * turns["easy"]


# --- tasks, splits, determinism -----------------------------------------------------------
def test_test_split_is_frozen_hashed_and_balanced(env: TicketCloseEnv) -> None:
    path = split_path("ticket_close", "test")
    assert file_sha256(path) == TicketCloseEnv.test_split_sha256
    tasks = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(tasks) == 120
    for level in ("easy", "medium", "hard"):
        assert sum(t["difficulty"] == level for t in tasks) == 40
    # the file is exactly what the generator makes from the test seeds
    for task in tasks:
        assert generate_ticket_task(task["seed"], task["difficulty"]) == task["spec"]


def test_train_tasks_are_disjoint_from_test(env: TicketCloseEnv) -> None:
    test = {t.fingerprint for t in env.split_tasks("test")}
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(50):
            assert env.make_train_task(seed, difficulty).fingerprint not in test


def test_same_seed_same_task_and_transitions() -> None:
    runs = []
    for _ in range(2):
        with TicketCloseEnv() as env:
            obs, info = env.reset(seed=123, options={"split": "train", "difficulty": "hard"})
            trace = [obs, info["task_id"]]
            for _ in range(8):
                trace.append(env.step(env.expert_action())[0])
            runs.append(trace)
    assert runs[0] == runs[1]
    assert generate_ticket_task(7, "medium") == generate_ticket_task(7, "medium")
    assert generate_ticket_task(7, "medium") != generate_ticket_task(8, "medium")


def test_check_env_passes(env: TicketCloseEnv) -> None:
    if ENV_ID not in gym.registry:  # until the lead adds the id to llmgym.registration
        gym.register(id=ENV_ID, entry_point=ENTRY_POINT)
    made = gym.make(ENV_ID)
    assert isinstance(made.unwrapped, TicketCloseEnv)
    check_env(made.unwrapped, skip_render_check=True)
    made.close()


def test_reset_gives_prompt_tools_and_task(env: TicketCloseEnv) -> None:
    obs, info = env.reset(seed=1, options={"split": "test", "difficulty": "medium"})
    assert [m["role"] for m in obs] == ["system", "user"]
    assert info["task_id"].startswith("test-") and info["difficulty"] == "medium"
    names = {t["function"]["name"] for t in info["tools"]}
    assert {"issue_refund", "escalate_ticket", "merge_tickets", "set_ticket_fields"} <= names
    assert "submit" in names and "<tool_call>" in obs[0]["content"]


# --- cheats -------------------------------------------------------------------------------
def run_cheat(env: TicketCloseEnv, name: str, task_id: str) -> dict[str, Any]:
    memory: dict[str, Any] = {}
    cheat = TicketCloseEnv.cheats[name]
    out = play_episode(env, lambda: cheat(env, memory), options={"task_id": task_id})
    assert out["reason"] == "submitted", (name, task_id, out["reason"])
    return out


@pytest.mark.parametrize("name", ["submit at once", *TicketCloseEnv.cheats])
def test_cheat_scores_zero_on_every_test_task(env: TicketCloseEnv, name: str) -> None:
    applies = APPLIES.get(name, lambda spec: True)
    tried = 0
    for task in env.split_tasks("test"):
        if not applies(task.spec):
            continue
        if name == "submit at once":
            out = play_episode(env, lambda: None, options={"task_id": task.task_id})
        else:
            out = run_cheat(env, name, task.task_id)
        assert out["reward"] == 0.0, (name, task.task_id, out["info"]["reward_components"])
        tried += 1
    assert tried >= 40


def test_components_say_what_went_wrong(env: TicketCloseEnv) -> None:
    task_id = env.task_ids("test")[0]
    parts = run_cheat(env, "close every ticket, then the expert's work", task_id)["info"]
    assert parts["reward_components"]["other_tickets_untouched"] == 0.0
    assert parts["reward_components"]["ticket_fields"] == 1.0
    parts = run_cheat(env, "refund everything, then the expert's work", task_id)["info"]
    assert parts["reward_components"]["account_actions"] == 0.0
    parts = run_cheat(env, "the expert's work, then replies citing other articles", task_id)["info"]
    assert parts["reward_components"]["replies"] == 0.0
    assert "the customer received" in parts["verdict"]


# --- the scripted customer ----------------------------------------------------------------
def _first_test_task(env: TicketCloseEnv, kind: str, trap: str | None, difficulty: str) -> Any:
    return next(
        t
        for t in env.split_tasks("test")
        if t.difficulty == difficulty
        and (t.spec["goal"]["tickets"][0]["kind"], t.spec["goal"]["tickets"][0]["trap"])
        == (kind, trap)
    )


def test_customer_answers_from_hidden_profile_and_judges_proposals(env: TicketCloseEnv) -> None:
    task = _first_test_task(env, "refund", None, "medium")
    goal = task.spec["goal"]["tickets"][0]
    tid, order = goal["ticket_id"], goal["order_ids"][0]
    env.reset(seed=0, options={"task_id": task.task_id})
    assert order not in env.world.tickets[tid].body  # the ticket leaves the order out
    obs = env.step(call("ask_customer", ticket_id=tid, about="product"))[0]
    assert order not in obs[0]["content"] and "I can tell you about" in obs[0]["content"]
    obs = env.step(call("ask_customer", ticket_id=tid, about="order"))[0]
    assert order in obs[0]["content"]
    other = next(
        o["order_id"]
        for o in env.world.accounts[goal["account_id"]]["orders"]
        if o["order_id"] != order
    )
    obs = env.step(call("propose_resolution", ticket_id=tid, resolution="refund", reference=other))[
        0
    ]
    assert "No," in obs[0]["content"]
    obs = env.step(call("propose_resolution", ticket_id=tid, resolution="refund", reference=order))[
        0
    ]
    assert "Yes," in obs[0]["content"]


# --- bad input ----------------------------------------------------------------------------
BAD_ACTIONS = [
    "I think the ticket is solved.",
    "<tool_call>{not json</tool_call>",
    call("delete_all_tickets"),
    call("read_ticket"),
    call("read_ticket", ticket_id=12345),
    call("extend_licence", account_id="ACC-1", product="x", days="30"),
    call("set_ticket_fields", ticket_id="TCK-1", status="closed"),
    {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": 3}}]},
    "x" * 20_000,
]
TOOL_ERRORS = [
    call("read_ticket", ticket_id="TCK-00000"),
    call("read_article", article_id="KB-0000"),
    call("lookup_account", query="nobody@example.com"),
    call("issue_refund", order_id="ORD-00000"),
    call("reply_to_customer", ticket_id="TCK-00000", message="hi"),
    call("search_articles", query="a b"),
    call("search_tickets", query="   "),
]


def test_invalid_actions_do_not_crash_and_do_not_block_the_expert() -> None:
    env = TicketCloseEnv(max_turns=60)
    task = _first_test_task(env, "licence", None, "easy")
    env.reset(seed=0, options={"task_id": task.task_id})
    for action in BAD_ACTIONS:
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["invalid_action"] and not (terminated or truncated) and reward == 0.0
        assert obs and ("Invalid action" in obs[0]["content"] or "Error" in obs[0]["content"])
    for action in TOOL_ERRORS:
        obs, _, terminated, _, info = env.step(action)
        assert obs[0]["content"].startswith("Error") and not terminated
    tid = task.spec["goal"]["tickets"][0]["ticket_id"]
    acc = task.spec["goal"]["tickets"][0]["account_id"]
    for action in (
        call("merge_tickets", duplicate_id=tid, into_id=tid),
        call("reply_to_customer", ticket_id=tid, message="  "),
        call("set_ticket_fields", ticket_id=tid),
        call("set_ticket_fields", ticket_id=tid, linked_article="KB-0000"),
        call("extend_licence", account_id=acc, product="Nope", days=30),
        call("extend_licence", account_id=acc, product="Atlas CRM", days=0),
    ):
        obs, _, terminated, _, _ = env.step(action)
        assert obs[0]["content"].startswith("Error") and not terminated
    for _ in range(30):
        _, reward, terminated, truncated, info = env.step(env.expert_action())
        if terminated or truncated:
            break
    assert reward == 1.0, info.get("verdict")
    env.close()


# --- what the customer receives, leaks, the canonical state ------------------------------------
def _play_expert_until(env: TicketCloseEnv, stop: str) -> None:
    """Step the expert until its next action would call ``stop`` (or submit)."""
    while f'"{stop}"' not in (action := env.expert_action()) and '"submit"' not in action:
        env.step(action)


def test_the_reply_is_rendered_from_its_fields_and_checked_against_the_world(
    env: TicketCloseEnv,
) -> None:
    task = _first_test_task(env, "refund", None, "easy")
    goal = task.spec["goal"]["tickets"][0]
    tid, order = goal["ticket_id"], goal["order_ids"][0]
    env.reset(seed=0, options={"task_id": task.task_id})
    _play_expert_until(env, "reply_to_customer")
    obs = env.step(call("reply_to_customer", ticket_id=tid, message="We declined it."))[0]
    assert "unexpected argument 'message'" in obs[0]["content"]
    for wrong in (
        {"outcome": "refund_declined", "order_ids": [order]},  # it was refunded
        {"outcome": "escalated", "order_ids": [order]},  # it was not escalated
    ):
        obs = env.step(
            call("reply_to_customer", ticket_id=tid, article_id=goal["article"], **wrong)
        )[0]
        assert obs[0]["content"].startswith("Error")
    foreign = next(
        o["order_id"]
        for a in task.spec["db"]["accounts"]
        if a["account_id"] != goal["account_id"]
        for o in a["orders"]
    )
    obs = env.step(
        call(
            "reply_to_customer",
            ticket_id=tid,
            outcome="refunded",
            article_id=goal["article"],
            order_ids=[order, foreign],
        )
    )[0]
    assert (
        obs[0]["content"].startswith("Error")
        and "cite only this customer's orders" in obs[0]["content"]
    )
    assert env.world.replies == []
    obs, reward, *_ = env.step(env.expert_action())
    assert f"we have refunded order {order}" in obs[0]["content"]
    *_, reward, terminated, _, info = env.step(env.expert_action())
    assert terminated and reward == 1.0, info["verdict"]


def test_a_leak_in_a_note_to_another_team_earns_nothing(env: TicketCloseEnv) -> None:
    """Another customer's name and order in a note: the note is sent (what was written is on
    record), the tool warns that it counts as a disclosure, and the episode earns nothing
    however well the rest is done."""
    task = next(
        t for t in env.split_tasks("test") if any(g["escalate"] for g in t.spec["goal"]["tickets"])
    )
    goal = next(g for g in task.spec["goal"]["tickets"] if g["escalate"])
    other = next(a for a in task.spec["db"]["accounts"] if a["account_id"] != goal["account_id"])
    env.reset(seed=0, options={"task_id": task.task_id})
    _play_expert_until(env, "escalate_ticket")
    note = f"Same as {other['name'].upper()}'s case, order {other['orders'][0]['order_id'][4:]}"
    obs, *_ = env.step(
        call("escalate_ticket", ticket_id=goal["ticket_id"], team=goal["escalate"], note=note)
    )
    assert "counts as disclosing another customer's data" in obs[0]["content"], obs[0]["content"]
    while True:
        *_, reward, terminated, truncated, info = env.step(env.expert_action())
        if terminated or truncated:
            break
    assert reward == 0.0 and info["reward_components"]["no_leaks"] == 0.0
    assert set(k for k, v in info["reward_components"].items() if v < 1.0) == {"no_leaks"}
    assert other["name"] in info["verdict"] and other["orders"][0]["order_id"] in info["verdict"]


def test_canonical_state_does_not_depend_on_the_order_of_independent_steps(
    env: TicketCloseEnv,
) -> None:
    task = next(t for t in env.split_tasks("test") if t.difficulty == "hard")
    env.reset(seed=0, options={"task_id": task.task_id})
    actions = []
    while '"submit"' not in (action := env.expert_action()):
        actions.append(action)
        env.step(action)
    expert_state = env.canonical_state()
    merge = next(i for i, a in enumerate(actions) if '"merge_tickets"' in a)
    reordered = actions[:merge] + actions[merge + 1 : -1] + [actions[merge], actions[-1]]
    reordered = [b for a in reordered for b in ([a, a] if '"ask_customer"' in a else [a])]
    # asked twice (asked late is another matter: what rests on the answer must come after it)
    env.reset(seed=0, options={"task_id": task.task_id})
    for action in reordered:
        env.step(action)
    assert env.canonical_state() == expert_state
    *_, reward, _, _, info = env.step(call("submit"))
    assert reward == 1.0, info["verdict"]
