"""``llmgym quickstart``: the main job (SFT, GRPO, held-out before/after with a p-value)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``llmgym quickstart``."""
    from llmgym.trainers.quickstart import GRPO_RECIPE, SFT_RECIPE

    p = subparsers.add_parser(
        "quickstart",
        help="the main job: SFT warm-start, GRPO, held-out success before/after with a p-value",
        description="Fine-tune the default model on scripted-expert episodes, train it with "
        "GRPO, and compare held-out success before and after on the same test tasks (exact "
        "McNemar test). Writes summary.json and quickstart.png to --out.",
    )
    p.add_argument(
        "--out", default="runs/quickstart",
        help="run folder; an interrupted run there continues where it stopped when run again "
        "with the same flags [runs/quickstart]",
    )  # fmt: skip
    p.add_argument(
        "--fresh", action="store_true",
        help="discard the run already in --out and start over [off]",
    )  # fmt: skip
    p.add_argument("--eval-tasks", type=int, default=40, help="held-out test tasks [40]")
    p.add_argument("--steps", type=int, default=None, help=f"GRPO steps [{GRPO_RECIPE['steps']}]")
    p.add_argument(
        "--sft-episodes", type=int, default=None,
        help=f"expert episodes of the warm-start [{SFT_RECIPE['episodes']}]",
    )  # fmt: skip
    p.add_argument("--sft", type=json.loads, default={}, help="more SFTConfig fields (JSON)")
    p.add_argument("--grpo", type=json.loads, default={}, help="more GRPOConfig fields (JSON)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from transformers.utils import logging as transformers_logging

    from llmgym.trainers.quickstart import (
        GRPO_RECIPE,
        SFT_RECIPE,
        QuickstartConfig,
        describe,
        run_quickstart,
    )

    transformers_logging.disable_progress_bar()  # one bar per phase is ours; not per file
    sft = {**SFT_RECIPE, **args.sft}
    grpo = {**GRPO_RECIPE, **args.grpo}
    if args.sft_episodes is not None:
        sft["episodes"] = args.sft_episodes
    if args.steps is not None:
        grpo["steps"] = args.steps
    config = QuickstartConfig(out=Path(args.out), eval_tasks=args.eval_tasks, sft=sft, grpo=grpo)
    try:
        summary = run_quickstart(config, fresh=args.fresh)
    except KeyboardInterrupt:
        print(f"\ninterrupted: run the same command again to continue the run in {config.out} "
              "(SFT and finished GRPO steps are kept)", file=sys.stderr)  # fmt: skip
        raise
    print(describe(summary))
    print(f"summary: {config.out / 'summary.json'}, plot: {config.out / 'quickstart.png'}")
    return 0
