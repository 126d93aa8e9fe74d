"""Probes of textkit: naming-style conversion, title case with small words, slugs with
accents, separators and length cuts, wrapping, truncation, word counts and indentation."""

from __future__ import annotations

import random

from llmgym.environments.bug_fix.probes import ProbeSet, text

C, S, W = "textkit.case:", "textkit.slug:", "textkit.wrap:"
WORDS = ["the", "a", "of", "and", "to", "lord", "rings", "what", "it", "is", "for", "in", "THE",
         "Big", "world", "x", "on", "by", "an", "as"]  # fmt: skip
TITLE_WORDS = ["alpha", "beta", "gamma", "Crème", "Brûlée", "&", "Co.", "--x--", "Æon", "日本", "a1",
               "Hello,", "World!", "  ", "déjà", "vu", "ﬁne", "x"]  # fmt: skip
PROSE = ["the", "quick", "brown", "fox", "jumps", "over", "a", "verylongword", "b", "it's",
         "well-known", "-", "!", ",", "don't", "aaaa", "bbbbb", "\n", "\t"]  # fmt: skip


def build(probes: ProbeSet, rng: random.Random) -> None:
    names = ["http_status_code", "__a__b_", "", "single", "_", "a", "A_B", "x__y", "already_snake"]
    names += [text(rng, list("ab_XY1"), 0, 10) for _ in range(120)]
    probes.calls(C + "snake_to_camel", [(n,) for n in names])
    probes.calls(C + "snake_to_camel", [(n, True) for n in names])
    camels = [
        "HTTPStatusCode",
        "parseURL2",
        "already_snake",
        "",
        "A",
        "aB",
        "ABC",
        "getHTTP",
        "X2Y",
    ]
    camels += [text(rng, list("aBcHTTPx2_"), 0, 10) for _ in range(150)]
    probes.calls(C + "camel_to_snake", [(n,) for n in camels])
    titles = ["the lord of the rings", "what it is for", "a", "", "  of  the  ", "THE END"]
    titles += [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))) for _ in range(150)]
    probes.calls(C + "title_case", [(t,) for t in titles])

    slugs = ["Crème Brûlée & Co.", "  --Already--slugged--  ", "Hello big World", "alpha beta gamma",
             "abcdefghij", "alpha beta", "My Post", "", "日本"]  # fmt: skip
    slugs += [
        " ".join(rng.choice(TITLE_WORDS) for _ in range(rng.randint(0, 7))) for _ in range(150)
    ]
    probes.calls(S + "slugify", [(t,) for t in slugs])
    probes.calls(S + "slugify", [("alpha beta gamma", "-", n) for n in range(0, 18)])
    long_titles = [
        " ".join(rng.choice([*TITLE_WORDS[:9], "abc", "defgh"]) for _ in range(rng.randint(8, 14)))
        for _ in range(60)
    ]
    long_titles += ["a" * n for n in (49, 50, 51, 52)] + ["word " * n for n in (9, 10, 11)]
    probes.calls(S + "slugify", [(t,) for t in long_titles])
    probes.calls(S + "slugify", [(t, "_") for t in long_titles[:30]])
    probes.calls(S + "slugify", [("abcdefghij", "-", 5), ("alpha beta", "-", 10)])
    probes.calls(S + "slugify", [
        (t, rng.choice(["-", "_", "."]), rng.randint(1, 30)) for t in slugs
    ])  # fmt: skip
    taken_sets = [set(), {"my-post"}, {"my-post", "my-post-2"}, {"my-post-2"}, {"", "-2"}]
    for t in slugs[:60] + ["My Post"] * 5:
        base = t.lower().replace(" ", "-")
        taken = (
            rng.choice(taken_sets) | {base, f"{base}-2"}
            if rng.random() < 0.5
            else rng.choice(taken_sets)
        )
        probes.calls(S + "unique_slug", [(t, taken)])
        probes.calls(S + "unique_slug", [(t, taken, "_")])

    prose = ["the quick brown fox jumps over", "aaaa bbbbb", "a verylongword b", "", "   ", "x"]
    prose += [" ".join(rng.choice(PROSE) for _ in range(rng.randint(0, 14))) for _ in range(120)]
    probes.calls(W + "wrap", [(t, w) for t in prose for w in (rng.randint(-1, 16),)])
    probes.calls(
        W + "wrap",
        [("the quick brown fox jumps over", 10), ("aaaa bbbbb", 10), ("x", 0), ("abc def", 70)],
    )
    long_prose = [
        " ".join(rng.choice(PROSE) for _ in range(rng.randint(10, 60))) for _ in range(40)
    ]
    long_prose += ["x" * 69 + " y", "x" * 70 + " y", "x" * 68 + " yy", "a " * 36]
    probes.calls(W + "wrap", [(t,) for t in long_prose])
    probes.calls(W + "truncate", [("hello", 5), ("hello world", 2), ("hello world", 7, "…")])
    probes.calls(W + "truncate", [
        (t, rng.randint(-1, 20), rng.choice(["...", "…", "", "."])) for t in prose
    ])  # fmt: skip
    probes.calls(
        W + "word_count",
        [("Hello, world - it's a well-known fact !",), ("",)] + [(t,) for t in prose],
    )
    blocks = ["a\n\nb", "", "\n", "x\n  \ny\n", "one"]
    blocks += [
        "\n".join(rng.choice(["", "  ", "line", " a b", "\t"]) for _ in range(rng.randint(1, 5)))
        for _ in range(60)
    ]
    probes.calls(
        W + "indent", [(b, rng.choice(["> ", "    ", ""]), rng.random() < 0.5) for b in blocks]
    )
    probes.calls(W + "indent", [(b,) for b in blocks])
