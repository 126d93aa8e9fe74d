"""Observation and action spaces for chat environments."""

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
