"""Probes of configparse: CSV lines with quotes and delimiters (and round trips), INI files
with sections, comments and broken lines (error messages name the line), typed getters,
booleans and query strings."""

from __future__ import annotations

import random

from llmgym.environments.bug_fix.probes import ProbeSet, call, text

C, INI, V = "confparse.csvline:", "confparse.ini:", "confparse.values:"
CSV_PIECES = ["a", "b", "x y", " ", ",", ";", "\t", '"', '""', "q"]
FIELD_PIECES = ["a", "b", " ", ",", '"', ";", "x"]
INI_LINES = ["", "   ", "# comment", "; note", "[Server]", "[ Mixed Case ]", "[db]", "[]", "[broken",
             "name = demo", "PORT=8080", "url = http://x/?a=b", "novalue", " = x", "k =", "debug = yes",
             "hosts = a.example, b.example,,", "key=va=lue", "  indented = 1  ", "[server]"]  # fmt: skip
BOOL_WORDS = ["1", "0", "true", "false", "yes", "no", "on", "off", "TRUE", " On ", "Off", "maybe",
              "", "  ", "2", "y", "n", "ja", "True ", "FALSE"]  # fmt: skip
QUERY_PIECES = ["a=1", "b=x+y", "a=2", "q=rock%26roll", "empty=", "=v", "", "k", "%20=%41", "c=%2B",
                "x=1=2", "name=J%C3%BCrgen", "+=+"]  # fmt: skip
SAMPLE = """
; a comment
name = demo
[Server]
port = 8080
debug = yes
hosts = a.example, b.example,,
# another comment
url = http://x/?a=b
"""


def build(probes: ProbeSet, rng: random.Random) -> None:
    lines = ['a,"b,c",""""', ",,", "", 'a,"b', "plain", '"a""b",c', '""', '"', 'x,"y"z', "a, b ,c"]
    lines += [text(rng, CSV_PIECES, 0, 10) for _ in range(220)]
    probes.calls(C + "split_csv_line", [(line,) for line in lines])
    probes.calls(C + "split_csv_line", [(line, d) for line in lines[:80] for d in (";", "\t")])
    fields_lists = [
        ["a", "b,c", 'say "hi"', " x"],
        ["plain", "with,comma", '"quoted"', "", " pad "],
        [],
        [""],
    ]
    fields_lists += [
        [text(rng, FIELD_PIECES, 0, 5) for _ in range(rng.randint(1, 5))] for _ in range(150)
    ]
    probes.calls(C + "join_csv_line", [(f,) for f in fields_lists[:60]])
    for delimiter in (",", ";"):
        probes.calls(C + "join_csv_line", [(f, delimiter) for f in fields_lists])
        for fields in fields_lists:
            joined = call(C + "join_csv_line", fields, delimiter)
            probes.add("csv round trip", {"do": call(C + "split_csv_line", joined, delimiter).data})

    texts = [SAMPLE, "[ok]\njust words\n", "[broken\n", "[]\n", "", "a=1\n[S]\nb=2\n[s]\nc=3"]
    texts += [
        "\n".join(rng.choice(INI_LINES) for _ in range(rng.randint(0, 9))) for _ in range(220)
    ]
    probes.calls(INI + "parse_ini", [(t,) for t in texts], message=True)

    data = {"default": {"name": "demo"}, "server": {"port": "8080", "debug": "yes", "neg": "-3",
            "hosts": "a.example, b.example,,", "bad": "x", "off": "OFF", "list": "a;b; ;c"}}  # fmt: skip
    keys = ["port", "debug", "neg", "hosts", "bad", "off", "list", "missing", "name"]
    sections = ["server", "default", "nosection"]
    for getter in ("get_int", "get_bool", "get_list"):
        for section in sections:
            probes.calls(INI + getter, [(data, section, key) for key in keys])
    probes.calls(
        INI + "get_int",
        [(data, "server", k, d) for k in ("missing", "port") for d in (5, -1, None)],
    )
    probes.calls(
        INI + "get_bool", [(data, "server", k, d) for k in ("missing", "off") for d in (True, None)]
    )
    probes.calls(
        INI + "get_list",
        [(data, "server", k, sep) for k in ("list", "hosts") for sep in (";", ",", " ")],
    )

    probes.calls(V + "parse_bool", [(w,) for w in BOOL_WORDS])
    queries = ["?a=1&b=x+y&a=2", "q=rock%26roll&empty=", "empty=&x=1", "", "?", "&&", "a&b=1"]
    queries += [
        "&".join(rng.choice(QUERY_PIECES) for _ in range(rng.randint(0, 5))) for _ in range(120)
    ]
    queries = [("?" if rng.random() < 0.2 else "") + q for q in queries]
    probes.calls(V + "parse_query", [(q,) for q in queries])
    probes.calls(V + "parse_query", [(q, True) for q in queries])
