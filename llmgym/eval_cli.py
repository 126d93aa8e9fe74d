"""``llmgym eval``: play episodes of any registered env with an engine and score them.

Plays ``--episodes`` tasks (``--samples`` episodes each, same task and seed) through the
rollout collector, writes every trajectory to ``--out`` (JSONL) and prints the success
rate, pass@k, mean turns, invalid-action rate and generated tokens per second
(``llmgym.eval.summarize``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from typing import Any

from llmgym.cli import DefaultsHelp
from llmgym.eval import EvalSummary, summarize
from llmgym.trajectory import iter_jsonl, write_jsonl

logger = logging.getLogger(__name__)

ENGINES = ("auto", "vllm", "hf", "openai", "expert")


EVAL_SETS = {
    "model": "--model",
    "max_model_len": "--max-context",
    "num_threads": "--threads",
    "tokenizer": "--tokenizer",
    "seed": "the engine's fixed seed (each request's sampling seed comes from --seed)",
}
"""Engine arguments ``llmgym eval`` sets from its own flags (--engine-options must not)."""


def json_object(text: str) -> dict[str, Any]:
    """argparse type: a JSON object (``'{"enforce_eager": true}'``)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a JSON object ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"got {text!r}, expected a JSON object like '{{\"key\": 1}}'"
        )
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``llmgym eval``."""
    p = subparsers.add_parser(
        "eval", help="play episodes with a model and score them",
        formatter_class=DefaultsHelp,
        description="Play --episodes tasks and score them. The cost is bounded: at most "
        "--episodes x --samples episodes, each at most --max-context tokens (prompt, tool "
        "results and at most --max-tokens new tokens a turn), with at most --env-timeout "
        "seconds in the environment; --timeout also bounds each episode's wall time.",
    )  # fmt: skip
    p.add_argument("env_id", help="registered environment id, e.g. llmgym/TripBooking-v0")
    p.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="generation engine; auto: vLLM when installed, else transformers",
    )  # fmt: skip
    p.add_argument(
        "--model", default=None, help="model folder or hub id (default: bundled SmolLM2-135M); "
        "with --engine openai, the served model name (default: the server's first)",
    )  # fmt: skip
    p.add_argument("--tokenizer", default=None, help="tokenizer folder (default: --model's)")
    p.add_argument(
        "--base-url", action="append", default=None,
        help="OpenAI-compatible server root (repeat to load-balance); default http://127.0.0.1:8000",
    )  # fmt: skip
    p.add_argument("--episodes", type=int, default=20, help="tasks to play")
    p.add_argument("--samples", type=int, default=1, help="episodes per task (for pass@k)")
    p.add_argument("--split", choices=["train", "test"], default="test", help="task split")
    p.add_argument("--difficulty", default=None, help="train split only")
    p.add_argument("--seed", type=int, default=0, help="first env seed")
    p.add_argument("--concurrency", type=int, default=32, help="episodes in flight")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling threshold")
    p.add_argument(
        "--max-tokens", type=int, default=256,
        help="new tokens per turn (the bundled experts' longest turn: 211, a BugFix patch)",
    )  # fmt: skip
    p.add_argument("--max-turns", type=int, default=None, help="env turn budget (default: env's)")
    p.add_argument(
        "--max-context", type=int, default=8192, help="tokens per episode, prompt included"
    )
    p.add_argument(
        "--env-timeout", type=float, default=600.0,
        help="seconds an episode's environment calls may take in all (reset and steps)",
    )  # fmt: skip
    p.add_argument(
        "--timeout", type=float, default=None,
        help="wall-clock seconds per episode, generation included (default: none; most of it "
        "is waiting for the engine all episodes in flight share, so it grows with the load)",
    )  # fmt: skip
    p.add_argument("--tools-in-template", action="store_true", help="render tools via template")
    p.add_argument(
        "--success-threshold", type=float, default=1.0, help="reward that counts as a success"
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (hf engine)")
    p.add_argument(
        "--engine-options", type=json_object, default={},
        help="more engine arguments as a JSON object: vLLM's engine arguments (e.g. "
        '\'{"gpu_memory_utilization": 0.5}\', \'{"enforce_eager": true}\') or the hf engine\'s',
    )  # fmt: skip
    p.add_argument("--out", required=True, help="trajectories JSONL to write")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)
    return p


def episode_tasks(args: argparse.Namespace) -> list[tuple[dict[str, Any], int]]:
    """(reset options, seed) of each task to play."""
    if args.split == "test":
        import gymnasium as gym

        env = gym.make(args.env_id)
        ids = env.unwrapped.task_ids("test")  # type: ignore[attr-defined]
        env.close()
        if args.episodes > len(ids):
            logger.warning("%s has %d test tasks; playing all of them", args.env_id, len(ids))
        return [({"task_id": t}, args.seed + i) for i, t in enumerate(ids[: args.episodes])]
    options: dict[str, Any] = {"split": "train"}
    if args.difficulty:
        options["difficulty"] = args.difficulty
    return [(options, args.seed + i) for i in range(args.episodes)]


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``gym.make`` arguments of every episode (the expert engine's replay envs included)."""
    return {"max_turns": args.max_turns} if args.max_turns else {}


def build_engine(args: argparse.Namespace, tasks: list[tuple[dict[str, Any], int]]) -> tuple:
    """The engine ``args`` ask for and the tokenizer of its chat template."""
    from transformers import AutoTokenizer

    from llmgym.engines import create_engine
    from llmgym.models import resolve_model

    if args.engine == "openai":
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(args.tokenizer))
        urls = args.base_url or ["http://127.0.0.1:8000"]
        return create_engine("openai", args.model, base_urls=urls, tokenizer=tokenizer), tokenizer
    model = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or model)
    if args.engine == "expert":
        from llmgym.engines.scripted import ExpertEngine

        return ExpertEngine(args.env_id, tokenizer, tasks, env_kwargs=env_kwargs(args)), tokenizer
    engine = create_engine(
        args.engine, model, max_context=args.max_context, threads=args.threads,
        **args.engine_options,
    )  # fmt: skip
    return engine, tokenizer


async def evaluate(args: argparse.Namespace) -> EvalSummary:
    from llmgym.engines.base import SamplingParams
    from llmgym.rollout import RolloutCollector, RolloutConfig, group_specs

    tasks = episode_tasks(args)
    engine, tokenizer = build_engine(args, tasks)
    config = RolloutConfig(
        sampling=SamplingParams(
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            seed=args.seed,
        ),
        concurrency=args.concurrency,
        env_timeout_s=args.env_timeout,
        episode_timeout_s=args.timeout,
        max_context_tokens=args.max_context,
        tools_in_template=args.tools_in_template,
        env_kwargs=env_kwargs(args),
        progress=not args.no_progress,
    )
    collector = RolloutCollector(engine, tokenizer, config)
    specs = group_specs(args.env_id, tasks, args.samples)
    logger.warning(
        "%d episodes of %s, each at most %d tokens (%d new a turn) and %.0f s in the "
        "environment%s", len(specs), args.env_id, args.max_context, args.max_tokens,
        args.env_timeout, f" ({args.timeout:.0f} s of wall time)" if args.timeout else "",
    )  # fmt: skip
    started = time.perf_counter()
    try:
        write_jsonl(args.out, [])
        async for trajectory in collector.stream(specs):
            write_jsonl(args.out, [trajectory], append=True)  # keep what finished on a crash
    finally:
        await engine.close()
    wall_s = time.perf_counter() - started
    return summarize(list(iter_jsonl(args.out)), wall_s, args.success_threshold)


def check_args(args: argparse.Namespace) -> None:
    """Refuse values that cannot make an evaluation, all at once and before any model loads,
    each as "--flag: got X, expected Y" (ValueError; the CLI prints it and exits 2)."""
    checks = [
        ("episodes", args.episodes >= 1, "at least 1 task"),
        ("samples", args.samples >= 1, "at least 1 episode per task"),
        ("concurrency", args.concurrency >= 1, "at least 1 episode in flight"),
        ("max-tokens", args.max_tokens >= 1, "at least 1 new token a turn"),
        ("max-context", args.max_context > args.max_tokens, "more tokens than --max-tokens"),
        ("max-turns", args.max_turns is None or args.max_turns >= 1, "at least 1 turn"),
        ("temperature", args.temperature >= 0, "0 (greedy) or a positive temperature"),
        ("top-p", 0 < args.top_p <= 1, "a probability in (0, 1]"),
        ("env-timeout", args.env_timeout > 0, "positive seconds"),
        ("timeout", args.timeout is None or args.timeout > 0, "positive seconds, or no flag"),
        ("seed", args.seed >= 0, "a seed >= 0"),
        ("threads", args.threads is None or args.threads >= 1, "at least 1 thread"),
        ("success-threshold", 0 < args.success_threshold <= 1, "a reward in (0, 1]"),
    ]
    bad = [f"--{flag}: got {getattr(args, flag.replace('-', '_'))!r}, expected {want}"
           for flag, ok, want in checks if not ok]  # fmt: skip
    from llmgym.registration import env_id_problem

    if problem := env_id_problem(args.env_id):
        bad.insert(0, f"env_id: {problem}")
    elif args.difficulty is not None:
        from llmgym.registration import difficulty_problem

        if problem := difficulty_problem(args.env_id, args.difficulty):
            bad.append(f"--difficulty: {problem}")
        elif args.split != "train":
            bad.append(f"--difficulty: got {args.difficulty!r} with --split {args.split}, "
                       "expected it only with --split train")  # fmt: skip
    if args.engine_options:
        from llmgym.engines import engine_options_problem

        if args.engine in ("openai", "expert"):
            bad.append(f"--engine-options: got {args.engine_options!r} with --engine "
                       f"{args.engine}, expected them only with a local model engine")  # fmt: skip
        elif problem := engine_options_problem(args.engine, args.engine_options, EVAL_SETS):
            bad.append(f"--engine-options: {problem}")
    if bad:
        raise ValueError("invalid arguments:\n  " + "\n  ".join(bad))


def run(args: argparse.Namespace) -> int:
    """``llmgym eval``: play, write ``--out``, print the scores."""
    check_args(args)
    summary = asyncio.run(evaluate(args))
    print(f"{args.env_id} with {args.engine} engine -> {args.out}")
    for line in summary.lines():
        print("  " + line)
    return 0
