"""The ``llmgym`` command line: list, check, play and freeze environments (and, where the
optional parts are installed, eval, sft and train)."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import shlex
import sys
import time
from typing import Any

# Subcommands that live in other modules: (name, module). Each module has
# add_parser(subparsers) and run(args) -> int, and is imported only when present.
PLUGGED = (
    ("eval", "llmgym.eval_cli"),
    ("sft", "llmgym.trainers.sft_cli"),
    ("train", "llmgym.trainers.grpo.cli"),
    ("quickstart", "llmgym.trainers.quickstart_cli"),
)


class DefaultsHelp(argparse.HelpFormatter):
    """Help that ends each option's line with its default, ``[value]`` (None and off omitted)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        hidden = default is None or default is False or default == argparse.SUPPRESS
        if hidden or "%(default)" in text or not action.option_strings:
            return text
        return f"{text} [%(default)s]"


def cmd_list(args: argparse.Namespace) -> int:
    from llmgym.registration import registered

    entries = registered()
    width = max(len(i) for i in entries)
    for env_id, entry in sorted(entries.items()):
        print(f"{env_id:<{width}}  {entry.description}")
    return 0


def require_registered(env_id: str) -> None:
    """ValueError naming the registered ids (the CLI prints it, exit 2) for an unknown id."""
    from llmgym.registration import env_id_problem

    if problem := env_id_problem(env_id):
        raise ValueError(f"env_id: {problem}")


def positive(text: str) -> int:
    """argparse type: a whole number >= 1 (a bad one is refused before anything runs)."""
    return _whole(text, 1)


def at_least_0(text: str) -> int:
    """argparse type: a whole number >= 0."""
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < least:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a whole number >= {least}")
    return value


def cmd_check(args: argparse.Namespace) -> int:
    from llmgym.checks import run_checks

    print(f"Checking {args.env_id}")
    failed = 0
    started = time.perf_counter()
    for result in run_checks(
        args.env_id,
        test_limit=args.limit,
        cheat_limit=args.limit,
        fuzz_limit=args.fuzz_tasks,
        fuzz_mutants=args.fuzz_mutants,
    ):
        mark = "PASS" if result.passed else "FAIL"
        print(f"  [{mark}] {result.name}: {result.detail}")
        if not result.passed:
            failed += 1
            print(f"         what to do: {result.hint}")
    total = time.perf_counter() - started
    print(f"{'OK' if not failed else 'FAILED'}: {failed} check(s) failed ({total:.1f} s)")
    return 1 if failed else 0


def parse_typed_call(line: str) -> str:
    """Turn ``name key=value ...`` (values as JSON where they parse) into a tool call; other
    input (``<tool_call>`` JSON, prose) passes through unchanged."""
    from llmgym.parsing import format_tool_call

    stripped = line.strip()
    if not stripped or stripped.startswith("<") or stripped.startswith("{"):
        return line
    try:
        name, *pairs = shlex.split(stripped)
    except ValueError:
        return line
    if not name.isidentifier() or not all("=" in p for p in pairs):
        return line
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        try:
            arguments[key] = json.loads(value)
        except json.JSONDecodeError:
            arguments[key] = value
    return format_tool_call(name, **arguments)


def _show(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        content = message["content"]
        try:
            content = json.dumps(json.loads(content), indent=2)
        except (json.JSONDecodeError, TypeError):
            pass
        label = message["role"] + (f" ({message['name']})" if message.get("name") else "")
        print(f"\n--- {label} ---\n{content}")


def cmd_play(args: argparse.Namespace) -> int:
    from llmgym.checks import make_unwrapped
    from llmgym.episode import play

    require_registered(args.env_id)
    env = make_unwrapped(args.env_id, tools_in_prompt=not args.hide_tools)
    options: dict[str, Any] = {}
    if args.task_id:
        options["task_id"] = args.task_id
    else:
        options["split"] = args.split
        if args.difficulty:
            options["difficulty"] = args.difficulty
    started = False

    def show_start(obs: list[dict[str, Any]]) -> None:
        print(
            "Type a tool call as `name key=value ...` (values in JSON: passengers='[\"Ann "
            "Lee\"]') or raw <tool_call> JSON."
        )
        print("Commands: :tools (list tools), :hint (the expert's next move), :quit")
        _show(obs)

    def next_action() -> str | None:
        """The person's (or the expert's) next tool call; None on :quit or end of input."""
        nonlocal started
        if not started:
            started = True
            if env.task is not None:
                print(f"Task {env.task.task_id} ({env.task.difficulty}).")
            show_start(env.transcript)
        while True:
            if args.expert:
                line = env.expert_action()
                print(f"\n>>> {line}")
            else:
                try:
                    line = input("\n>>> ")
                except EOFError:
                    print()
                    return None
            if line.strip() == ":quit":
                return None
            if line.strip() == ":tools":
                print(env.toolset.describe() if env.toolset else "")
                continue
            if line.strip() == ":hint":
                print(env.expert_action())
                continue
            return parse_typed_call(line)

    def shown(obs: Any, reward: float, terminated: bool, truncated: bool, info: Any) -> None:
        _show(obs)
        if info["invalid_action"]:
            print("(invalid action)")
        if terminated or truncated:
            print(f"\nEpisode over: {info['termination_reason']}. Reward {reward}.")
            if info.get("reward_components"):
                components = ", ".join(f"{k}={v:g}" for k, v in info["reward_components"].items())
                print(f"Components: {components}")
                print(f"Verifier: {info.get('verdict', '')}")

    try:
        play(
            env, next_action, seed=args.seed, options=options, submit_when_done=False,
            on_step=shown,
        )  # fmt: skip
    finally:
        env.close()
    return 0


def cmd_freeze(args: argparse.Namespace) -> int:
    from llmgym.checks import make_unwrapped
    from llmgym.tasks import make_test_split, write_split

    require_registered(args.env_id)
    env = make_unwrapped(args.env_id)
    tasks = make_test_split(env.generate_task, env.difficulties, args.count)
    path, sha = write_split(env.task_family, "test", tasks, package=env.task_data_package)
    print(
        f"wrote {len(tasks)} tasks to {path}\nsha256 {sha}\n"
        f"Record it in {type(env).__name__}.test_split_sha256 (and bump the id's version if the env already shipped)."
    )
    return 0


def cmd_new_env(args: argparse.Namespace) -> int:
    from pathlib import Path

    from llmgym.scaffold import create_env, snake_case

    root = create_env(args.name, Path(args.dir))
    env_id = f"{snake_case(args.name)}/{args.name}-v0"
    print(
        f"wrote {root}\nNext:\n  pip install -e {root}\n  llmgym check {env_id}\n  python -m pytest {root / 'tests'}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmgym", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list environment ids with a one-line description").set_defaults(
        func=cmd_list
    )

    check = sub.add_parser("check", help="run the environment contract on an id")
    check.add_argument("env_id")
    check.add_argument(
        "--limit", type=positive, default=None, help="only the first N test tasks (default: all)"
    )
    check.add_argument(
        "--fuzz-tasks",
        type=at_least_0,
        default=8,
        help="test tasks the verifier fuzzer mutates the expert on (default: 8, spread over the split)",
    )
    check.add_argument(
        "--fuzz-mutants",
        type=at_least_0,
        default=120,
        help="mutants per task at most (default: 120)",
    )
    check.set_defaults(func=cmd_check)

    play = sub.add_parser("play", help="play an episode in the terminal")
    play.add_argument("env_id")
    play.add_argument("--seed", type=int, default=None)
    play.add_argument(
        "--task-id",
        default=None,
        help="a test id (llmgym check lists counts) or train-<difficulty>-<seed>",
    )
    play.add_argument("--split", choices=["train", "test"], default="train")
    play.add_argument("--difficulty", default=None)
    play.add_argument("--expert", action="store_true", help="let the scripted expert play")
    play.add_argument(
        "--hide-tools",
        action="store_true",
        help="do not print tool descriptions in the system prompt",
    )
    play.set_defaults(func=cmd_play)

    freeze = sub.add_parser(
        "freeze", help="(contributors) write an env's fixed test split and print its hash"
    )
    freeze.add_argument("env_id")
    freeze.add_argument("--count", type=positive, default=100, help="tasks in the split")
    freeze.set_defaults(func=cmd_freeze)

    new_env = sub.add_parser(
        "new-env", help="(contributors) write a working environment package to start from"
    )
    new_env.add_argument("name", help="CamelCase name, e.g. ShelfSort")
    new_env.add_argument("--dir", default=".", help="where to write the package folder")
    new_env.set_defaults(func=cmd_new_env)

    for _name, module in PLUGGED:
        try:
            importlib.import_module(module).add_parser(sub)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise
    return parser


def main(argv: list[str] | None = None) -> int:
    import llmgym  # noqa: F401 - registers the ids

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, FileExistsError, TypeError) as exc:
        print(f"llmgym {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
