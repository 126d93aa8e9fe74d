"""BugFix-v0: data integrity, bug injection, the expert, the tools' confinement, cleanup."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import get_args

import pytest
from pydantic import ValidationError

from llmgym.environments.bug_fix.env import BugFixEnv
from llmgym.environments.bug_fix.generator import generate_bug_task, load_catalog
from llmgym.environments.bug_fix.mutations import KINDS, Mutation, apply_mutations, find_mutations
from llmgym.environments.bug_fix.projects import load_projects
from llmgym.environments.bug_fix.spec import BugFixSpec, MutationKind, MutationSpec
from llmgym.sandbox import probe_bwrap, strict_from_env
from llmgym.sandbox.runner import live_processes
from llmgym.tasks import InvalidTaskSpec, Task, load_split, split_path

needs_sandbox = pytest.mark.skipif(
    probe_bwrap() is not None and not strict_from_env(),
    reason="bubblewrap unusable here (LLMGYM_SANDBOX_STRICT=1 fails instead)",
)


@pytest.fixture
def env():
    environment = BugFixEnv()
    yield environment
    environment.close()


def json_call(name: str, **arguments: str) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def play_expert(env: BugFixEnv, task_id: str, max_turns: int = 10) -> tuple[float, dict]:
    env.reset(seed=0, options={"task_id": task_id})
    for _ in range(max_turns):
        _, reward, terminated, truncated, info = env.step(env.expert_action())
        if terminated or truncated:
            return reward, info
    raise AssertionError("the expert did not finish")


def test_test_split_is_hashed_sized_and_covers_difficulties():
    tasks = load_split("bug_fix", "test", BugFixEnv.test_split_sha256)
    assert len(tasks) >= 40
    assert Counter(t.difficulty for t in tasks) == {"easy": 16, "medium": 16, "hard": 16}
    assert len({t.spec["catalog_key"] for t in tasks}) == len(tasks)
    assert split_path("bug_fix", "test").exists()


def test_train_tasks_never_draw_test_bugs():
    test_keys = BugFixEnv.test_catalog_keys()
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(60):
            spec = generate_bug_task(seed, difficulty, exclude=test_keys)
            assert spec["catalog_key"] not in test_keys


def test_generation_is_deterministic_and_issue_hides_the_fix():
    a = generate_bug_task(123, "medium")
    assert a == generate_bug_task(123, "medium")
    for mutation in a["mutations"]:
        if mutation["mutated"].strip():
            assert mutation["mutated"].strip() not in a["issue"]
        assert mutation["original"].strip() not in a["issue"]


def test_catalog_has_every_kind_and_multi_file_pairs():
    catalog = load_catalog()
    kinds = {m["kind"] for e in catalog for m in e.mutations}
    assert kinds == set(KINDS)
    pairs = [e for e in catalog if len(e.mutations) == 2]
    assert pairs and all(e.mutations[0]["path"] != e.mutations[1]["path"] for e in pairs)
    assert all(e.failing_hidden for e in catalog)
    assert all(not e.failing_visible for e in pairs)


def test_mutation_discovery_is_deterministic_and_valid():
    project = load_projects()["money"]
    path = "money/split.py"
    found = find_mutations(path, project.files[path])
    assert found and found == find_mutations(path, project.files[path])
    for mutation in found:
        broken = apply_mutations(project.files, [mutation])[path]
        assert broken != project.files[path]
        compile(broken, path, "exec")  # every mutant is valid Python


def test_agent_tree_has_no_hidden_tests():
    for project in load_projects().values():
        assert not any(p.startswith("hidden_tests/") for p in project.agent_files())
        assert project.source_files and all(p.endswith(".py") for p in project.source_files)


@needs_sandbox
@pytest.mark.parametrize("task_id", ["test-0000", "test-0001", "test-0002"])
def test_expert_solves_one_task_per_difficulty(env, task_id):
    reward, info = play_expert(env, task_id)
    assert reward == 1.0, info
    assert info["termination_reason"] == "submitted"
    assert info["reward_components"]["failing_groups"] == 0.0


@needs_sandbox
def test_submitting_without_fixing_scores_zero(env):
    env.reset(seed=0, options={"task_id": "test-0001"})
    _, reward, terminated, _, info = env.step(
        '<tool_call>{"name": "submit", "arguments": {}}</tool_call>'
    )
    assert terminated and reward == 0.0
    assert info["reward_components"]["failing_groups"] >= 1.0


@needs_sandbox
async def test_async_api_and_train_task(env):
    obs, info = await env.areset(seed=3, options={"split": "train", "difficulty": "hard"})
    assert info["task_id"].startswith("train-hard-")
    assert "Bug report" in obs[1]["content"]
    obs, *_ = await env.astep(
        '<tool_call>{"name": "run", "arguments": {"command": "echo hi; id -u"}}</tool_call>'
    )
    assert "hi" in obs[0]["content"] and "\n0\n" not in obs[0]["content"]


@needs_sandbox
def test_file_tools_stay_inside_the_project(env):
    env.reset(seed=0, options={"task_id": "test-0003"})
    ws = env.workspace
    assert "tests/" in ws.list_files() and "hidden_tests" not in ws.list_files()
    for bad in ["../../../etc/passwd", "/etc/passwd", "/work/../etc/passwd"]:
        _, _, _, _, info = env.step(
            f'<tool_call>{{"name": "read_file", "arguments": {{"path": "{bad}"}}}}</tool_call>'
        )
        assert "outside the project" in env.transcript[-1]["content"]
    env.step(
        '<tool_call>{"name": "run", "arguments": {"command": "ln -s /etc/passwd leak; ln -s / rootlink"}}</tool_call>'
    )
    env.step('<tool_call>{"name": "read_file", "arguments": {"path": "leak"}}</tool_call>')
    assert "outside the project" in env.transcript[-1]["content"]
    env.step(
        '<tool_call>{"name": "write_file", "arguments": {"path": "rootlink/tmp/pwned", "content": "x"}}</tool_call>'
    )
    assert "outside the project" in env.transcript[-1]["content"]
    assert not os.path.exists("/tmp/pwned")
    modes = {p: os.stat(p).st_mode for p in ("/", "/etc/passwd")}
    env.close()  # cleanup must not follow the planted links
    assert {p: os.stat(p).st_mode for p in modes} == modes


@needs_sandbox
async def test_disk_fill_of_the_work_tree_is_undone(env):
    await env.areset(seed=0, options={"task_id": "test-0000"})
    env.workspace.disk_quota_bytes = 8 << 20
    fill = "for i in 1 2 3 4 5 6; do dd if=/dev/zero of=junk$i bs=1M count=4; done"
    obs, *_ = await env.astep(json_call("run", command=fill))
    assert "disk quota" in obs[0]["content"]
    total = sum(p.stat().st_size for p in env.workspace.tree.rglob("*") if p.is_file())
    assert total <= 8 << 20
    assert env.workspace.list_files().count("calutil/") >= 4  # project files are kept


@needs_sandbox
def test_edit_file_requires_a_unique_match(env):
    env.reset(seed=0, options={"task_id": "test-0004"})
    env.step(
        '<tool_call>{"name": "edit_file", "arguments": {"path": "pytest.ini", "old": "nope", "new": "x"}}</tool_call>'
    )
    assert "was not found" in env.transcript[-1]["content"]


@needs_sandbox
def test_turn_without_tool_call_is_invalid(env):
    env.reset(seed=0, options={"task_id": "test-0000"})
    _, reward, terminated, truncated, info = env.step("I think the bug is in months.py")
    assert info["invalid_action"] and not terminated and not truncated and reward == 0.0


@needs_sandbox
def test_close_removes_temp_dirs_and_processes():
    env = BugFixEnv()
    env.reset(seed=0, options={"task_id": "test-0000"})
    tree = env.workspace.tree
    uid = env.sandbox.uid
    env.step(
        '<tool_call>{"name": "run", "arguments": {"command": "(setsid sleep 60 &); echo ok"}}</tool_call>'
    )
    assert tree.exists()
    env.reset(seed=0, options={"task_id": "test-0001"})
    assert not tree.exists()  # the previous episode's tree is gone
    second = env.workspace.tree
    env.close()
    env.close()  # idempotent
    assert not second.exists()
    if os.getuid() == 0:
        assert live_processes(uid) == []


@needs_sandbox
def test_gymnasium_env_checker():
    from gymnasium.utils.env_checker import check_env

    env = BugFixEnv()
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


@needs_sandbox
@pytest.mark.slow
def test_expert_solves_every_test_task(env):
    failures = {}
    for task_id in env.task_ids("test"):
        reward, info = play_expert(env, task_id)
        if reward != 1.0:
            failures[task_id] = info.get("verdict")
    assert failures == {}


def test_recorded_fix_restores_the_clean_project_for_every_catalog_bug():
    """The expert's edits (the recorded patch) undo every confirmed bug exactly."""
    from llmgym.environments.bug_fix.expert import fix_edit

    projects = load_projects()
    for entry in load_catalog():
        clean = projects[entry.project].files
        mutations = [Mutation.from_dict(m) for m in entry.mutations]
        broken = apply_mutations(clean, mutations)
        for mutation in mutations:
            old, new = fix_edit(broken[mutation.path], mutation)
            assert broken[mutation.path].count(old) == 1
            broken[mutation.path] = broken[mutation.path].replace(old, new, 1)
        assert broken == clean, entry.key


@needs_sandbox
async def test_fifo_in_place_of_a_file_hangs_nothing(env):
    await env.areset(seed=0, options={"task_id": "test-0001"})
    path = env.task.spec["mutations"][0]["path"]
    await env.astep(json_call("run", command=f"rm {path} && mkfifo {path} && mkfifo other"))
    obs, *_ = await env.astep(json_call("write_file", path="other", content="x"))
    assert "not a regular file" in obs[0]["content"]
    obs, reward, terminated, *_ = await env.astep(json_call("submit"))
    assert terminated and reward == 0.0


@needs_sandbox
async def test_odd_files_become_tool_errors_not_exceptions(env):
    await env.areset(seed=0, options={"task_id": "test-0001"})
    await env.astep(
        json_call(
            "run", command="printf '\\377\\376bad' > bin.dat; mkdir -p locked; chmod 000 locked"
        )
    )
    obs, *_ = await env.astep(json_call("edit_file", path="bin.dat", old="bad", new="good"))
    assert "cannot access" in obs[0]["content"] and "UnicodeDecodeError" in obs[0]["content"]
    obs, *_ = await env.astep(json_call("read_file", path="locked"))
    assert "no such file" in obs[0]["content"]
    root = env.workspace.tree.parent
    env.close()
    assert not root.exists()


def test_every_test_task_and_hundreds_of_train_tasks_are_bug_fix_specs(env):
    assert get_args(MutationKind) == KINDS
    tasks = [*load_split("bug_fix", "test", BugFixEnv.test_split_sha256)]
    tasks += [env.make_train_task(seed, d) for d in env.difficulties for seed in range(100)]
    for task in tasks:
        spec = BugFixSpec.of(task)
        assert spec.model_dump(mode="json") == task.spec  # the record is the JSON, all of it
        assert len(spec.mutations) == (2 if task.difficulty == "hard" else 1)
        assert all(isinstance(m, MutationSpec) for m in spec.mutations)
        assert [m.to_mutation() for m in spec.mutations] == [
            Mutation.from_dict(m) for m in task.spec["mutations"]
        ]
    with pytest.raises(ValidationError):
        spec.issue = "forged"  # type: ignore[misc]


def _bad_spec(field: str) -> dict:
    spec = generate_bug_task(0, "hard")
    mutation = spec["mutations"][1]
    edits = {
        "mutations.1.start_line": lambda: mutation.update(start_line=str(mutation["start_line"])),
        "mutations.1.kind": lambda: mutation.update(kind="typo"),
        "mutations.1.hint": lambda: mutation.update(hint="the fix"),
        "solution": lambda: spec.update(solution="the fix"),
        "project_sha256": lambda: spec.update(project_sha256="ABC"),
        "catalog_key": lambda: spec.pop("catalog_key"),
        "mutations": lambda: spec.update(mutations=[]),
        "issue": lambda: spec.update(issue=None),
    }
    edits[field]()
    return spec


@pytest.mark.parametrize(
    "field",
    [
        "mutations.1.start_line",
        "mutations.1.kind",
        "mutations.1.hint",
        "solution",
        "project_sha256",
        "catalog_key",
        "mutations",
        "issue",
    ],
)
def test_a_spec_of_the_wrong_shape_is_refused_naming_the_field(field):
    task = Task(task_id="t-bad", split="train", difficulty="hard", seed=0, spec=_bad_spec(field))
    with pytest.raises(InvalidTaskSpec) as caught:
        BugFixSpec.of(task)
    assert "'t-bad'" in str(caught.value) and field in str(caught.value)


@needs_sandbox
@pytest.mark.parametrize("field", ["mutations.1.start_line", "solution"])
def test_reset_refuses_a_bad_spec_and_keeps_the_episode(env, monkeypatch, field):
    env.reset(seed=0, options={"task_id": "test-0001"})
    task, spec, workspace = env.task, env.task_spec, env.workspace
    monkeypatch.setattr(env, "generate_task", lambda seed, difficulty: _bad_spec(field))
    with pytest.raises(InvalidTaskSpec, match=field.replace(".", r"\.")):
        env.reset(seed=1, options={"split": "train", "difficulty": "hard"})
    assert env.task is task and env.task_spec is spec and env.workspace is workspace
    assert workspace.tree.exists()
    env.step(json_call("read_file", path=spec.mutations[0].path))
    assert spec.mutations[0].mutated in env.transcript[-1]["content"]


@needs_sandbox
@pytest.mark.parametrize("options", [{"task_id": "test-0002"}, {"split": "train"}])
def test_reset_keeps_the_task_spec_as_a_bug_fix_spec(env, options):
    env.reset(seed=5, options=options)
    assert isinstance(env.task_spec, BugFixSpec)
    assert env.task_spec == BugFixSpec.of(env.task)
