"""``todo add|list|done|rm|stats``: the command-line front end."""

import argparse
import sys

from todo.report import render_item, render_stats
from todo.store import PRIORITIES, load, save


def build_parser():
    parser = argparse.ArgumentParser(prog="todo")
    parser.add_argument("--file", default="todo.json", help="where the list is stored")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("title", nargs="+")
    add.add_argument("--priority", "-p", choices=PRIORITIES, default="normal")
    show = sub.add_parser("list")
    show.add_argument("--all", action="store_true", help="include finished items")
    for name in ("done", "rm"):
        cmd = sub.add_parser(name)
        cmd.add_argument("id", type=int)
    sub.add_parser("stats")
    return parser


def main(argv=None, out=None):
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    todos = load(args.file)
    if args.command == "add":
        item = todos.add(" ".join(args.title), args.priority)
        print(f"added {item.id}: {item.title}", file=out)
    elif args.command == "list":
        items = todos.items if args.all else todos.pending()
        for item in items:
            print(render_item(item), file=out)
        if not items:
            print("nothing to do", file=out)
    elif args.command in ("done", "rm"):
        try:
            if args.command == "done":
                todos.complete(args.id)
            else:
                todos.remove(args.id)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=out)
            return 1
        print(f"{args.command} {args.id}", file=out)
    elif args.command == "stats":
        print(render_stats(todos), file=out)
    save(todos, args.file)
    return 0
