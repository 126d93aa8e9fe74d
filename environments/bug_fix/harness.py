"""The probe harness: runs probe calls against a project's code and writes plain JSON results.

This file is copied (as text) into a fresh grading tree and run there, in the sandbox, as
``python -I .llmgym_judge/harness.py``: the only process that imports the project's code.
It reads the probes (``probes.json``: calls described as data), runs each in a fresh working
directory with a timer, and writes one JSON line per probe to ``results.jsonl``. Whatever it
writes is untrusted data once agent code has run in it (that code may rewrite anything here),
so nothing it says is believed but the values themselves, which the parent compares with the
clean project's. The parent imports this module only for :func:`encode` (the value codec).

Expressions (JSON): a literal in the tagged encoding below; ``{"$call": target, "args": [...],
"kwargs": {...}}`` where target is ``"module:qual.name"`` or ``"$name.attr"``; ``{"$ref":
name}``; ``{"$get": target}``. A step is ``{"do": expr}`` with optional ``"as": name`` (bind
the value; only whether it raised is recorded). Values: ``int``/``str``/``bool``/``None`` and
lists as JSON; ``{"$float": repr}``, ``{"$tuple": [...]}``, ``{"$dict": [[k, v], ...]}`` (sorted),
``{"$set": [...]}``, ``{"$date": iso}``, ``{"$datetime": iso}``, ``{"$time": iso}``,
``{"$timedelta": [d, s, us]}``, ``{"$decimal": str}``, ``{"$bytes": hex}``, ``{"$int": str}``
for big ints, ``{"$dataclass": name, "fields": [[k, v], ...]}``; anything else becomes
``{"$unencodable": type name}``, which never equals a reference value.
"""

import contextlib
import dataclasses
import datetime
import decimal
import importlib
import io
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 40
MAX_ITEMS = 10_000
MAX_STEP_CHARS = 50_000
MAX_OUTPUT_CHARS = 10_000
SMALL_INT = 1 << 53
MAX_TIMEOUTS = 3


class ProbeTimeout(BaseException):
    """A probe ran past its time budget (BaseException: ``except Exception`` cannot eat it)."""


def encode(value, depth=0):
    """The canonical plain-JSON form of ``value`` (exact types only: no subclass passes)."""
    kind = type(value)
    if depth > MAX_DEPTH:
        return {"$unencodable": "too deep"}
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if -SMALL_INT < value < SMALL_INT:
            return value
        try:
            return {"$int": str(value)}
        except ValueError:
            return {"$unencodable": "int too large"}
    if kind is float:
        return {"$float": repr(value)}
    if kind in (list, tuple, set, frozenset, dict) and len(value) > MAX_ITEMS:
        return {"$unencodable": f"{kind.__name__} too large"}
    if kind is list:
        return [encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if kind in (set, frozenset):
        items = [encode(v, depth + 1) for v in value]
        return {"$set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if kind is dict:
        pairs = [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]
        return {"$dict": sorted(pairs, key=lambda p: json.dumps(p[0], sort_keys=True))}
    if kind is datetime.datetime:
        return {"$datetime": value.isoformat()}
    if kind is datetime.date:
        return {"$date": value.isoformat()}
    if kind is datetime.time:
        return {"$time": value.isoformat()}
    if kind is datetime.timedelta:
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if kind is decimal.Decimal:
        return {"$decimal": str(value)}
    if kind is bytes:
        return {"$bytes": value.hex()}
    if dataclasses.is_dataclass(kind) and not isinstance(value, type):
        fields = [
            [f.name, encode(getattr(value, f.name, None), depth + 1)]
            for f in dataclasses.fields(kind)
        ]
        return {"$dataclass": kind.__name__, "fields": fields}
    return {"$unencodable": kind.__name__}


def decode(data, bound):
    """An expression (see the module docstring) to a Python value."""
    if isinstance(data, list):
        return [decode(v, bound) for v in data]
    if not isinstance(data, dict):
        return data
    if "$call" in data:
        func = resolve(data["$call"], bound)
        args = [decode(a, bound) for a in data.get("args", [])]
        kwargs = {k: decode(v, bound) for k, v in data.get("kwargs", {}).items()}
        return func(*args, **kwargs)
    if "$ref" in data:
        return bound[data["$ref"]]
    if "$get" in data:
        return resolve(data["$get"], bound)
    (tag, raw), *_ = data.items()
    simple: dict[str, Callable[[Any], Any]] = {
        "$float": float,
        "$int": int,
        "$date": datetime.date.fromisoformat,
        "$datetime": datetime.datetime.fromisoformat,
        "$time": datetime.time.fromisoformat,
        "$decimal": decimal.Decimal,
        "$bytes": bytes.fromhex,
    }
    if tag in simple:
        return simple[tag](raw)
    if tag == "$tuple":
        return tuple(decode(v, bound) for v in raw)
    if tag == "$set":
        return {decode(v, bound) for v in raw}
    if tag == "$dict":
        return {decode(k, bound): decode(v, bound) for k, v in raw}
    if tag == "$timedelta":
        return datetime.timedelta(days=raw[0], seconds=raw[1], microseconds=raw[2])
    raise ValueError(f"unknown expression tag {tag!r}")


def resolve(target, bound):
    """``"pkg.mod:Name.attr"`` (imported) or ``"$name.attr"`` (a bound value) to an object."""
    if target.startswith("$"):
        name, _, path = target[1:].partition(".")
        obj = bound[name]
    else:
        module, _, path = target.partition(":")
        obj = importlib.import_module(module)
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


def _on_alarm(signum, frame):
    raise ProbeTimeout()


def run_step(step, bound):
    """One step's record: its value or the exception it raised, and what it printed."""
    out = io.StringIO()
    record: dict[str, Any] = {}
    try:
        with contextlib.redirect_stdout(out):
            value = decode(step["do"], bound)
        if "as" in step:
            bound[step["as"]] = value
            record["v"] = None
        else:
            record["v"] = encode(value)
    except ProbeTimeout:
        raise
    except BaseException as exc:  # SystemExit too: argparse exits on bad arguments
        record["e"] = type(exc).__name__
        record["m"] = _text(exc)
    printed = out.getvalue()
    if printed:
        record["out"] = printed[:MAX_OUTPUT_CHARS]
    try:
        if len(json.dumps(record)) > MAX_STEP_CHARS:
            record = {"v": {"$unencodable": "result too large"}}
    except (TypeError, ValueError, RecursionError):
        record = {"v": {"$unencodable": "unserialisable"}}
    return record


def _text(exc):
    try:
        return str(exc)[:500]
    except BaseException:
        return ""


def run_probe(probe, seconds, scratch):
    """All steps of one probe in ``scratch`` (emptied afterwards), within ``seconds``."""
    home = os.getcwd()
    bound: dict[str, Any] = {}
    records = []
    os.chdir(scratch)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        for step in probe["steps"]:
            records.append(run_step(step, bound))
        timed_out = False
    except ProbeTimeout:
        records.append({"e": "ProbeTimeout", "m": ""})
        timed_out = True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.chdir(home)
        for name in os.listdir(scratch):  # usually none: cheaper than a new dir per probe
            path = os.path.join(scratch, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
    return records, timed_out


def preload(modules, seconds):
    """Import the project's modules up front, output discarded: what code prints or does when
    imported is not behaviour the probes compare (a failed import shows in every probe)."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for module in modules:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                importlib.import_module(module)
            except BaseException:
                pass
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "probes.json")) as f:
        spec = json.load(f)
    sys.path.insert(0, os.path.dirname(here))  # the project root: its packages import
    signal.signal(signal.SIGALRM, _on_alarm)
    preload(spec.get("preload", []), spec["probe_seconds"])
    timeouts = 0
    scratch = tempfile.mkdtemp(prefix="probe-")
    with open(os.path.join(here, "results.jsonl"), "w") as results:
        for probe in spec["probes"]:
            records, timed_out = run_probe(probe, spec["probe_seconds"], scratch)
            results.write(json.dumps({"id": probe["id"], "steps": records}) + "\n")
            results.flush()
            timeouts += timed_out
            if timeouts >= MAX_TIMEOUTS:
                break  # the rest count as not run


if __name__ == "__main__":
    main()
