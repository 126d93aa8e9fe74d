"""``llmgym eval``: scoring maths and end-to-end runs through the real CLI."""

import contextlib
import importlib.metadata
import importlib.util
import math

import pytest

from llmgym import models
from llmgym.cli import main
from llmgym.eval import failure_kind, pass_at_k, summarize
from llmgym.trajectory import Trajectory, TurnSpan, read_jsonl

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None
    or not any(
        d.metadata["Name"] == models.GGUF_DISTRIBUTION for d in importlib.metadata.distributions()
    ),
    reason=f"needs transformers and `{models.INSTALL_HINT}`",
)


def trajectory(task_id: str, reward: float, invalid_turns: int = 0, error=None) -> Trajectory:
    turns = [
        TurnSpan(prompt_start=3 * i, completion_start=3 * i + 1, completion_end=3 * i + 3,
                 invalid_action=i < invalid_turns)
        for i in range(2)
    ]  # fmt: skip
    return Trajectory(
        env_id="e", task_id=task_id, seed=0, reward=reward, error=error,
        tokens=[0] * 6, loss_mask=[0, 1, 1] * 2, logprobs=[None, -1.0, -1.0] * 2, turns=turns,
    )  # fmt: skip


def test_pass_at_k_matches_the_closed_form():
    assert pass_at_k(4, 0, 2) == 0.0
    assert pass_at_k(4, 4, 1) == 1.0
    assert pass_at_k(4, 1, 1) == 0.25
    assert math.isclose(pass_at_k(4, 1, 2), 1 - math.comb(3, 2) / math.comb(4, 2))
    assert pass_at_k(4, 3, 2) == 1.0


def test_summary_counts():
    runs = [
        trajectory("a", 1.0), trajectory("a", 0.0, invalid_turns=1),
        trajectory("b", 0.5), trajectory("b", 0.0, invalid_turns=2, error="OSError: gone"),
    ]  # fmt: skip
    summary = summarize(runs, wall_s=2.0)
    assert summary.tasks == 2 and summary.episodes == 4 and summary.errors == 1
    assert summary.success_rate == 0.25 and summary.mean_reward == 0.375
    assert summary.pass_at_k == {1: 0.25, 2: 0.5}
    assert summary.mean_turns == 2.0 and summary.invalid_action_rate == 3 / 8
    assert summary.generated_tokens == 16 and summary.tokens_per_s == 8.0
    assert summary.failures == {"no submit (did not end)": 2, "crashed (OSError)": 1}


def test_failure_kinds_name_what_went_wrong():
    def ended(reason, reward=0.0, **components):
        t = trajectory("a", reward)
        return t.model_copy(update={"termination_reason": reason, "reward_components": components})

    assert failure_kind(ended("submitted", 1.0, flights=1.0)) is None
    assert failure_kind(ended("max_turns")) == "no submit (max_turns)"
    wrong = ended("submitted", flights=0.0, money=0.5, inventory=1.0)
    assert failure_kind(wrong) == "submitted, wrong: flights, money"
    assert failure_kind(trajectory("a", 0.0, error="boom")) == "crashed"
    crash = trajectory("a", 0.0, error="KeyError: 'seats'")
    assert failure_kind(crash.model_copy(update={"termination_reason": "error"})) == (
        "crashed (KeyError)"
    )
    for error, kind in [("episode exceeded 900.0 s", "timed out (wall clock)"),
                        ("environment calls exceeded 600.0 s", "timed out (environment)")]:  # fmt: skip
        slow = trajectory("a", 0.0, error=error)
        assert failure_kind(slow.model_copy(update={"termination_reason": "timeout"})) == kind
    assert failure_kind(ended("submitted", 0.5, x=1.0), success_threshold=0.5) is None
    summary = summarize([wrong, wrong, ended("max_turns")], wall_s=1.0)
    assert list(summary.failures.items()) == [
        ("submitted, wrong: flights, money", 2),
        ("no submit (max_turns)", 1),
    ]
    assert "failed:   2 x submitted, wrong: flights, money" in summary.lines()


@needs_model
def test_eval_cli_with_the_scripted_expert(tmp_path, capsys):
    out = tmp_path / "expert.jsonl"
    code = main(
        ["eval", "llmgym/TripBooking-v0", "--engine", "expert", "--episodes", "3",
         "--samples", "2", "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "success rate        1.000" in printed and "pass@2 1.000" in printed
    trajectories = read_jsonl(out)
    assert len(trajectories) == 6 and all(t.reward == 1.0 for t in trajectories)
    assert len({t.group_id for t in trajectories}) == 3


def test_eval_cli_refuses_bad_arguments_all_at_once_before_playing(tmp_path, capsys):
    out = tmp_path / "never.jsonl"
    code = main([
        "eval", "llmgym/TripBokking-v0", "--engine", "expert", "--episodes", "0",
        "--max-tokens", "0", "--top-p", "2", "--timeout", "-1", "--env-timeout", "0",
        "--max-turns", "0", "--seed", "-1", "--threads", "0", "--success-threshold", "5",
        "--out", str(out), "--no-progress",
    ])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    for wrong in ["'llmgym/TripBokking-v0'", "llmgym/TripBooking-v0", "--episodes: got 0",
                  "--max-tokens: got 0", "--top-p: got 2.0", "--timeout: got -1.0",
                  "--env-timeout: got 0.0", "--max-turns: got 0", "--seed: got -1",
                  "--threads: got 0", "--success-threshold: got 5.0"]:  # fmt: skip
        assert wrong in err, (wrong, err)
    assert "Traceback" not in err and not out.exists()
    for split in ("train", "test"):  # a difficulty the env lacks; any with the test split
        code = main(["eval", "llmgym/TripBooking-v0", "--engine", "expert", "--split", split,
                     "--difficulty", "nightmare" if split == "train" else "easy",
                     "--out", str(out), "--no-progress"])  # fmt: skip
        assert code == 2 and "--difficulty: got" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--engine", "hf", "--engine-options", '{"max_batch_sise": 2}'],
         "--engine-options: got 'max_batch_sise' (did you mean 'max_batch_size'?)"),
        (["--engine", "hf", "--engine-options", '{"max_model_len": 512}'],
         "'max_model_len' comes from --max-context"),
        (["--engine", "expert", "--engine-options", '{"max_batch_size": 2}'],
         "expected them only with a local model engine"),
        (["--engine", "hf", "--engine-options", "max_batch_size=2"], "expected a JSON object"),
        (["--engine", "hf", "--engine-options", "[1]"], "expected a JSON object"),
    ],
)  # fmt: skip
def test_eval_cli_refuses_bad_engine_options_before_loading(tmp_path, capsys, flags, expected):
    out = tmp_path / "never.jsonl"
    with contextlib.suppress(SystemExit):  # argparse's own refusal exits 2
        assert main(["eval", "llmgym/TripBooking-v0", *flags, "--out", str(out)]) == 2
    assert expected in capsys.readouterr().err and not out.exists()


@pytest.mark.slow
@needs_model
def test_eval_cli_with_the_transformers_engine(tmp_path, capsys):
    out = tmp_path / "hf.jsonl"
    code = main(
        ["eval", "llmgym/TripBooking-v0", "--engine", "hf", "--episodes", "2",
         "--max-tokens", "24", "--max-turns", "3", "--out", str(out), "--no-progress",
         "--threads", "2", "--engine-options", '{"max_batch_size": 1}']
    )  # fmt: skip
    assert code == 0
    assert "invalid-action rate" in capsys.readouterr().out
    trajectories = read_jsonl(out)
    assert len(trajectories) == 2
    for t in trajectories:
        assert t.ok and 1 <= t.num_turns <= 3 and t.num_sampled_tokens > 0
        assert all(lp is not None for lp, m in zip(t.logprobs, t.loss_mask, strict=True) if m)
