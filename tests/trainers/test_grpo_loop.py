"""The GRPO loop end to end on a tiny Llama: it learns a toy reward, resumes exactly, runs async."""

import json

import pytest
import torch
from trainer_fixtures import TorchSampler, tiny_llama

from llmgym.engines.base import SamplingParams
from llmgym.trainers.grpo.config import GRPOConfig
from llmgym.trainers.grpo.loop import train
from llmgym.trainers.grpo.single_turn import PromptTask, collect_single_turn

TARGET = 7  # the toy task: say token 7 as often as possible


def reward(prompt, completion):
    return sum(t == TARGET for t in completion) / len(completion)


def make_collect(engine, config, num_tasks=3):
    g = torch.Generator().manual_seed(1)
    tasks = [PromptTask(f"p{i}", tuple(torch.randint(10, 64, (4,), generator=g).tolist()))
             for i in range(num_tasks)]  # fmt: skip
    params = SamplingParams(max_tokens=config.max_new_tokens, temperature=1.0)

    async def collect(step):
        return await collect_single_turn(
            engine, tasks, reward, group_size=config.group_size, params=params, step=step,
            seed=config.seed,
        )  # fmt: skip

    return collect


def config_for(tmp_path, **overrides):
    base = {
        "out": tmp_path, "steps": 12, "group_size": 6, "max_new_tokens": 5,
        "max_trajectory_tokens": 32, "learning_rate": 3e-2, "micro_batch_size": 9,
        "checkpoint_every": 0, "eval_every": 0, "train_dtype": "float32",
    }  # fmt: skip
    return GRPOConfig(**(base | overrides))


async def run(config, resume=False, model=None):
    model = model or tiny_llama()
    engine = TorchSampler(model)
    records = await train(config, model, engine, make_collect(engine, config), resume=resume)
    return model, engine, records


@pytest.mark.parametrize("staleness", [0, 1])
async def test_loop_raises_the_toy_reward_and_logs_everything(tmp_path, staleness):
    config = config_for(tmp_path, max_staleness=staleness)
    _, engine, records = await run(config)
    first = sum(r["reward_mean"] for r in records[:3]) / 3
    last = sum(r["reward_mean"] for r in records[-3:]) / 3
    assert last > first + 0.2, (first, last)
    assert engine.loads == config.steps  # weights pushed after every update
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 13))
    for key in ["reward_mean", "success", "advantage_abs_mean", "ratio_mean", "clip_high_frac",
                "kl", "entropy", "completion_tokens_mean", "gen_tokens_per_s", "gen_s",
                "train_s", "sync_s", "staleness_max"]:  # fmt: skip
        assert key in lines[-1], key
    # Async mode trains on trajectories one version old (except the very first batch).
    assert max(r["staleness_max"] for r in lines) == staleness
    assert (tmp_path / "reward_curve.png").stat().st_size > 1000


async def test_killed_and_resumed_run_matches_uninterrupted_run(tmp_path):
    straight_model, _, straight = await run(config_for(tmp_path / "a", steps=4))
    await run(config_for(tmp_path / "b", steps=2))  # "killed" after step 2 (checkpoint saved)
    resumed_model, _, rest = await run(config_for(tmp_path / "b", steps=4), resume=True)
    assert [r["step"] for r in rest] == [3, 4]
    for key in ["reward_mean", "loss", "grad_norm"]:
        assert [r[key] for r in rest] == [r[key] for r in straight[2:]], key
    for a, b in zip(straight_model.parameters(), resumed_model.parameters(), strict=True):
        assert torch.equal(a, b)


async def test_a_run_killed_past_its_checkpoint_resumes_without_duplicate_records(tmp_path):
    """Killed in step 4 with the checkpoint at step 2 and the record of step 3 written: the
    resumed run plays steps 3 and 4 again, and metrics.jsonl holds each step once, with the
    values of an uninterrupted run; the finished step-0 evaluation is kept, not redone."""
    evaluated = []

    async def evaluate(step):
        evaluated.append(step)
        return {"success": 0.5, "successes": [1, 0]}

    def config(out):
        return config_for(out, steps=4, checkpoint_every=2, eval_every=4)

    straight_model = tiny_llama()
    engine = TorchSampler(straight_model)
    await train(config(tmp_path / "a"), straight_model, engine,
                make_collect(engine, config(tmp_path / "a")), evaluate=evaluate)  # fmt: skip
    assert evaluated == [0, 4]

    class Killed(Exception):
        pass

    model = tiny_llama()
    engine = TorchSampler(model)
    collect = make_collect(engine, config(tmp_path / "b"))

    async def dies_in_step_4(step):
        if step == 3:
            raise Killed
        return await collect(step)

    evaluated.clear()
    with pytest.raises(Killed):
        await train(config(tmp_path / "b"), model, engine, dies_in_step_4, evaluate=evaluate)
    metrics = tmp_path / "b" / "metrics.jsonl"
    assert [json.loads(x)["step"] for x in metrics.read_text().splitlines()] == [0, 1, 2, 3]

    resumed = tiny_llama()
    engine = TorchSampler(resumed)
    rest = await train(config(tmp_path / "b"), resumed, engine,
                       make_collect(engine, config(tmp_path / "b")), evaluate=evaluate,
                       resume=True)  # fmt: skip
    assert [r["step"] for r in rest] == [3, 4]
    assert evaluated == [0, 4]  # step 0 in the killed run only; step 4 after resuming
    lines = [json.loads(x) for x in metrics.read_text().splitlines()]
    straight = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [0, 1, 2, 3, 4]
    for key in ["reward_mean", "loss", "grad_norm"]:
        assert [r.get(key) for r in lines] == [r.get(key) for r in straight], key
    for a, b in zip(straight_model.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("at_start", [True, False])
async def test_held_out_evaluation_at_start_and_every_k_steps(tmp_path, at_start):
    config = config_for(tmp_path, steps=4, eval_every=2, eval_at_start=at_start)
    model = tiny_llama()
    engine = TorchSampler(model)
    seen = []

    async def evaluate(step):
        seen.append((step, engine.loads))  # the weights the engine holds when it is evaluated
        return {"success": 0.5, "successes": [1, 0]}

    records = await train(config, model, engine, make_collect(engine, config), evaluate=evaluate)
    assert seen == ([(0, 0)] if at_start else []) + [(2, 2), (4, 4)]
    assert [r["step"] for r in records if "eval_success" in r] == [s for s, _ in seen]
    assert all(r["eval_s"] >= 0 for r in records if "eval_success" in r)


async def test_dynamic_sampling_draws_groups_until_enough_have_signal():
    """``fill_groups_with_signal`` (``resample_groups``): the missing number of groups is
    drawn until ``wanted`` have reward variance or the budget is spent; every episode played
    comes back, and the update's own filter then keeps exactly the groups with signal."""
    from trainer_fixtures import fake_trajectories

    from llmgym.trainers.grpo.advantages import group_advantages, group_ids_to_index
    from llmgym.trainers.grpo.run import fill_groups_with_signal, has_signal

    made = iter(range(100))

    def group(*rewards):
        name = f"g{next(made)}"
        return [t.model_copy(update={"reward": r, "group_id": name})
                for t, r in zip(fake_trajectories(len(rewards)), rewards, strict=True)]  # fmt: skip

    def drawer(*batches):
        calls, queue = [], list(batches)

        async def draw(n, drawn):
            calls.append((n, drawn))
            return [t for _ in range(n) for t in queue.pop(0)]

        return draw, calls

    first = group(0.0, 0.0) + group(1.0, 0.0)  # one of the two wanted groups has signal
    draw, calls = drawer(group(1.0, 1.0), group(0.0, 1.0))
    played = await fill_groups_with_signal(first, draw, wanted=2, budget=5)
    assert calls == [(1, 0), (1, 1)] and len(played) == 8
    rewards = torch.tensor([t.reward for t in played], dtype=torch.float64)
    keep = group_advantages(rewards, group_ids_to_index([t.group_id for t in played])).keep
    assert keep.tolist() == [False, False, True, True, False, False, True, True]

    draw, calls = drawer(group(1.0, 1.0), group(0.0, 1.0))
    assert len(await fill_groups_with_signal(first, draw, wanted=2, budget=1)) == 6
    assert calls == [(1, 0)]  # the budget caps the extra groups

    enough = group(1.0, 0.0) + group(0.5, 0.0)
    draw, calls = drawer()
    assert await fill_groups_with_signal(enough, draw, wanted=2, budget=5) == enough
    assert calls == [] and all(has_signal(enough[i : i + 2]) for i in (0, 2))
