"""Token-faithful chat: environment messages tokenized as chat-template deltas.

An episode's token sequence is built by appending, never by re-rendering: the first prompt
is the template rendered over the reset messages, then each turn appends the exact tokens
the engine sampled, then the environment's new messages as the *delta* the template adds
for them. The delta is computed against a fixed dummy conversation, so it never depends on
how the template renders earlier turns (templates that rewrite history, BPE merges across
a re-rendered boundary): the sampled tokens stay exactly as sampled. The sequence itself
is kept by the collector (``episode_tokens.EpisodeTokens``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_SENTINEL = "LLMGYM-ASSISTANT-SENTINEL"
_DUMMY = [
    {"role": "system", "content": "LLMGYM-SYSTEM"},
    {"role": "user", "content": "LLMGYM-USER"},
    {"role": "assistant", "content": _SENTINEL},
]


class ChatFormat:
    """A tokenizer's chat template, used only for prompts and deltas.

    Args:
        tokenizer: a Hugging Face tokenizer with a chat template.
        tools: OpenAI-style tool schemas to render through the template (``info["tools"]``);
            leave ``None`` when the environment describes tools in its system prompt.
        chat_template: a Jinja template overriding the tokenizer's.
    """

    def __init__(
        self,
        tokenizer: Any,
        tools: list[dict[str, Any]] | None = None,
        chat_template: str | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.tools = tools
        self.chat_template = chat_template
        eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        self.eos_token_ids = tuple(eos)
        self.eos_text = tokenizer.eos_token or ""
        before = self.render(_DUMMY, add_generation_prompt=False)
        if _SENTINEL not in before:
            raise ValueError("the chat template dropped the assistant's content; cannot use it")
        # What the template writes after an assistant's content (e.g. "<|im_end|>\n").
        self.assistant_closing = before[before.rindex(_SENTINEL) + len(_SENTINEL) :]
        self._dummy_text = before
        self._prompt_cache: dict[str, tuple[int, ...]] = {}

    def with_tools(self, tools: list[dict[str, Any]] | None) -> ChatFormat:
        return ChatFormat(self.tokenizer, tools, self.chat_template)

    def render(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(
            list(messages),
            tools=self.tools,
            chat_template=self.chat_template,
            add_generation_prompt=add_generation_prompt,
            tokenize=False,
        )

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_ids(self, messages: Sequence[dict[str, Any]]) -> list[int]:
        """Token ids of the first prompt: the reset messages and the generation prompt.

        Cached by rendered text: a GRPO group (and every episode of an env, for the long
        system prompt) starts from the same prompt, and tokenizing it is the collector's
        largest CPU cost per episode.
        """
        text = self.render(messages, add_generation_prompt=True)
        ids = self._prompt_cache.get(text)
        if ids is None:
            if len(self._prompt_cache) >= 1024:
                self._prompt_cache.pop(next(iter(self._prompt_cache)))
            ids = self._prompt_cache[text] = tuple(self.encode(text))
        return list(ids)

    def delta_ids(self, messages: Sequence[dict[str, Any]], *, after_eos: bool) -> list[int]:
        """Tokens to append after a sampled assistant turn to add ``messages`` and a new
        generation prompt.

        Args:
            messages: the environment's new messages (tool results, user messages).
            after_eos: the sampled turn ended with the eos token, which is then not repeated;
                otherwise (truncated turn) the template's closing of the turn is added too.
        """
        after = self.render([*_DUMMY, *messages], add_generation_prompt=True)
        if not after.startswith(self._dummy_text):
            raise ValueError(
                "the chat template renders earlier messages differently once more follow; "
                "cannot append deltas with it"
            )
        closing = self.assistant_closing
        if after_eos and self.eos_text and closing.startswith(self.eos_text):
            closing = closing[len(self.eos_text) :]
        return self.encode(closing + after[len(self._dummy_text) :])

    def completion_text(self, token_ids: Sequence[int]) -> str:
        """The assistant's turn as text for the environment (a final eos removed)."""
        ids = list(token_ids)
        if ids and ids[-1] in self.eos_token_ids:
            ids = ids[:-1]
        return self.tokenizer.decode(ids, skip_special_tokens=False)
