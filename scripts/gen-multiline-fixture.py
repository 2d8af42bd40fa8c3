#!/usr/bin/env python3
"""Writes Python `re`'s answers for multi-line messages (JSON lines: case, line, matches).

The database is compiled DOTALL, so on a message with a newline a record whose `.` must not cross
one is decided apart: from the message's lines, or by the exact engine (whole-text anchors, and
records that can match a newline when no line matches them). These messages are dev lines
(../shared/eval/dev-lines.jsonl) put on several lines where that can go wrong: two lines joined (a
JSON log's message fields are joined with `\\n`), a line split at a space (a `.*` can no longer
reach across, a `\\s` can), CRLF, a line before it, a trailing newline and a line after it, a stack
trace below it, non-ASCII text beside it (the Unicode database's patterns), and, for lines
matched by a record with a `\\s` and a `.`, newlines for spaces
(`Exception:\\nmessage`: what such a record can still match across lines). The KB has almost no
whole-text anchors; test/unit/matcher/matcher.test.ts covers them. Each line lists the ids of the
records whose regex, compiled by Python with IGNORECASE (logsift's default), finds a match.

    python3 scripts/gen-multiline-fixture.py SHARED_DIR OUT

test/unit/matcher/multiline.test.ts runs it into the test cache (keyed by this script and the shared
files), so the dev lines stay in ../shared and are not copied into the repository.
"""
import re
import sys

from python_answers import load, write_answers

SHARED = sys.argv[1]
OUT = sys.argv[2]
SOURCES = 90  # dev lines that match something; 10 variants each
TARGETED = 60  # dev lines matched by a record with both a `\s` (it can take a newline) and a `.`; 3 variants each
SPACE_AND_DOT = re.compile(r'\\s.*(?<!\\)\.[*+{]')
STACK = '\n\tat com.example.orders.OrderService.place(OrderService.java:118)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)'


def split_middle(s: str) -> str:
    """The line cut in two at its middle space: what a pattern spanning it must cross."""
    spaces = [i for i, c in enumerate(s) if c == ' ']
    if not spaces:
        return s[: len(s) // 2] + '\n' + s[len(s) // 2:]
    i = spaces[len(spaces) // 2]
    return s[:i] + '\n' + s[i + 1:]


def main() -> None:
    records, compiled, dev = load(SHARED)
    candidates = [d['line'] for d in dev if d['matches']]
    step = max(1, len(candidates) // SOURCES)
    chosen = candidates[::step][:SOURCES]
    background = [d['line'] for d in dev if not d['matches']]
    jobs = []
    for k, line in enumerate(chosen):
        other = chosen[(k + 7) % len(chosen)]
        quiet = background[k % len(background)] if background else 'ok'
        jobs += [
            ('two-lines', line + '\n' + other),
            ('json-fields', 'request failed\n' + line),
            ('split-at-space', split_middle(line)),
            ('split-crlf', split_middle(line).replace('\n', '\r\n')),
            ('header-line', quiet + '\n' + line),
            ('trailing-newline', line + '\n'),
            ('line-after', line + '\n' + quiet),
            ('stack-trace', line + STACK),
            # Non-ASCII bytes: the Unicode database's patterns are decided on these lines too.
            ('non-ascii-header', 'Straße — détails: ünïcödé ٣٤٥\n' + line),
            ('non-ascii-split', split_middle(line) + ' — connexion refusée'),
        ]
    spacey = {r['id'] for r in records if SPACE_AND_DOT.search(r['regex'])}
    targeted = [d['line'] for d in dev if spacey.intersection(d['matches']) and ' ' in d['line']][:TARGETED]
    for line in targeted:
        if ': ' in line:
            jobs.append(('colon-newline', line.replace(': ', ':\n')))
        jobs += [
            ('spaces-to-newlines', line.replace(' ', '\n')),
            ('split-at-first-spaces', '\n'.join(line.split(' ', 3))),
        ]
    write_answers(OUT, compiled, jobs)


if __name__ == '__main__':
    main()
