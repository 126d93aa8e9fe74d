"""Does an expert that writes down its flight check teach the check? SFT on TripBooking with
and without ``expert_notes``, evaluated on the same held-out tasks, and where the notes go wrong.

Every failure left after SFT and GRPO on TripBooking's easy tasks is a wrong flight, chosen
about as well as at random (``bench_flight_choice.py``). The plain expert books the cheapest
fitting flight in one hidden step; with ``expert_notes`` (``TripBookingEnv(expert_notes=True)``)
it first restates the request's flight constraints ("Need: nonstop, arrive by 12:00."), and
before booking writes the same line, the listed flights that meet it with their fares and its
pick ("Fit: QA270 $290, NX260 $360. Cheapest: QA270."). This script fine-tunes the default
model on ``--episodes`` expert episodes of each kind (the main job's SFT recipe otherwise),
evaluates both greedily on the first ``--eval-tasks`` easy test tasks (the main job's), and
prints successes with 95% intervals, the exact McNemar test between the two, the failure kinds
and, for the notes model, how often each part of its booking note matches the note the expert
writes at that point of the same task: the restated constraints, the list of fitting flights,
the pick, and whether the flight it booked is the one it picked. Run:

    OMP_WAIT_POLICY=PASSIVE python bench/bench_expert_notes.py --out runs/notes --episodes 60

Writes ``notes.json`` to ``--out``; a variant finished in an earlier session is reused, and
so is an SFT model trained in one (``sft_done`` in its folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Any

VARIANTS = {"plain": {}, "notes": {"expert_notes": True}}
NEED = re.compile(r"Need: ([^\n]*?\.)(?: Fit:|\n|$)")
FIT = re.compile(r"Fit: ([^\n]*?)\. Cheapest: ([A-Z0-9]+)\.")
BOOKED = re.compile(r'"(?:flight_id|new_flight_id)": "([^"]*)"')


def expert_notes(env: Any, task_id: str) -> tuple[str, str | None]:
    """The notes the notes-expert writes on ``task_id``: in its first turn, and before its
    first flight booking or change (None: it books no flight)."""
    env.reset(options={"task_id": task_id})
    first = str(env.unwrapped.expert_action().split("<tool_call>")[0])
    for _ in range(env.unwrapped.max_turns):
        action = env.unwrapped.expert_action()
        if '"book_flight"' in action or '"change_flight"' in action:
            return first, str(action.split("<tool_call>")[0])
        *_, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    return first, None


def grade_note(turn: str, reference: str) -> dict[str, bool]:
    """Parts of a model's booking turn against the expert's note at that point of the task."""
    need, fit, booked = NEED.search(turn), FIT.search(turn), BOOKED.search(turn)
    ref_need, ref_fit = NEED.search(reference), FIT.search(reference)
    assert ref_need and ref_fit, reference

    def ids(listing: str) -> set[str]:
        return {item.split()[0] for item in listing.split(", ") if item.strip()}

    return {
        "wrote a note": bool(need and fit),
        "constraints right": bool(need and need.group(1) == ref_need.group(1)),
        "fitting list right": bool(fit and ids(fit.group(1)) == ids(ref_fit.group(1))),
        "pick right": bool(fit and fit.group(2) == ref_fit.group(2)),
        "booked its pick": bool(fit and booked and booked.group(1) == fit.group(2)),
    }


def note_accuracy(trajectories: list[Any], env: Any) -> dict[str, Any]:
    """How often the model's first turn restates the constraints as the expert's does (of all
    episodes), and how often each part of its first booking note matches the expert's (of the
    episodes that booked or changed a flight)."""
    counts: dict[str, int] = {"first turn's constraints right": 0}
    booked = 0
    for t in trajectories:
        turns = [m["content"] for m in t.messages if m["role"] == "assistant"]
        first, reference = expert_notes(env, t.task_id)
        if turns and turns[0].split("<tool_call>")[0].strip() == first.strip():
            counts["first turn's constraints right"] += 1
        turn = next((c for c in turns if "book_flight" in c or "change_flight" in c), None)
        if turn is None or reference is None:
            continue
        booked += 1
        for part, ok in grade_note(turn, reference).items():
            counts[part] = counts.get(part, 0) + int(ok)
    return {"episodes": len(trajectories), "episodes that booked a flight": booked, **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--episodes", type=int, default=60, help="expert episodes of SFT [60]")
    parser.add_argument("--eval-tasks", type=int, default=40)
    parser.add_argument(
        "--max-new-tokens", type=int, default=160,
        help="tokens a turn, both variants (a booking turn with its note: 101-145) [160]",
    )  # fmt: skip
    parser.add_argument("--variants", default="plain,notes", help="of: plain, notes")
    parser.add_argument("--sft", type=json.loads, default={}, help="more SFTConfig fields")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.stats import mcnemar_exact
    from llmgym.trainers.grpo.run import evaluate_model
    from llmgym.trainers.quickstart import GRPO_RECIPE, SFT_RECIPE, QuickstartConfig, rate
    from llmgym.trainers.sft import run_sft

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "notes.json"
    report: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    report["recipe"] = {"episodes": args.episodes, "eval_tasks": args.eval_tasks,
                        "max_new_tokens": args.max_new_tokens, "sft": {**SFT_RECIPE, **args.sft}}  # fmt: skip
    grpo = {**GRPO_RECIPE, "max_new_tokens": args.max_new_tokens}
    notes_env: Any = gym.make("llmgym/TripBooking-v0", expert_notes=True)
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            raise SystemExit(f"--variants: unknown {variant!r}; use plain, notes or both")
        if variant in report.get("variants", {}):
            print(f"{variant}: {report['variants'][variant]['successes']} (earlier session)")
            continue
        run = QuickstartConfig(out=out / variant, eval_tasks=args.eval_tasks, grpo=grpo,
                               sft={**SFT_RECIPE, **args.sft, "episodes": args.episodes,
                                    "env_kwargs": VARIANTS[variant]})  # fmt: skip
        started = time.perf_counter()
        model = out / variant / "sft"
        if (model / "sft_done").is_file():  # trained in an earlier session
            sft_s = float((model / "sft_done").read_text())
        else:
            run_sft(run.sft_config())
            sft_s = time.perf_counter() - started
            (model / "sft_done").write_text(f"{sft_s}\n")
        result = asyncio.run(evaluate_model(run.grpo_config(), str(model), keep_trajectories=True))
        trajs = result.pop("trajectories")
        row = rate(variant, result) | {"sft_s": sft_s, "eval_s": result["eval_s"]}
        if variant == "notes":
            row["notes"] = note_accuracy(trajs, notes_env)
        with open(out / variant / "eval.jsonl", "w") as f:  # to grade again or read
            f.writelines(t.model_dump_json() + "\n" for t in trajs)
        report.setdefault("variants", {})[variant] = row
        path.write_text(json.dumps(report, indent=1) + "\n")
        print(f"{variant}: {row['successes']}/{args.eval_tasks} "
              f"(SFT {sft_s:.0f} s, eval {result['eval_s']:.0f} s)", flush=True)  # fmt: skip
    rows = report.get("variants", {})
    print(f"\n{'SFT on':<8} {'held-out':>9} {'95% CI':>12}  failures")
    for name, row in rows.items():
        ci = f"{row['wilson95'][0]:.2f}-{row['wilson95'][1]:.2f}"
        print(f"{name:<8} {row['successes']:>6}/{row['episodes']:<2} {ci:>12}  {row['failures']}")
    if {"plain", "notes"} <= rows.keys():
        test = mcnemar_exact(rows["plain"]["per_task"], rows["notes"]["per_task"])
        report["notes_vs_plain"] = {"gained": test.gained, "lost": test.lost, "p": test.p_value}
        print(f"notes vs plain: +{test.gained} -{test.lost}, exact McNemar p = {test.p_value:.3g}")
    if "notes" in rows:
        print("notes model's booking note against the expert's:", rows["notes"]["notes"])
    path.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
