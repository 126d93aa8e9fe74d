"""The main job, shortened (CI runs it so that the README's first command cannot silently break)."""

import json
from pathlib import Path

import pytest

from llmgym.stats import mcnemar_exact, wilson
from llmgym.trainers.quickstart import (
    GRPO_RECIPE,
    SFT_RECIPE,
    QuickstartConfig,
    describe,
    run_quickstart,
)

RECORDED = Path(__file__).parents[2] / "bench" / "results" / "quickstart" / "summary.json"


class Interrupted(Exception):
    pass


@pytest.mark.slow
def test_the_main_job_runs_end_to_end_resumes_and_writes_its_proof(tmp_path, monkeypatch):
    """The shortened main job, interrupted right after the checkpoint of GRPO step 1 of 2, and
    run again: it reuses the SFT model and the step-0 evaluation, plays only step 2, and
    writes the whole proof; a third run of the finished job trains nothing."""
    pytest.importorskip("transformers")
    import llmgym.trainers.grpo.loop as loop

    config = QuickstartConfig(
        out=tmp_path / "qs",
        eval_tasks=2,
        sft={**SFT_RECIPE, "episodes": 2, "epochs": 1.0, "batch_size": 2},
        grpo={**GRPO_RECIPE, "steps": 2, "groups_per_step": 1, "group_size": 2,
              "max_new_tokens": 32, "concurrency": 4, "env_kwargs": {"max_turns": 3}},
    )  # fmt: skip
    save_checkpoint = loop.save_checkpoint

    def interrupted_after_the_first(*args, **kwargs):
        save_checkpoint(*args, **kwargs)
        raise Interrupted  # as a kill right after the checkpoint of step 1 would

    monkeypatch.setattr(loop, "save_checkpoint", interrupted_after_the_first)
    with pytest.raises(Interrupted):
        run_quickstart(config, progress=False)
    monkeypatch.undo()
    metrics = tmp_path / "qs" / "grpo" / "metrics.jsonl"
    first = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [r["step"] for r in first] == [0, 1]
    sft_model = (tmp_path / "qs" / "sft" / "model.safetensors").stat().st_mtime_ns

    summary = run_quickstart(config, progress=False)

    assert summary["resumed"] == {"sft_reused": True, "grpo_from_step": 1}
    assert (tmp_path / "qs" / "sft" / "model.safetensors").stat().st_mtime_ns == sft_model
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 1, 2]
    assert records[:2] == first  # the step-0 evaluation and step 1 were kept, not replayed
    saved = json.loads((tmp_path / "qs" / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summary))
    assert saved["before"]["per_task"] == first[0]["eval_successes"]
    for key in ("before", "after"):
        assert saved[key]["episodes"] == 2 and len(saved[key]["per_task"]) == 2
        assert saved[key]["successes"] == sum(saved[key]["per_task"])
    assert 0.0 <= saved["mcnemar_p"] <= 1.0
    assert saved["gained"] + saved["lost"] <= 2
    assert [r["step"] for r in saved["train_curve"]] == [1, 2]
    assert len(saved["sft_losses"]) == 1
    wall = saved["wall_s"]
    assert set(wall) == {"sft", "eval_before", "grpo", "eval_after", "total"}
    assert all(v > 0 for v in wall.values())
    assert wall["total"] == pytest.approx(
        wall["sft"] + wall["eval_before"] + wall["grpo"] + wall["eval_after"]
    )
    assert (tmp_path / "qs" / "quickstart.png").stat().st_size > 1000
    assert (tmp_path / "qs" / "sft" / "config.json").is_file()  # the warm-started model

    again = run_quickstart(config, progress=False)  # finished: nothing is trained again
    assert again["resumed"] == {"sft_reused": True, "grpo_from_step": 2}
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [0, 1, 2]
    assert {k: again[k] for k in ("before", "after", "train_curve", "mcnemar_p")} == {
        k: summary[k] for k in ("before", "after", "train_curve", "mcnemar_p")
    }


def test_a_run_folder_of_another_recipe_is_refused_unless_fresh(tmp_path):
    """Continuing a run with other flags would mix two recipes: the error names the fields
    that differ and what to do; --fresh discards the old run (only the files a run writes)."""
    from llmgym.trainers.quickstart import RecipeMismatch, load_run_state, save_run_state

    out = tmp_path / "qs"
    six = QuickstartConfig(out=out, grpo={**GRPO_RECIPE, "steps": 6})
    twelve = QuickstartConfig(out=out, grpo={**GRPO_RECIPE, "steps": 12})
    out.mkdir()
    save_run_state(out, {"recipe": six.recipe(), "sft": {"losses": [0.5], "wall_s": 1.0}})
    assert load_run_state(out, six.recipe())["sft"]["losses"] == [0.5]
    # the folder's place is not part of the recipe: a moved or relatively named run continues
    moved = QuickstartConfig(out=tmp_path / "elsewhere", grpo={**GRPO_RECIPE, "steps": 6})
    assert moved.recipe() == six.recipe()
    with pytest.raises(RecipeMismatch, match=r"grpo\.steps: 6 there, 12 now.*--fresh"):
        run_quickstart(twelve, progress=False)
    (out / "quickstart.json").write_text("{not json")
    with pytest.raises(RecipeMismatch, match=r"not a quickstart run's state.*--fresh"):
        load_run_state(out, six.recipe())


def test_fresh_discards_the_old_run_and_only_what_a_run_writes(tmp_path):
    from llmgym.trainers.grpo.config import ConfigError
    from llmgym.trainers.quickstart import prepare_run, save_run_state

    out = tmp_path / "qs"
    old = QuickstartConfig(out=out, grpo={**GRPO_RECIPE, "steps": 12})
    (out / "sft").mkdir(parents=True)
    (out / "grpo" / "checkpoint").mkdir(parents=True)
    (out / "summary.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    save_run_state(out, {"recipe": old.recipe(), "sft": {"losses": [0.5], "wall_s": 1.0}})
    bad = QuickstartConfig(out=out, grpo={**GRPO_RECIPE, "group_sise": 4})
    with pytest.raises(ConfigError):  # a bad field fails before anything is removed
        run_quickstart(bad, progress=False, fresh=True)
    assert (out / "sft").is_dir() and (out / "quickstart.json").is_file()

    new = QuickstartConfig(out=out)
    state = prepare_run(new, fresh=True)
    assert state == {"recipe": new.recipe()}  # nothing of the old run is reused
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "quickstart.json"]
    assert json.loads((out / "quickstart.json").read_text()) == state


def test_a_bad_recipe_field_fails_before_any_model_loads(tmp_path):
    from llmgym.trainers.grpo.config import ConfigError

    config = QuickstartConfig(out=tmp_path / "qs", grpo={**GRPO_RECIPE, "group_sise": 4})
    with pytest.raises(ConfigError, match="group_sise"):
        run_quickstart(config, progress=False)
    assert not (tmp_path / "qs" / "sft").exists()


def test_the_recorded_run_is_consistent_and_described_as_it_is():
    """bench/results/quickstart/summary.json (quoted in the README): its counts, intervals and
    p-value follow from its per-task results, and describe() prints them and the failures."""
    summary = json.loads(RECORDED.read_text())
    before, after = summary["before"], summary["after"]
    for r in (before, after):
        assert r["successes"] == sum(r["per_task"]) and r["episodes"] == len(r["per_task"]) >= 40
        assert r["wilson95"] == pytest.approx(list(wilson(r["successes"], r["episodes"])))
        assert sum(r["failures"].values()) == r["episodes"] - r["successes"]
    test = mcnemar_exact(before["per_task"], after["per_task"])
    assert (summary["gained"], summary["lost"]) == (test.gained, test.lost)
    assert summary["mcnemar_p"] == pytest.approx(test.p_value)
    assert summary["significant"] == (test.p_value < 0.05)
    assert summary["config"]["grpo"]["trainable_layers"] == GRPO_RECIPE["trainable_layers"]
    text = describe(summary)
    assert f"{before['successes']:3d}/{before['episodes']}" in text
    assert f"+{test.gained} -{test.lost}, exact McNemar p = {test.p_value:.4f}" in text
    for kind, n in after["failures"].items():
        assert f"failed {n:3d} x {kind}" in text


def test_the_recorded_spread_follows_from_its_per_task_results():
    """bench/results/quickstart/spread/summary.json (quoted in the README): every run starts
    from the recorded run's SFT model, and its counts and p-values follow from its results."""
    spread = json.loads((RECORDED.parent / "spread" / "summary.json").read_text())
    sft = spread["sft"]["successes"]
    assert sft == json.loads(RECORDED.read_text())["before"]["per_task"]
    assert len(spread["runs"]) >= 2
    for name, run in spread["runs"].items():
        assert run["success"] == sum(run["successes"]) and run["episodes"] == len(sft), name
        assert sum(run["failures"].values()) == run["episodes"] - run["success"], name
        test = mcnemar_exact(sft, run["successes"])
        assert (run["gained"], run["lost"]) == (test.gained, test.lost), name
        assert run["p"] == pytest.approx(test.p_value), name
        assert len(run["train_reward"]) == len(run["kept_frac"]) == run["steps"], name
