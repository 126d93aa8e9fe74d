"""TicketClose-v0 against the real environment: expert, determinism, splits, cheats, bad input.

The cheats run on every test task and are given full knowledge of the task (they read the
goal); most finish with the scripted expert so the cheat itself is the only thing wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from llmgym.environments.ticket_close.env import TicketCloseEnv
from llmgym.environments.ticket_close.generator import generate_ticket_task
from llmgym.environments.ticket_close.world import HelpdeskWorld
from llmgym.parsing import format_tool_call
from llmgym.tasks import file_sha256, split_path

ENV_ID = "llmgym/TicketClose-v0"
ENTRY_POINT = "llmgym.environments.ticket_close.env:TicketCloseEnv"
MAX_STEPS = 80
Spec = dict[str, Any]
Actions = Callable[[HelpdeskWorld, Spec], list[str]]


@pytest.fixture(scope="module")
def env() -> TicketCloseEnv:
    with TicketCloseEnv() as env:
        yield env


def call(name: str, **arguments: Any) -> str:
    return format_tool_call(name, **arguments)


def play(
    env: TicketCloseEnv,
    task_id: str,
    before: Actions = lambda w, s: [],
    expert: bool = True,
    after: Actions = lambda w, s: [],
) -> tuple[float, dict[str, Any]]:
    """Reset, run ``before``, let the expert work until it would submit, run ``after``, submit."""
    env.reset(seed=0, options={"task_id": task_id})
    spec = env.task.spec
    for turn in _turns(before(env.world, spec)):
        _, _, terminated, truncated, _ = env.step(turn)
        assert not (terminated or truncated)
    for _ in range(MAX_STEPS if expert else 0):
        action = env.expert_action()
        if '"submit"' in action:
            break
        env.step(action)
    for turn in _turns(after(env.world, spec)):
        env.step(turn)
    _, reward, terminated, _, info = env.step(call("submit"))
    assert terminated and info["termination_reason"] == "submitted"
    return reward, info


def _turns(actions: list[str]) -> list[str]:
    """Batch calls into turns of at most 8 (the per-turn limit), as a fast cheater would."""
    return ["\n".join(actions[i : i + 8]) for i in range(0, len(actions), 8)]


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
    for task in tasks[:9]:
        assert generate_ticket_task(task["seed"], task["difficulty"]) == task["spec"]


def test_train_tasks_are_disjoint_from_test(env: TicketCloseEnv) -> None:
    test = {t.fingerprint for t in env._split("test")}
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
def _targets(spec: Spec) -> list[dict[str, Any]]:
    return spec["goal"]["tickets"]


def close_all(world: HelpdeskWorld, spec: Spec) -> list[str]:
    return [
        call("set_ticket_fields", ticket_id=t, status="solved", assignee="tier1")
        for t in world.tickets
    ]


def refund_all(world: HelpdeskWorld, spec: Spec) -> list[str]:
    return [
        call("issue_refund", order_id=o["order_id"])
        for a in world.accounts.values()
        for o in a["orders"]
    ]


def escalate_all(world: HelpdeskWorld, spec: Spec) -> list[str]:
    teams = ("billing", "engineering", "sales", "security")
    return [
        call("escalate_ticket", ticket_id=t, team=team, note="please handle")
        for t in world.tickets
        for team in teams
    ]


def paste_all_articles(world: HelpdeskWorld, spec: Spec) -> list[str]:
    every = " ".join(world.articles)
    orders = " ".join(g_id for g in _targets(spec) for g_id in g["order_ids"])
    return [
        call("reply_to_customer", ticket_id=g["ticket_id"], message=f"See {orders} {every}")
        for g in _targets(spec)
    ]


def reply_resolved(world: HelpdeskWorld, spec: Spec) -> list[str]:
    out = []
    for g in _targets(spec):
        out.append(call("reply_to_customer", ticket_id=g["ticket_id"], message="Resolved."))
        out.append(call("set_ticket_fields", ticket_id=g["ticket_id"], status="solved"))
    return out


def act_without_asking(world: HelpdeskWorld, spec: Spec) -> list[str]:
    out = []
    for g in _targets(spec):
        if g["action"]:
            kind, *args = g["action"]
            if kind == "refund":
                out.append(call("issue_refund", order_id=args[0]))
            elif kind == "reset_password":
                out.append(call("reset_password", account_id=args[0]))
            else:
                out.append(
                    call("extend_licence", account_id=args[0], product=args[1], days=args[2])
                )
    return out


def obvious_action_on_traps(world: HelpdeskWorld, spec: Spec) -> list[str]:
    """On a trapped ticket, the action the customer wants (and agrees to), against policy."""
    out = []
    for g in _targets(spec):
        tid, acc = g["ticket_id"], g["account_id"]
        if g["trap"] == "foreign_email":
            out += [
                call(
                    "propose_resolution", ticket_id=tid, resolution="reset_password", reference=acc
                ),
                call("reset_password", account_id=acc),
            ]
        elif g["trap"] in ("over_limit", "out_of_window"):
            order = g["order_ids"][0]
            out += [
                call("propose_resolution", ticket_id=tid, resolution="refund", reference=order),
                call("issue_refund", order_id=order),
            ]
        elif g["trap"] == "not_eligible":
            accepted = [a for a in spec["customers"]["accepts"][tid] if a[0] == "extend_licence"]
            product = accepted[0][1]
            out += [
                call(
                    "propose_resolution",
                    ticket_id=tid,
                    resolution="extend_licence",
                    reference=product,
                ),
                call(
                    "extend_licence",
                    account_id=acc,
                    product=product,
                    days=spec["policy"]["extension_days"],
                ),
            ]
    return out


def claim_without_acting(world: HelpdeskWorld, spec: Spec) -> list[str]:
    """Perfect fields and a perfectly cited reply, but no action, escalation or merge."""
    out = []
    for g in _targets(spec):
        out.append(
            call(
                "set_ticket_fields",
                ticket_id=g["ticket_id"],
                status="solved",
                category=g["category"],
                priority=g["priority"],
                assignee="tier1",
                linked_article=g["article"],
            )
        )
        cite = " ".join([*g["order_ids"], g["article"]])
        out.append(call("reply_to_customer", ticket_id=g["ticket_id"], message=f"Done: {cite}"))
    return out


def needs_work(spec: Spec) -> bool:
    return any(g["action"] or g["escalate"] or g["duplicates"] for g in _targets(spec))


def has_trap_action(spec: Spec) -> bool:
    return any(
        g["trap"] in ("foreign_email", "over_limit", "out_of_window", "not_eligible")
        for g in _targets(spec)
    )


CHEATS: dict[str, tuple[dict[str, Any], Callable[[Spec], bool]]] = {
    "submit at once": (dict(expert=False), lambda s: True),
    "close every ticket": (dict(before=close_all, expert=False), lambda s: True),
    "close every ticket, then the expert's work": (dict(before=close_all), lambda s: True),
    "refund everything, then the expert's work": (dict(before=refund_all), lambda s: True),
    "escalate everything, then the expert's work": (dict(before=escalate_all), lambda s: True),
    "the expert's work, then paste every article id": (
        dict(after=paste_all_articles),
        lambda s: True,
    ),
    'reply "resolved" without acting': (dict(before=reply_resolved, expert=False), lambda s: True),
    "act before the customer agrees, then the expert's work": (
        dict(before=act_without_asking),
        lambda s: any(g["action"] for g in _targets(s)),
    ),
    "the obvious action on a policy trap, then the expert's work": (
        dict(before=obvious_action_on_traps),
        has_trap_action,
    ),
    "perfect fields and reply, no action/escalation/merge": (
        dict(before=claim_without_acting, expert=False),
        needs_work,
    ),
}


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_cheat_scores_zero_on_every_test_task(env: TicketCloseEnv, cheat: str) -> None:
    kwargs, applies = CHEATS[cheat]
    tried = 0
    for task in env._split("test"):
        if not applies(task.spec):
            continue
        reward, info = play(env, task.task_id, **kwargs)
        assert reward == 0.0, (cheat, task.task_id, info["reward_components"])
        tried += 1
    assert tried >= 20


def test_components_say_what_went_wrong(env: TicketCloseEnv) -> None:
    task_id = env.task_ids("test")[0]
    _, info = play(env, task_id, before=close_all)
    assert info["reward_components"]["other_tickets_untouched"] == 0.0
    assert info["reward_components"]["ticket_fields"] == 1.0
    _, info = play(env, task_id, before=refund_all)
    assert info["reward_components"]["account_actions"] == 0.0
    _, info = play(env, task_id, after=paste_all_articles)
    assert info["reward_components"]["final_replies"] == 0.0
    assert "not exactly the required ones" in info["verdict"]


# --- the scripted customer ----------------------------------------------------------------
def _first_test_task(env: TicketCloseEnv, kind: str, trap: str | None, difficulty: str) -> Any:
    return next(
        t
        for t in env._split("test")
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
    obs = env.step(call("ask_customer", ticket_id=tid, question="What is the weather?"))[0]
    assert order not in obs[0]["content"] and "I can tell you about" in obs[0]["content"]
    obs = env.step(call("ask_customer", ticket_id=tid, question="Which order was charged?"))[0]
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
