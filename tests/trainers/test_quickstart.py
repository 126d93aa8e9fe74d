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


@pytest.mark.slow
def test_the_main_job_runs_end_to_end_and_writes_its_proof(tmp_path):
    pytest.importorskip("transformers")
    config = QuickstartConfig(
        out=tmp_path / "qs",
        eval_tasks=2,
        sft={**SFT_RECIPE, "episodes": 2, "epochs": 1.0, "batch_size": 2},
        grpo={**GRPO_RECIPE, "steps": 1, "groups_per_step": 1, "group_size": 2,
              "max_new_tokens": 32, "concurrency": 4, "env_kwargs": {"max_turns": 3}},
    )  # fmt: skip
    summary = run_quickstart(config, progress=False)

    saved = json.loads((tmp_path / "qs" / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summary))
    for key in ("before", "after"):
        assert saved[key]["episodes"] == 2 and len(saved[key]["per_task"]) == 2
        assert saved[key]["successes"] == sum(saved[key]["per_task"])
    assert 0.0 <= saved["mcnemar_p"] <= 1.0
    assert saved["gained"] + saved["lost"] <= 2
    assert [r["step"] for r in saved["train_curve"]] == [1]
    wall = saved["wall_s"]
    assert set(wall) == {"sft", "eval_before", "grpo", "eval_after", "total"}
    assert all(v >= 0 for v in wall.values())
    assert wall["total"] == pytest.approx(
        wall["sft"] + wall["eval_before"] + wall["grpo"] + wall["eval_after"]
    )
    assert (tmp_path / "qs" / "quickstart.png").stat().st_size > 1000
    assert (tmp_path / "qs" / "sft" / "config.json").is_file()  # the warm-started model


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
