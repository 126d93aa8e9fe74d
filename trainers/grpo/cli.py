"""``llmgym train``: GRPO on a bundled environment, from a YAML config and/or flags.

Every ``GRPOConfig`` field is also a flag (``--group-size 8``, ``--no-filter-zero-variance``),
documented by the field's docstring; flags override the YAML file. What a run builds
(model, engine, collector, evaluator) and how it trains is ``llmgym.trainers.grpo.run``,
the one composition root, which benches and scripts call too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import types
import typing
from typing import Any

logger = logging.getLogger(__name__)

ALIASES = {"env_id": ["--env"]}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``llmgym train`` with one flag per config field."""
    from llmgym.trainers.grpo.config import GRPOConfig

    p = subparsers.add_parser(
        "train",
        help="train an agent with GRPO (metrics, checkpoints, reward curve in --out)",
        description="Every option can also be set in the --config YAML file (flags win).",
    )
    p.add_argument("--config", default=None, help="YAML file of GRPOConfig fields")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    for name, field in GRPOConfig.model_fields.items():
        flags = [*ALIASES.get(name, []), "--" + name.replace("_", "-")]
        doc = (field.description or "").strip().replace("%", "%%")
        if _is_bool(field.annotation):
            p.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, help=doc)
        elif _is_dict(field.annotation):
            p.add_argument(*flags, dest=name, type=json.loads, help=doc + " (JSON)")
        else:
            none = "; 'none' for None" if type(None) in typing.get_args(field.annotation) else ""
            p.add_argument(*flags, dest=name, default=None, help=f"{doc} [{field.default}{none}]")
    p.set_defaults(func=run)
    return p


def _is_bool(annotation: Any) -> bool:
    return annotation is bool or bool in typing.get_args(annotation)


def _is_dict(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin is dict or (isinstance(annotation, types.GenericAlias) and origin is dict)


def config_from_args(args: argparse.Namespace) -> Any:
    """The ``GRPOConfig`` of ``--config`` and the flags (flags win)."""
    from llmgym.trainers.grpo.config import GRPOConfig, load_config, validate_config

    overrides = {name: getattr(args, name, None) for name in GRPOConfig.model_fields}
    # "none" on an optional field's flag sets None (an absent flag is None too, so it is
    # applied after the file and the other flags)
    nulls = {name for name, value in overrides.items() if isinstance(value, str) and value.lower() in ("none", "null")
             and type(None) in typing.get_args(GRPOConfig.model_fields[name].annotation)}  # fmt: skip
    config = load_config(args.config, **{k: v for k, v in overrides.items() if k not in nulls})
    if nulls:
        config = validate_config(config.model_dump() | dict.fromkeys(nulls), source="flags")
    return config


def run(args: argparse.Namespace) -> int:
    """Build config, model, engine and collector; train; print where the results are."""
    from llmgym.trainers.grpo.run import train_on_env

    config = config_from_args(args)
    records = asyncio.run(train_on_env(config, resume=args.resume, progress=True))
    trained = [r for r in records if r.get("step", 0) > 0]  # step 0 is the baseline evaluation
    last = trained[-1] if trained else {}
    evals = [(r["step"], r["eval_success"]) for r in records if "eval_success" in r]
    scores = " -> ".join(f"{v:.3f} (step {s})" for s, v in evals)  # step 0: the start
    held_out = f"held-out success {scores}; " if evals else ""
    print(
        f"trained {len(trained)} steps; last reward {last.get('reward_mean', float('nan')):.3f}; "
        f"{held_out}"
        f"metrics: {config.out / 'metrics.jsonl'}, curve: {config.out / 'reward_curve.png'}"
    )
    return 0
