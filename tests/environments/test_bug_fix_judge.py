"""The BugFix judge: value codec, comparison, hostile result files, probes and test strength."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os

import pytest

from llmgym.environments.bug_fix.env import BugFixEnv
from llmgym.environments.bug_fix.generator import load_catalog
from llmgym.environments.bug_fix.grader import grade, read_results, reference_results, same
from llmgym.environments.bug_fix.harness import decode, encode
from llmgym.environments.bug_fix.mutations import Mutation, apply_mutations
from llmgym.environments.bug_fix.probes import probes_for
from llmgym.environments.bug_fix.projects import load_projects
from llmgym.sandbox import Sandbox, probe_bwrap, strict_from_env
from llmgym.tasks import load_split

needs_sandbox = pytest.mark.skipif(
    probe_bwrap() is not None and not strict_from_env(),
    reason="bubblewrap unusable here (LLMGYM_SANDBOX_STRICT=1 fails instead)",
)
NEAR_MISS = ("months = (end.year - start.year) * 12", "months = (end.year - start.year) * 13")


class AgreesWithAnything:
    def __eq__(self, other):
        return True


class LyingInt(int):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "value",
    [0, -7, 2**80, 1.5, float("inf"), "x", "", True, None, [1, (2, "3")], {"a": {1, 2}},
     {3: [None]}, dt.date(2024, 2, 29), dt.datetime(2024, 1, 1, 12, 30),
     dt.timedelta(days=-1, seconds=5), decimal.Decimal("1.10"), b"\x00\xff", frozenset()],
)  # fmt: skip
def test_codec_round_trips_plain_values(value):
    data = encode(value)
    assert json.loads(json.dumps(data)) == data
    back = decode(data, {})
    assert back == value or (isinstance(value, frozenset) and back == set(value))
    assert type(back) in (type(value), set)


@pytest.mark.parametrize(
    "value", [AgreesWithAnything(), LyingInt(3), object(), print, ValueError()]
)
def test_objects_are_unencodable_and_never_equal(value):
    data = encode(value)
    assert "$unencodable" in data
    assert not same(data, data)  # not even to itself
    assert not same(encode(3), data)


def test_comparison_is_exact_on_types_and_tolerant_on_floats():
    assert not same(encode(1), encode(True))
    assert not same(encode(1), encode(1.0))
    assert not same(encode((1, 2)), encode([1, 2]))
    assert same(encode(0.1 + 0.2), encode(0.3))
    assert same(encode(float("nan")), encode(float("nan")))
    assert not same(encode({"a": 1}), encode({"a": 1, "b": 2}))
    assert same(encode({"b": 1, "a": 2}), encode({"a": 2, "b": 1}))  # dicts: order-free


def test_hostile_results_files_parse_without_raising(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(
        "[" * 100_000 + "\n"  # RecursionError
        + "9" * 6000 + "\n"  # ValueError: int digits
        + '{"id": "x#0", "steps": [{"v": 1}]}\n'
        + '{"id": "x#0", "steps": [{"v": 2}]}\n'  # a later duplicate is ignored
        + "not json\n" + '"a string"\n' + '{"id": 5, "steps": []}\n'
    )  # fmt: skip
    assert read_results(path) == {"x#0": [{"v": 1}]}
    link = tmp_path / "link.jsonl"
    link.symlink_to(path)
    assert read_results(link) == {}
    (tmp_path / "folder").symlink_to(tmp_path)  # a symlinked folder is not followed either
    assert read_results(tmp_path / "folder" / "results.jsonl") == {}
    os.mkfifo(tmp_path / "fifo")
    assert read_results(tmp_path / "fifo") == {}
    assert read_results(tmp_path / "missing") == {}


def test_probes_are_many_deterministic_and_cover_every_project():
    for name in load_projects():
        probes = probes_for(name)
        assert len(probes) >= 250, name
        probes_for.cache_clear()
        assert probes_for(name) == probes


@needs_sandbox
async def test_reference_results_are_plain_for_every_project():
    with Sandbox() as sandbox:
        for project in load_projects().values():
            results = await reference_results(project, sandbox)  # raises on unencodable
            assert len(results) == len(probes_for(project.name))


@needs_sandbox
async def test_near_miss_is_rejected_and_clean_code_accepted():
    project = load_projects()["calendar_utils"]
    clean = {p: project.files[p] for p in project.source_files}
    near = {**clean, "calutil/months.py": clean["calutil/months.py"].replace(*NEAR_MISS)}
    with Sandbox() as sandbox:
        assert (await grade(project, clean, sandbox)).reward == 1.0
        report = await grade(project, near, sandbox)
    assert report.reward == 0.0 and report.failing_groups == ("calutil.months:months_between",)


@needs_sandbox
@pytest.mark.slow
async def test_judge_rejects_every_test_task_unrepaired():
    """Submitting the task as handed out never pays: each test bug breaks some probe."""
    projects = load_projects()
    with Sandbox() as sandbox:
        for task in load_split("bug_fix", "test", BugFixEnv.test_split_sha256):
            project = projects[task.spec["project"]]
            mutations = [Mutation.from_dict(m) for m in task.spec["mutations"]]
            files = apply_mutations(project.files, mutations)
            sources = {p: files[p] for p in project.source_files}
            report = await grade(project, sources, sandbox)
            assert report.reward == 0.0, task.task_id


@needs_sandbox
@pytest.mark.slow
async def test_judge_rejects_every_catalogued_mutant():
    """Everything the old hidden tests caught, the judge catches (train tasks included)."""
    projects = load_projects()
    accepted = []
    with Sandbox() as sandbox:
        for entry in load_catalog():
            project = projects[entry.project]
            files = apply_mutations(project.files, [Mutation.from_dict(m) for m in entry.mutations])
            report = await grade(project, {p: files[p] for p in project.source_files}, sandbox)
            if report.reward:
                accepted.append(entry.key)
    assert accepted == []
