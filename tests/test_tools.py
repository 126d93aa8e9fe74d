"""@tool schemas from signatures and docstrings, and strict argument validation."""

import copy
import pickle
from typing import Literal

import pytest

from llmgym.messages import ToolCall
from llmgym.tools import ToolArgumentError, Toolset, parse_docstring, tool, tool_spec


class Shop:
    def __init__(self):
        self.bought = []

    @tool
    def buy(
        self,
        item: str,
        quantity: int = 1,
        size: Literal["S", "M", "L"] = "M",
        note: str | None = None,
    ) -> dict:
        """Buy an item.

        Args:
            item: the item's name.
            quantity: how many, at least 1. A long description
                that wraps onto a second line.
            size: the size.
        """
        self.bought.append((item, quantity, size))
        return {"ok": True}

    @tool
    async def wait(self, seconds: float) -> str:
        """Wait a while.

        Args:
            seconds: how long.
        """
        return f"waited {seconds}"


def test_schema_from_signature_and_docstring():
    (buy, wait) = Toolset.from_objects(Shop()).schemas()
    fn = buy["function"]
    assert fn["name"] == "buy" and fn["description"] == "Buy an item."
    props = fn["parameters"]["properties"]
    assert fn["parameters"]["required"] == ["item"]
    assert props["quantity"] == {
        "type": "integer",
        "default": 1,
        "description": "how many, at least 1. A long description that wraps onto a second line.",
    }
    assert props["size"]["enum"] == ["S", "M", "L"]
    assert fn["parameters"]["additionalProperties"] is False
    assert wait["function"]["parameters"]["properties"]["seconds"]["type"] == "number"


def test_invoke_binds_to_the_object():
    shop = Shop()
    tools = Toolset.from_objects(shop)
    assert tools.invoke(ToolCall(name="buy", arguments={"item": "hat", "quantity": 2})) == {
        "ok": True
    }
    assert shop.bought == [("hat", 2, "M")]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "missing required argument 'item'"),
        ({"item": 3}, "item: Input should be a valid string"),
        ({"item": "x", "quantity": "2"}, "quantity"),
        ({"item": "x", "size": "XL"}, "size"),
        ({"item": "x", "colour": "red"}, "unexpected argument 'colour'"),
    ],
)
def test_bad_arguments_are_rejected_with_a_clear_message(arguments, expected):
    with pytest.raises(ToolArgumentError, match=expected):
        Toolset.from_objects(Shop()).validate(ToolCall(name="buy", arguments=arguments))


def test_unknown_tool_lists_the_available_ones():
    with pytest.raises(ToolArgumentError, match="Available tools: buy, wait"):
        Toolset.from_objects(Shop()).validate(ToolCall(name="steal"))


def test_a_tool_needs_a_docstring_and_type_hints():
    with pytest.raises(TypeError, match="needs a docstring"):

        @tool
        def nodoc(x: int) -> None:
            pass

    with pytest.raises(TypeError, match="needs a type hint"):

        @tool
        def nohint(x) -> None:
            """Doc."""


def test_duplicate_names_are_refused():
    class A:
        @tool
        def buy(self) -> None:
            """Other buy."""

    with pytest.raises(ValueError, match="two tools are named 'buy'"):
        Toolset.from_objects(Shop(), A())


def test_parse_docstring_sections():
    summary, params = parse_docstring(
        "Do it.\n\nMore words.\n\nArgs:\n    a (int): first.\n    b: second.\n\nReturns:\n    nothing."
    )
    assert summary == "Do it. More words."
    assert params == {"a": "first.", "b": "second."}


def test_specs_and_toolsets_pickle_and_deepcopy():
    # the argument models come from pydantic.create_model and are not importable by name:
    # a spec pickles as "the spec of this function", so pickling a toolset works
    spec = tool_spec(Shop.buy)
    assert pickle.loads(pickle.dumps(spec)) is spec
    assert copy.deepcopy(spec) is spec
    shop = Shop()
    toolset = pickle.loads(pickle.dumps(Toolset.from_objects(shop)))
    assert toolset.invoke(ToolCall(name="buy", arguments={"item": "hat"})) == {"ok": True}
    assert shop.bought == []  # the unpickled toolset is bound to its own copy of the shop


def test_bad_argument_messages_never_raise_on_huge_values():
    toolset = Toolset.from_objects(Shop())
    with pytest.raises(ToolArgumentError, match="quantity"):
        toolset.validate(ToolCall(name="buy", arguments={"item": "x", "quantity": "9" * 5000}))
    with pytest.raises(ToolArgumentError, match="item"):
        toolset.validate(ToolCall(name="buy", arguments={"item": 10**5000}))
