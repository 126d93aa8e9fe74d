"""Observation and action spaces for chat environments."""

import copy

import pytest
from gymnasium.vector.utils import (
    batch_space,
    create_empty_array,
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)
from gymnasium.wrappers.utils import create_zero_array

from llmgym.spaces import AssistantAction, ChatMessages


def test_chat_messages_accepts_prose_and_rejects_bad_structure():
    space = ChatMessages()
    assert space.contains([{"role": "user", "content": "Any prose, ünïcode and <tags> are fine!"}])
    assert not space.contains([{"role": "wizard", "content": "x"}])
    assert not space.contains([{"role": "user", "content": 5}])
    assert not space.contains({"role": "user", "content": "x"})
    assert not space.contains([{"role": "user", "content": "x", "extra": 1}])


def test_samples_are_members_and_seeded():
    space = ChatMessages(seed=3)
    assert space.contains(space.sample())
    a, b = AssistantAction(("submit",), seed=1), AssistantAction(("submit",), seed=1)
    assert [a.sample() for _ in range(5)] == [b.sample() for _ in range(5)]
    assert (
        a.contains("text")
        and a.contains({"role": "assistant", "content": ""})
        and not a.contains(5)
    )


def test_chat_messages_round_trip_through_shared_memory():
    space = ChatMessages(shared_memory_bytes=4096)
    memory = create_shared_memory(space, n=2)
    view = read_from_shared_memory(space, memory, n=2)  # read once, as AsyncVectorEnv does
    assert list(view) == [[], []]
    first = [{"role": "user", "content": "héllo \ud800 ✓"}]  # non-ASCII and a lone surrogate
    second = [{"role": "tool", "content": "x", "tool_call_id": "c", "name": "t"}]
    write_to_shared_memory(space, 0, first, memory)
    write_to_shared_memory(space, 1, second, memory)
    assert view[0] == first and view[1] == second and view[-1] == second  # a live view
    write_to_shared_memory(space, 0, second, memory)
    assert copy.deepcopy(view) == (second, second)  # what copy=True hands out: a tuple
    with pytest.raises(ValueError, match="shared_memory_bytes"):
        write_to_shared_memory(space, 0, [{"role": "user", "content": "y" * 5000}], memory)


def test_chat_messages_empty_and_zero_arrays_are_in_the_space():
    space = ChatMessages()
    assert create_zero_array(space) in space
    assert all(item in space for item in create_empty_array(space, n=3))
    batched = batch_space(space, n=2)
    assert all(sample in space for sample in batched.sample())
