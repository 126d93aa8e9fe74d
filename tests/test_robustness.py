"""Malformed actions never raise: every string and every message dict, on every bundled env.

Python's JSON decoder raises ``ValueError`` on an integer literal over 4,300 digits and
``RecursionError`` on deep nesting; ``str()`` of a huge int raises too. These tests play the
named examples and then arbitrary text and arbitrary message dicts (any type in any field,
nested strings, huge numbers, NaN, non-str keys, surrogates) through ``env.step`` and check
that each step answers with observations in the space, plain-JSON transcripts and
``info["invalid_action"]`` when the turn was unusable.
"""

from __future__ import annotations

import json
import math

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import llmgym  # noqa: F401
from llmgym.parsing import MAX_JSON_DEPTH, action_size, json_depth, parse_action, plain_json
from llmgym.tools import format_result

CHEAP = ["llmgym/TicketClose-v0", "llmgym/TripBooking-v0"]
BUG_FIX = "llmgym/BugFix-v0"
ALL = [*CHEAP, BUG_FIX]
# tools that start sandboxed processes or grade: too slow for property tests
SLOW_TOOLS = {"run", "run_tests", "submit"}

HUGE_INT_TEXT = '<tool_call>{"name": "%s", "arguments": {"path": ' + "9" * 5000 + "}}</tool_call>"
DEEP = "[" * 3000 + "]" * 3000
DOUBLE_ENCODED_DEEP = '<tool_call>{"name": "%s", "arguments": ' + json.dumps(DEEP) + "}</tool_call>"


@pytest.fixture(scope="module", params=ALL)
def env_id(request):
    return request.param


@pytest.fixture(scope="module")
def made(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    yield env
    env.close()


def tool_names(env) -> list[str]:
    return [n for n in env.unwrapped.toolset.names if n not in SLOW_TOOLS]


def play(env, action):
    """Reset, step ``action``, check the step's answer is well formed; return it."""
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    assert obs in env.observation_space, obs
    assert isinstance(info["invalid_action"], bool)
    assert isinstance(reward, float) and 0.0 <= reward <= 1.0
    assert isinstance(terminated, bool) and isinstance(truncated, bool)
    # observations and transcript are plain JSON data, writable as UTF-8 (no lone surrogates)
    json.dumps(obs, allow_nan=False, ensure_ascii=False).encode("utf-8")
    json.dumps(env.unwrapped.transcript, allow_nan=False, ensure_ascii=False).encode("utf-8")
    return obs, info


# --- the two named examples --------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "<tool_call>{}</tool_call>".join(["", *["<tool_call>{\"name\": \"%s\"}</tool_call>"] * 99]),
        "<tool_call>{oops</tool_call>" * 200,  # 200 malformed calls: 200 errors
        "<tool_call>{\"name\": \"submit\"}</tool_call>" + "<tool_call>{\"name\": \"%s\"}</tool_call>" * 80,
    ],
    ids=["99 calls", "200 malformed calls", "80 calls after submit"],
)  # fmt: skip
def test_a_turn_of_many_calls_stays_inside_the_observation_space(made, action):
    """One message per call skipped or ignored, and per parse error, put the observation of a
    turn with more than 64 calls outside ``observation_space`` in the code before this test."""
    name = tool_names(made)[0]
    obs, info = play(made, action.replace("%s", name))
    assert len(obs) <= made.unwrapped.max_tool_calls + 3
    assert info["invalid_action"] or info.get("termination_reason") == "submitted"


class _ItemsRaise(dict):
    def items(self):
        raise RuntimeError("hostile items()")


class _LenRaises(str):
    def __len__(self):
        raise RuntimeError("hostile __len__")


class _ReplaceLies(str):
    def replace(self, *args):
        return 42


@pytest.mark.parametrize(
    "action",
    [_ItemsRaise(content="x"), _LenRaises("<tool_call>{}</tool_call>"), _ReplaceLies("a\x00b")],
    ids=["dict whose items() raises", "str whose __len__ raises", "str whose replace lies"],
)
def test_hostile_subclasses_of_str_and_dict_are_answered_not_raised(made, action):
    obs, info = play(made, action)
    assert info["invalid_action"]


def test_a_5000_digit_integer_in_the_arguments_is_an_invalid_action(made):
    name = tool_names(made)[0]
    obs, info = play(made, HUGE_INT_TEXT % name)
    assert info["invalid_action"] and "out of range" in obs[0]["content"]
    message = {"role": "assistant", "content": None,
               "tool_calls": [{"function": {"name": name, "arguments": {"path": 10**5000}}}]}  # fmt: skip
    obs, info = play(made, message)
    assert info["invalid_action"] and "out of range" in obs[0]["content"]


def test_3000_deep_double_encoded_arguments_are_an_invalid_action(made):
    name = tool_names(made)[0]
    obs, info = play(made, DOUBLE_ENCODED_DEEP % name)
    assert info["invalid_action"] and "nested too deeply" in obs[0]["content"]
    message = {"role": "assistant", "content": "",
               "tool_calls": [{"id": "c1", "function": {"name": name, "arguments": DEEP}}]}  # fmt: skip
    obs, info = play(made, message)
    assert info["invalid_action"] and "nested too deeply" in obs[0]["content"]


def test_odd_values_in_a_message_dict_are_answered_not_raised(made):
    name = tool_names(made)[0]
    nested: list = []
    for _ in range(5000):  # a Python structure deeper than the recursion limit
        nested = [nested]
    looped: dict = {}
    looped["self"] = looped
    for arguments in [
        {"x": float("nan")},
        {"x": math.inf},
        {1: "non-str key"},
        {"x": nested},
        looped,
        {"x": object()},
        '{"x": NaN}',
        '{"x": 1e999}',
    ]:
        message = {"role": "assistant", "tool_calls": [{"function": {"name": name, "arguments": arguments}}]}  # fmt: skip
        obs, info = play(made, message)
        assert info["invalid_action"], (arguments, obs)
    for message in [
        {"role": "assistant", "content": 10**5000},
        {"role": "assistant", "content": "hi", "tool_calls": 10**5000},
        {"role": "assistant", "content": nested},
        {"role": "assistant", "tool_calls": [10**5000, None, {"function": nested}]},
        {None: 1, 2: 3},
        looped,
    ]:
        _, info = play(made, message)
        assert info["invalid_action"]


# --- properties over arbitrary actions -----------------------------------------------------

any_char_text = st.text(st.characters(exclude_categories=()), max_size=200)  # surrogates too
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)  # fmt: skip
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
weird_leaf = (
    json_leaf
    | any_char_text
    | st.floats()  # NaN and infinities
    | st.integers(4300, 6000).map(lambda n: (-1) ** n * 10**n)  # mapped: repr would raise
    | st.sampled_from([2**64, b"\xff", object(), (), frozenset()])
    | st.integers(1, 6000).map(lambda n: "[" * n + "]" * n)
    | st.integers(4000, 6000).map(lambda n: "1" * n)
)
weird_keys = st.text(max_size=6) | st.integers() | st.none() | st.booleans() | st.floats()
weird_values = st.recursive(
    weird_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(weird_keys, inner, max_size=3),
    max_leaves=10,
)  # fmt: skip


def argument_texts() -> st.SearchStrategy[str]:
    """What a model may put in ``arguments`` as a string: JSON, near-JSON, junk, huge, deep."""
    return st.one_of(
        json_values.map(json.dumps),
        any_char_text,
        st.integers(1, 6000).map(lambda n: "[" * n + "]" * n),
        st.integers(1, 6000).map(lambda n: '{"a": ' * n + "1" + "}" * n),
        st.integers(90, 6000).map(lambda n: '{"path": ' + "7" * n + "}"),
        st.sampled_from(['{"x": NaN}', '{"x": -Infinity}', '{"x": 1e999}', '{"x": 1', "null", "[]"]),
    )  # fmt: skip


def text_actions(names: list[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(names) | any_char_text
    payload = st.one_of(
        st.builds(lambda n, a: json.dumps({"name": n, "arguments": a}), name, json_values),
        st.builds(lambda n, a: json.dumps({"name": n, "arguments": a}), name, argument_texts()),
        argument_texts(),
        any_char_text,
    )
    call = st.builds(lambda p, close: f"<tool_call>{p}" + ("</tool_call>" if close else ""),
                     payload, st.booleans())  # fmt: skip
    return st.one_of(
        any_char_text,
        st.lists(st.one_of(call, any_char_text), min_size=1, max_size=4).map("".join),
    )


def message_actions(names: list[str]) -> st.SearchStrategy[dict]:
    name = st.sampled_from(names) | weird_values
    function = st.fixed_dictionaries(
        {}, optional={"name": name, "arguments": json_values | argument_texts() | weird_values}
    )
    call = st.fixed_dictionaries(
        {}, optional={"id": any_char_text | weird_values, "type": weird_values,
                      "function": function | weird_values},
    )  # fmt: skip
    message = st.fixed_dictionaries(
        {"role": st.just("assistant")},
        optional={"content": st.none() | any_char_text | text_actions(names) | weird_values,
                  "tool_calls": st.lists(call | weird_values, max_size=3) | weird_values},
    )  # fmt: skip
    return message | st.dictionaries(weird_keys, weird_values, max_size=4)


def actions(names: list[str]) -> st.SearchStrategy:
    return text_actions(names) | message_actions(names) | weird_values


def prop(max_examples: int) -> settings:
    """Deterministic settings (same examples on every run) for slow-ish property tests."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip


@pytest.mark.parametrize("env_id", CHEAP)
def test_no_action_makes_step_raise(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)

    @prop(150)
    @given(action=actions(tool_names(env)))
    def check(action):
        play(env, action)

    check()
    env.close()


def test_no_action_makes_bug_fix_step_raise():
    # each BugFix reset writes a project; few examples through step, many through parsing below
    env = gym.make(BUG_FIX)
    env.reset(seed=0)

    @prop(20)
    @given(action=actions(tool_names(env)))
    def check(action):
        play(env, action)

    check()
    env.close()


@prop(400)
@given(action=actions(["read_file", "search_flights", "get_ticket", "submit"]))
def test_parse_action_never_raises_and_keeps_plain_json(action):
    parsed = parse_action(action) if action_size(action, 16_000) is not None else None
    if parsed is None:
        return
    assert all(isinstance(e, str) and e.encode("utf-8") for e in parsed.errors)
    for call in parsed.tool_calls:  # what a tool may receive is plain, bounded JSON
        assert plain_json(call.arguments) == call.arguments
        json.dumps(call.arguments, allow_nan=False)
    json.dumps(
        parsed.to_message(with_tool_calls=True), allow_nan=False, ensure_ascii=False
    ).encode()


@prop(200)
@given(value=weird_values)
def test_action_size_is_total_and_bounded(value):
    size = action_size(value, 1000)
    assert size is None or 0 <= size <= 1000


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth('{"a": "[[[[{{{{", "b": [[1]]}') == 3
    assert json_depth('"\\"[[["') == 0
    assert json_depth(DEEP) == 3000 > MAX_JSON_DEPTH


def test_format_result_never_raises():
    looped: list = []
    looped.append(looped)
    nested: list = []
    for _ in range(5000):
        nested = [nested]

    class Hostile:
        def __str__(self):
            raise RuntimeError("no")

    for value in [looped, nested, {"x": 10**5000}, {"h": Hostile()}, {1: 2}]:
        assert isinstance(format_result(value), str)
