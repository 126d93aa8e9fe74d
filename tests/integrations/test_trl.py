"""The TRL adapter: dataset rows, replay grading, rollout fields, and a real GRPOTrainer step."""

import importlib.metadata

import gymnasium as gym
import pytest

import llmgym  # noqa: F401  (registers the ids)
from llmgym import models
from llmgym.integrations.trl import (
    EpisodeRollout,
    ReplayReward,
    RolloutOptions,
    build_dataset,
    episode_reward,
    slow_precision,
    task_rows,
    trl_rollout_fields,
)

ENV_ID = "llmgym/TripBooking-v0"


@pytest.fixture(scope="module")
def tokenizer():
    try:
        importlib.metadata.distribution(models.GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"default tokenizer needs `{models.INSTALL_HINT}`")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(models.resolve_model("default"))
    tokenizer.padding_side = "left"  # TRL requires it
    return tokenizer


def expert_actions(task_id: str, seed: int) -> list[str]:
    """The scripted expert's actions for one task, played to the end."""
    actions = []
    with gym.make(ENV_ID) as env:
        env.reset(seed=seed, options={"task_id": task_id})
        done = False
        while not done:
            actions.append(env.unwrapped.expert_action())
            _, _, terminated, truncated, _ = env.step(actions[-1])
            done = terminated or truncated
    return actions


def test_rows_are_the_reset_observations_of_their_tasks():
    pytest.importorskip("datasets")
    dataset = build_dataset(ENV_ID, "test", num_tasks=3, seed=7)
    assert dataset.column_names == ["prompt", "env_id", "task_id", "seed"]
    with gym.make(ENV_ID) as env:
        assert dataset["task_id"] == env.unwrapped.task_ids("test")[:3]
        for row in dataset:
            obs, _ = env.reset(seed=row["seed"], options={"task_id": row["task_id"]})
            assert row["prompt"] == obs
    train = task_rows(ENV_ID, "train", num_tasks=2, options={"difficulty": "easy"})
    assert [r.seed for r in train] == [0, 1] and train[0].task_id != train[1].task_id
    with pytest.raises(ValueError, match="num_tasks"):
        task_rows(ENV_ID, "train")


def test_trl_bf16_default_is_flagged_only_where_bf16_is_emulated():
    from llmgym.engines.base import fast_dtype

    advice = slow_precision(True, "cpu")
    if fast_dtype("cpu") == "bfloat16":  # a CPU with bfloat16 instructions: nothing to fix
        assert advice is None
    else:
        assert advice is not None and "bf16=False" in advice
    assert slow_precision(False, "cpu") is None
    assert slow_precision(True, "cuda") is None


def test_replay_reward_grades_one_turn_with_the_verifier():
    task_id = "test-0000"
    all_at_once = "\n".join(expert_actions(task_id, 0))
    reward = ReplayReward(ENV_ID)
    assert reward.__name__.startswith("replay_reward")
    scores = reward(
        completions=[[{"role": "assistant", "content": all_at_once}], "I booked it, trust me."],
        task_id=[task_id, task_id],
        seed=[0, 0],
    )
    assert scores == [1.0, 0.0]


async def test_expert_episodes_become_trl_rollout_fields(tokenizer):
    from llmgym.engines.scripted import ExpertEngine
    from llmgym.rollout import EpisodeSpec, RolloutCollector

    episodes = [({"task_id": "test-0001"}, 3)]
    engine = ExpertEngine(ENV_ID, tokenizer, episodes)
    specs = [EpisodeSpec(ENV_ID, 3, {"task_id": "test-0001"})]
    (trajectory,) = await RolloutCollector(engine, tokenizer).collect(specs)
    fields = trl_rollout_fields([trajectory], pad_token_id=tokenizer.eos_token_id)
    assert trajectory.reward == 1.0 and trajectory.num_turns > 1
    prompt, completion = fields["prompt_ids"][0], fields["completion_ids"][0]
    assert prompt + completion == trajectory.tokens
    assert len(prompt) == trajectory.turns[0].completion_start
    mask = fields["env_mask"][0]
    assert len(mask) == len(completion) == len(fields["logprobs"][0])
    # Tool results sit between the turns with mask 0; every sampled token has mask 1.
    assert 0 in mask and sum(mask) == trajectory.num_sampled_tokens
    assert episode_reward(completions=[None], env_reward=fields["env_reward"]) == [1.0]
    with pytest.raises(ValueError, match="EpisodeRollout"):
        episode_reward(completions=[None])


@pytest.mark.slow
def test_grpo_trainer_step_plays_multi_turn_episodes(tokenizer, tmp_path):
    """One real TRL GRPOTrainer step on a tiny random Llama with the adapter's rollout."""
    pytest.importorskip("trl")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    dataset = build_dataset(ENV_ID, "train", num_tasks=2, options={"difficulty": "easy"})
    prompt_tokens = max(
        len(tokenizer.apply_chat_template(p, tokenize=True, return_dict=False))
        for p in dataset["prompt"]
    )
    rollout = EpisodeRollout(dataset, RolloutOptions(max_episode_tokens=prompt_tokens + 160))

    def letter_e(completions, **_):  # a reward that varies, so the step moves the weights
        return [float(c[-1]["content"].count("e")) for c in completions]

    config = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=16,
        max_steps=1,
        learning_rate=1e-2,
        beta=0.0,
        use_cpu=True,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[episode_reward, letter_e],
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        rollout_func=rollout,
    )
    trainer.train()

    episodes = rollout.last_trajectories
    assert len(episodes) == 4 and all(t.ok for t in episodes)
    assert sorted(t.task_id for t in episodes) == sorted(list(dataset["task_id"]) * 2)
    turns = [(t.num_turns, t.termination_reason) for t in episodes]
    assert all(n >= 2 for n, _ in turns), turns  # multi-turn: env replies came between turns
    logged = next(h for h in trainer.state.log_history if "completions/mean_length" in h)
    # TRL counts only env_mask=1 tokens: the sampled ones, not the env's replies.
    sampled = sum(t.num_sampled_tokens for t in episodes) / len(episodes)
    assert logged["completions/mean_length"] == pytest.approx(sampled)
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())
