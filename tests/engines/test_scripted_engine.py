"""The scripted-expert engine holds to the same engine protocol (it has no weights)."""

import gymnasium as gym

import llmgym  # noqa: F401
from llmgym.chat import ChatFormat
from llmgym.engines.scripted import ExpertEngine

ENV_ID = "llmgym/TripBooking-v0"


async def test_the_engine_protocol(tokenizer, engine_protocol):
    episodes = [({"task_id": "test-0000"}, 0)]
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=0, options={"task_id": "test-0000"})
    env.close()
    prompt = ChatFormat(tokenizer).prompt_ids(obs)
    await engine_protocol(ExpertEngine(ENV_ID, tokenizer, episodes), prompt=prompt)
