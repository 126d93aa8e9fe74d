"""The pure action parser: Hermes/Qwen text tool calls and OpenAI message dicts."""

import json

import pytest

from llmgym.parsing import format_tool_call, parse_action


def test_single_text_call():
    parsed = parse_action(
        'Let me look. <tool_call>{"name": "search", "arguments": {"q": "x"}}</tool_call>'
    )
    assert parsed.is_valid
    assert [(c.name, c.arguments) for c in parsed.tool_calls] == [("search", {"q": "x"})]


def test_several_calls_in_one_turn_keep_order_and_ids():
    text = (
        format_tool_call("a", x=1) + "\n" + format_tool_call("b") + format_tool_call("c", y=[1, 2])
    )
    parsed = parse_action(text)
    assert [c.name for c in parsed.tool_calls] == ["a", "b", "c"]
    assert len({c.id for c in parsed.tool_calls}) == 3


def test_double_encoded_arguments_are_accepted():
    parsed = parse_action('<tool_call>{"name": "a", "arguments": "{\\"x\\": 1}"}</tool_call>')
    assert parsed.tool_calls[0].arguments == {"x": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<tool_call>{"name": "a", "arguments": {</tool_call>', "not valid JSON"),
        ('<tool_call>{"name": "a"}', "missing its closing"),
        ("<tool_call>[1]</tool_call>", "must be a JSON object"),
        ('<tool_call>{"arguments": {}}</tool_call>', 'no "name"'),
        ('<tool_call>{"name": "a", "arguments": [1]}</tool_call>', "must be an object"),
        ("<tool_call>" + "[" * 10000 + "]" * 10000 + "</tool_call>", "nested too deeply"),
    ],
)
def test_malformed_calls_become_errors_not_exceptions(text, expected):
    parsed = parse_action(text)
    assert not parsed.is_valid
    assert any(expected in e for e in parsed.errors), parsed.errors


def test_prose_only_has_no_calls_and_no_errors():
    parsed = parse_action("I booked everything for you, all done!")
    assert parsed.tool_calls == () and parsed.errors == ()
    assert not parsed.is_valid


def test_openai_message_dict():
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_9",
                "type": "function",
                "function": {"name": "a", "arguments": json.dumps({"x": 2})},
            },
            {"id": "call_10", "type": "function", "function": {"name": "b", "arguments": ""}},
        ],
    }
    parsed = parse_action(message)
    assert [(c.id, c.name, c.arguments) for c in parsed.tool_calls] == [
        ("call_9", "a", {"x": 2}),
        ("call_10", "b", {}),
    ]


def test_openai_dict_without_tool_calls_falls_back_to_text():
    parsed = parse_action({"role": "assistant", "content": format_tool_call("a")})
    assert parsed.tool_calls[0].name == "a"


@pytest.mark.parametrize(
    "action", [None, 3.5, ["x"], {"role": "assistant", "tool_calls": "x"}, {"content": 5}]
)
def test_wrong_types_never_raise(action):
    assert not parse_action(action).is_valid


def test_bytes_are_decoded():
    assert parse_action(format_tool_call("a").encode()).tool_calls[0].name == "a"
