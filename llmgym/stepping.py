"""Async reset/step through a Gymnasium wrapper stack.

``gym.make`` wraps an env (``OrderEnforcing``; ``TimeLimit`` with ``max_episode_steps``; and
whatever a user adds), and the wrappers' ``step`` is synchronous. An ``LLMEnv`` steps natively
with ``astep`` (a tool call may await a sandbox). ``astep`` here awaits the innermost env's
``astep`` and then runs the wrapper stack's own ``step`` on that result: each wrapper sees the
call as usual (``TimeLimit`` counts it and truncates, ``OrderEnforcing`` checks the order,
statistics wrappers record it) while the env's work ran on the event loop. ``areset`` does the
same for ``reset``. So the collector, the scripted-expert engine and a plain ``env.step``
give the same transitions for the same wrapped env.

A wrapper that changes the action (a ``gym.ActionWrapper``) or steps the env more than once
per call cannot be run this way, since the env already stepped on the action as given:
``check_stack`` refuses it with a clear error (play such envs with ``env_in_thread=True``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def check_stack(env: gym.Env[Any, Any]) -> None:
    """Raise ``TypeError`` when a wrapper of ``env`` transforms actions."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.ActionWrapper):
            raise TypeError(
                f"{type(layer).__name__} changes the action before the env sees it, so the "
                "env cannot be stepped asynchronously through it; play it with "
                "RolloutConfig(env_in_thread=True)"
            )
        layer = layer.env


async def areset(env: gym.Env[Any, Any], **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    """``env.reset(**kwargs)``, the innermost env's part awaited (see the module docstring)."""
    check_stack(env)
    result = await env.unwrapped.areset(**kwargs)  # type: ignore[attr-defined]
    return _through(env, "reset", result, None)


async def astep(
    env: gym.Env[Any, Any], action: Any
) -> tuple[Any, float, bool, bool, dict[str, Any]]:
    """``env.step(action)``, the innermost env's part awaited (see the module docstring)."""
    check_stack(env)
    result = await env.unwrapped.astep(action)  # type: ignore[attr-defined]
    return _through(env, "step", result, action)


def _through(env: gym.Env[Any, Any], method: str, result: Any, action: Any) -> Any:
    """Run ``env``'s wrappers' ``method`` with the innermost env answering ``result``."""
    inner = env.unwrapped
    if env is inner:
        return result
    answered: list[bool] = []

    def answer(*args: Any, **kwargs: Any) -> Any:
        if answered:
            raise RuntimeError(
                f"a wrapper of {inner} called {method}() twice in one call; it cannot be run "
                "asynchronously: play it with RolloutConfig(env_in_thread=True)"
            )
        if method == "step" and args and args[0] is not action:
            raise RuntimeError(f"a wrapper of {inner} changed the action it was given")
        answered.append(True)
        return result

    setattr(inner, method, answer)  # the instance attribute shadows the class's method
    try:
        out = getattr(env, method)(action) if method == "step" else env.reset()
    finally:
        delattr(inner, method)
    return out
