"""Every environment id llmgym knows, registered with Gymnasium in one place.

Entry points are strings, so registering imports nothing heavy: an environment's module is
imported by ``gym.make``. Third-party packages add their own ids through the ``llmgym.envs``
entry-point group (see CONTRIBUTING.md); ``import llmgym`` registers those too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import gymnasium as gym

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "llmgym.envs"


@dataclass(frozen=True)
class EnvEntry:
    """One registered environment: its id, its class as ``module:Class`` and a one-line summary."""

    id: str
    entry_point: str
    description: str
    kwargs: tuple[tuple[str, Any], ...] = ()


BUNDLED: tuple[EnvEntry, ...] = (
    EnvEntry(
        "llmgym/TripBooking-v0",
        "llmgym.environments.trip_booking.env:TripBookingEnv",
        "Travel agency back office: search, book, change and cancel flights and hotels.",
    ),
    EnvEntry(
        "llmgym/TicketClose-v0",
        "llmgym.environments.ticket_close.env:TicketCloseEnv",
        "Helpdesk: resolve tickets by policy with a knowledge base, accounts and a scripted customer.",
    ),
    EnvEntry(
        "llmgym/BugFix-v0",
        "llmgym.environments.bug_fix.env:BugFixEnv",
        "Repair real Python code: explore, edit, run tests; graded by hidden tests in a sandbox.",
    ),
)

_known: dict[str, EnvEntry] = {}


def register(entry: EnvEntry) -> None:
    """Register one environment with Gymnasium (idempotent) and remember its description."""
    if entry.id in _known and _known[entry.id] != entry:
        raise ValueError(
            f"environment id {entry.id!r} is registered twice with different entry points"
        )
    _known[entry.id] = entry
    if entry.id not in gym.registry:
        # Gymnasium's PassiveEnvChecker marks reset as checked before calling it, so after a
        # first reset that raises (as ours do on bad options) the next step dies on its own
        # bookkeeping (TypeError: cannot unpack None). ``llmgym check`` runs Gymnasium's full
        # ``check_env`` instead; ``gym.make(..., disable_env_checker=False)`` still adds it.
        gym.register(
            id=entry.id,
            entry_point=entry.entry_point,
            kwargs=dict(entry.kwargs),
            disable_env_checker=True,
        )


def register_all() -> None:
    """Register the bundled environments and those of installed third-party packages."""
    for entry in BUNDLED:
        register(entry)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            provided = ep.load()
            for item in provided() if callable(provided) else provided:
                register(item if isinstance(item, EnvEntry) else EnvEntry(**item))
        except Exception:  # a broken plugin must not break `import llmgym`
            log.exception(
                "could not load llmgym environments from entry point %r (%s)", ep.name, ep.value
            )


def registered() -> dict[str, EnvEntry]:
    """The environments llmgym registered, by id."""
    return dict(_known)


def env_id_problem(env_id: str) -> str | None:
    """Why ``env_id`` cannot be made (not registered with Gymnasium), naming llmgym's ids;
    None when it can. Configs call it to refuse a typo before any model loads."""
    if env_id in gym.registry:
        return None
    return f"got {env_id!r}, expected a registered id such as {', '.join(sorted(_known))}"


def difficulty_problem(env_id: str, difficulty: Any) -> str | None:
    """Why ``difficulty`` is not one of ``env_id``'s (a registered id), in the form of
    ``env_id_problem``; None when it is, or when it is None (any difficulty)."""
    if difficulty is None:
        return None
    with gym.make(env_id) as env:
        known = list(getattr(env.unwrapped, "difficulties", ()))
    if not known or difficulty in known:
        return None
    return f"got {difficulty!r}, expected one of {known}"


def env_kwargs_problem(env_id: str, env_kwargs: Any) -> str | None:
    """Why ``gym.make(env_id, **env_kwargs)`` fails (a registered ``env_id``), in the form of
    ``env_id_problem``; None when it builds. Configs call it before any model loads."""
    if not isinstance(env_kwargs, dict):
        return f"got {env_kwargs!r}, expected a JSON object of keyword arguments"
    if not env_kwargs:
        return None
    try:
        gym.make(env_id, **env_kwargs).close()
    except (TypeError, ValueError) as e:
        return f"got {env_kwargs!r}, expected keyword arguments {env_id} takes ({e})"
    return None
