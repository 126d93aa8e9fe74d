"""``llmgym train`` end to end on TripBooking with a tiny random model and the real tokenizer."""

import json
from pathlib import Path

import pytest
import torch

from llmgym.trainers.grpo.config import ConfigError, load_config


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A random 1-layer Llama with SmolLM2's tokenizer (so the chat template is real)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from llmgym.models import resolve_model

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    except ModuleNotFoundError as exc:
        pytest.skip(str(exc))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_train_command_runs_evaluates_checkpoints_and_plots(tiny_model_dir, tmp_path, capsys):
    from llmgym.cli import main

    out = tmp_path / "run"
    config = tmp_path / "config.yaml"
    config.write_text(f"model: {tiny_model_dir}\nengine: hf\ngroup_size: 2\ngroups_per_step: 2\n")
    code = main([
        "train", "--config", str(config), "--steps", "2", "--out", str(out),
        "--max-new-tokens", "4", "--max-trajectory-tokens", "1400", "--eval-every", "2",
        "--eval-episodes", "2", "--torch-threads", "1", "--learning-rate", "1e-3",
        "--env-kwargs", '{"max_turns": 3}',
    ])  # fmt: skip
    assert code == 0
    assert "trained 2 steps" in capsys.readouterr().out  # the step-0 evaluation is not a step
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 1, 2]  # step 0: evaluation before training
    assert records[1]["episodes"] == 4 and records[1]["failed_episodes"] == 0
    assert 1 <= records[1]["turns_mean"] <= 3  # env_kwargs reach gym.make
    assert "eval_success" in records[2] and "eval_success" not in records[1]
    assert records[0]["eval_episodes"] == 2 and len(records[0]["eval_successes"]) == 2
    assert (out / "checkpoint" / "state.pt").is_file()
    assert (out / "reward_curve.png").is_file()


def test_dynamic_sampling_plays_more_groups_when_none_has_signal(tiny_model_dir, tmp_path):
    """``--resample-groups 2``: the untrained tiny model earns nothing, so no group has
    signal and the step draws its 2 extra groups (of 2 episodes): 8 episodes, not 4."""
    from llmgym.cli import main

    out = tmp_path / "run"
    code = main([
        "train", "--model", str(tiny_model_dir), "--engine", "hf", "--group-size", "2",
        "--groups-per-step", "2", "--resample-groups", "2", "--steps", "1", "--out", str(out),
        "--max-new-tokens", "4", "--max-trajectory-tokens", "1400", "--eval-every", "0",
        "--torch-threads", "1", "--env-kwargs", '{"max_turns": 2}',
    ])  # fmt: skip
    assert code == 0
    [record] = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert record["kept_frac"] == 0.0 and record["episodes"] == 8


def test_bad_config_file_names_the_field_and_the_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("group_size: 1\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "group_size: got 1" in message and "greater than or equal to 2" in message
    assert "learning_rat: unknown field" in message and "learning_rate" in message
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_readme_quickstart_config_is_valid_and_trains_from_the_sft_folder():
    """bench/quickstart.yaml, the example `llmgym train` config; a drifted field would only
    show on a fresh machine, after setup, so check it here."""
    path = Path(__file__).parents[2] / "bench" / "quickstart.yaml"
    config = load_config(path, out="runs/quickstart")
    assert config.model == "runs/sft"  # what `llmgym sft --out runs/sft` writes
    assert config.env_options == {"difficulty": "easy"}
    # the main job's GRPO recipe, so the example trains as the proven recipe does
    from llmgym.trainers.quickstart import GRPO_RECIPE

    drift = {k: (getattr(config, k), v) for k, v in GRPO_RECIPE.items() if k != "checkpoint_every"
             and getattr(config, k) != v}  # fmt: skip
    assert not drift, f"bench/quickstart.yaml differs from GRPO_RECIPE: {drift}"


def test_sft_command_writes_a_model_folder_that_loads(tiny_model_dir, tmp_path, capsys):
    """`llmgym sft --out DIR` (the README's first training step) saves a plain model folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmgym.cli import main

    out = tmp_path / "sft"
    code = main([
        "sft", "--model", str(tiny_model_dir), "--out", str(out), "--episodes", "2",
        "--epochs", "1", "--batch-size", "2", "--micro-batch-size", "1", "--threads", "1",
    ])  # fmt: skip
    assert code == 0
    assert "SFT: 1 steps" in capsys.readouterr().out
    assert AutoModelForCausalLM.from_pretrained(out).config.num_hidden_layers == 1
    assert AutoTokenizer.from_pretrained(out).eos_token == "<|im_end|>"


def test_an_unknown_env_id_is_refused_before_any_model_loads(tmp_path, capsys):
    """Before, ``llmgym train --env llmgym/Nope-v0`` loaded the model and then died in
    Gymnasium with a traceback; the config now names the bad id and the registered ones."""
    from llmgym.cli import main

    code = main(["train", "--env", "llmgym/Nope-v0", "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "'llmgym/Nope-v0'" in err and "llmgym/TripBooking-v0" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("env_kwargs", [{"max_turnz": 6}, {"max_turns": 0}, ["max_turns"]])
def test_bad_env_kwargs_are_refused_before_any_model_loads(tmp_path, env_kwargs):
    """As SFT's config does: a misspelt or refused keyword argument, or a non-object, is named
    when the config is built, not at the first ``gym.make`` after the model has loaded."""
    with pytest.raises(ConfigError) as err:
        load_config(None, env_kwargs=env_kwargs, out=str(tmp_path / "run"))
    assert "env_kwargs" in str(err.value) and repr(env_kwargs) in str(err.value)
    assert not (tmp_path / "run").exists()


def test_none_on_an_optional_fields_flag_sets_none(tmp_path):
    """``--env-timeout-s none`` lifts the environment budget (None), where it used to fail
    to parse as a number; a required number still refuses it."""
    from llmgym.cli import build_parser
    from llmgym.trainers.grpo.cli import config_from_args

    out = str(tmp_path / "run")
    args = build_parser().parse_args(
        ["train", "--out", out, "--env-timeout-s", "none", "--episode-timeout-s", "900"]
    )
    config = config_from_args(args)
    assert config.env_timeout_s is None and config.episode_timeout_s == 900.0
    assert config_from_args(build_parser().parse_args(["train", "--out", out])).env_timeout_s == 600
    with pytest.raises(ConfigError, match="group_size"):
        config_from_args(build_parser().parse_args(["train", "--out", out, "--group-size", "none"]))


def test_a_difficulty_the_env_lacks_is_refused_before_any_model_loads(tmp_path):
    """It used to fail at the first reset, after the model had loaded."""
    with pytest.raises(ConfigError, match=r"env_options: got 'nightmare', expected one of"):
        load_config(None, env_options={"difficulty": "nightmare"}, out=str(tmp_path / "run"))
    assert load_config(None, env_options={"difficulty": "hard"}, out=str(tmp_path / "run"))


@pytest.mark.parametrize(
    ("engine", "options", "expected"),
    [
        ("hf", {"max_batch_sise": 4}, r"'max_batch_sise' \(did you mean 'max_batch_size'\?\)"),
        ("hf", {"seed": 3}, "'seed' comes from the seed field"),
        ("hf", {"max_model_len": 512}, "'max_model_len' comes from max_trajectory_tokens"),
        ("hf", {"num_threads": 1}, "'num_threads' comes from torch_threads"),
        ("vllm", {"logprobs_mode": "raw_logprobs"}, "'logprobs_mode' comes from the trainer"),
    ],
)
def test_bad_engine_options_are_refused_before_any_model_loads(tmp_path, engine, options, expected):
    """A misspelt engine argument, or one the run sets from its own field (where a second
    value would silently win or lose), is named when the config is built."""
    with pytest.raises(ConfigError, match=expected) as err:
        load_config(None, engine=engine, engine_options=options, out=str(tmp_path / "run"))
    assert "engine_options" in str(err.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("vllm") is None, reason="vllm not installed"
)
def test_vllm_engine_options_are_checked_against_vllms_own_arguments(tmp_path):
    with pytest.raises(ConfigError, match=r"did you mean 'gpu_memory_utilization'\?"):
        load_config(None, engine="vllm", engine_options={"gpu_memory_utilizaton": 0.5})
    config = load_config(
        None,
        engine="vllm",
        engine_options={"enforce_eager": False, "kv_cache_memory_bytes": 1 << 31},
    )
    assert config.engine_options["kv_cache_memory_bytes"] == 1 << 31
    with pytest.raises(ConfigError, match="'worker_extension_cls': the vLLM engine sets"):
        load_config(None, engine="vllm", engine_options={"worker_extension_cls": "x.Y"})
    from llmgym.engines.vllm_engine import VLLMEngine  # the engine checks before it starts

    with pytest.raises(ValueError, match=r"VLLMEngine: got 'max_num_seq' \(did you mean"):
        VLLMEngine(str(tmp_path), max_num_seq=4)


def test_engine_options_reach_the_engine(tiny_model_dir):
    from llmgym.trainers.grpo.run import make_engine

    config = load_config(None, engine="hf", engine_options={"max_batch_size": 3, "gather_s": 0.0})
    engine = make_engine(config, str(tiny_model_dir))
    assert (engine.max_batch_size, engine.gather_s) == (3, 0.0)
