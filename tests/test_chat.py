"""Chat-template deltas: the incrementally built token sequence equals the full rendering.

Each test plays real TripBooking episodes with the scripted expert. The "sampled" turns are
the canonical tokenization of the expert's text plus eos, so the whole conversation
rendered at once must tokenize to exactly the sequence built by appending deltas, at every
turn (the prefix invariant), for SmolLM2's template and for a Qwen-style template that
renders tools and groups tool responses.
"""

import importlib.metadata
from pathlib import Path

import gymnasium as gym
import pytest

import llmgym  # noqa: F401  (registers the environments)
from llmgym import models
from llmgym.chat import ChatFormat
from llmgym.engines.base import Completion
from llmgym.episode_tokens import EpisodeTokens

QWEN_TEMPLATE = (Path(__file__).parent / "fixtures" / "qwen_style_chat_template.jinja").read_text()


@pytest.fixture(scope="module")
def smollm_tokenizer():
    try:
        importlib.metadata.distribution(models.GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"default model needs `{models.INSTALL_HINT}`")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(models.resolve_model("default"))


@pytest.fixture(scope="module")
def qwen_style_tokenizer(smollm_tokenizer, tmp_path_factory):
    """SmolLM2's vocabulary with Qwen's tool tokens added and a Qwen-style template."""
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("qwen_style_tokenizer")
    smollm_tokenizer.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.add_tokens(["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"])
    tokenizer.chat_template = QWEN_TEMPLATE
    return tokenizer


def sampled(chat: ChatFormat, text: str, *, eos: bool = True) -> Completion:
    ids = chat.encode(text) + (list(chat.eos_token_ids) if eos else [])
    return Completion(tuple(ids), tuple(-0.5 for _ in ids), "stop" if eos else "length")


def play_and_check(chat: ChatFormat, task_index: int, multi_call: bool = False) -> int:
    """Play one expert episode, checking the prefix invariant after every step."""
    env = gym.make("llmgym/TripBooking-v0")
    task_id = env.unwrapped.task_ids("test")[task_index]
    obs, info = env.reset(seed=task_index, options={"task_id": task_id})
    if chat.tools is not None:
        chat = chat.with_tools(info["tools"])
    messages = list(obs)
    episode = EpisodeTokens()
    episode.append_context(chat.prompt_ids(messages))
    done, turns = False, 0
    while not done:
        action = env.unwrapped.expert_action()
        if multi_call and turns == 0:
            action = action + "\n" + action  # two calls: two tool messages in one delta
        completion = sampled(chat, action)
        episode.append_completion(completion)
        messages.append(
            {"role": "assistant", "content": chat.completion_text(completion.token_ids)}
        )
        obs, _, terminated, truncated, _ = env.step(messages[-1]["content"])
        done, turns = terminated or truncated, turns + 1
        messages.extend(obs)
        episode.append_context(chat.delta_ids(obs, after_eos=True))
        full = chat.encode(chat.render(messages, add_generation_prompt=True))
        assert episode.tokens == full, f"prefix invariant broken after turn {turns}"
    env.close()
    assert sum(episode.loss_mask) == sum(
        t.completion_end - t.completion_start for t in episode.turns
    )
    return turns


@pytest.mark.parametrize("task_index", [0, 1, 2])
def test_prefix_invariant_smollm2_template(smollm_tokenizer, task_index):
    chat = ChatFormat(smollm_tokenizer)
    assert chat.assistant_closing == "<|im_end|>\n"
    assert play_and_check(chat, task_index, multi_call=task_index == 1) >= 2


@pytest.mark.parametrize("task_index", [0, 1, 2])
def test_prefix_invariant_qwen_style_template_with_tools(qwen_style_tokenizer, task_index):
    chat = ChatFormat(qwen_style_tokenizer, tools=[])
    assert play_and_check(chat, task_index, multi_call=True) >= 2


def test_qwen_style_delta_groups_tool_responses(qwen_style_tokenizer):
    chat = ChatFormat(qwen_style_tokenizer)
    results = [
        {"role": "tool", "content": "a", "tool_call_id": "call_0", "name": "x"},
        {"role": "tool", "content": "b", "tool_call_id": "call_1", "name": "y"},
    ]
    delta = qwen_style_tokenizer.decode(chat.delta_ids(results, after_eos=True))
    assert delta == (
        "\n<|im_start|>user\n<tool_response>\na\n</tool_response>\n<tool_response>\nb\n"
        "</tool_response><|im_end|>\n<|im_start|>assistant\n"
    )


def test_truncated_turn_gets_the_template_closing(smollm_tokenizer):
    chat = ChatFormat(smollm_tokenizer)
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    episode = EpisodeTokens()
    episode.append_context(chat.prompt_ids(messages))
    episode.append_completion(sampled(chat, "partial answer", eos=False))
    reply = [{"role": "user", "content": "go on"}]
    episode.append_context(chat.delta_ids(reply, after_eos=False))
    messages += [{"role": "assistant", "content": "partial answer"}, *reply]
    assert episode.tokens == chat.encode(chat.render(messages, add_generation_prompt=True))
    assert episode.turns[0].finish_reason == "length"


def test_completion_text_drops_only_the_final_eos(smollm_tokenizer):
    chat = ChatFormat(smollm_tokenizer)
    ids = chat.encode("<tool_call>{}</tool_call>") + list(chat.eos_token_ids)
    assert chat.completion_text(ids) == "<tool_call>{}</tool_call>"
