#!/usr/bin/env python3
"""Writes Python `re`'s answers for non-ASCII messages (JSON lines: case, line, matches).

The messages are dev lines (../shared/eval/dev-lines.jsonl) rewritten to hit exactly where an
ASCII-mode Hyperscan database and Python's Unicode `re` can disagree: Unicode spaces and the
\\x1c-\\x1f separators (Python's `\\s`), non-ASCII letters beside words (`\\w`, `\\b`), non-ASCII
digits (`\\d`), multi-byte characters under a bounded `.`, and CJK text. Each line lists the ids of
the records whose regex, compiled by Python with IGNORECASE (logsift's default), finds a match.

    python3 scripts/gen-nonascii-fixture.py SHARED_DIR OUT

The tests run it into the test cache (test/helpers/shared.ts `pythonAnswers`, keyed by this script
and the shared files), so the dev lines stay in ../shared and are not copied into the repository.
"""
import re
import sys

from python_answers import load, write_answers

SHARED = sys.argv[1]
OUT = sys.argv[2]
SOURCES = 100  # dev lines rewritten; 7 variants each
TARGETED = 60  # dev lines matched by a record with a required `\s`; 2 separator variants each
REQUIRED_SPACE = re.compile(r'\\s(?![*?]|\{0)')

ARABIC_DIGITS = str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩')
VARIANTS = [
    ('nbsp', lambda s: s.replace(' ', '\u00a0')),
    ('unit-separator', lambda s: s.replace(' ', '\x1f')),  # ASCII only, yet Python's \s matches it
    ('file-separator-cjk', lambda s: 'エラー:\x1c' + s.replace(' ', '\x1c', 1)),
    ('accents-tail', lambda s: s + ' — détails: ünïcödé ٣٤٥'),
    ('arabic-digits', lambda s: s.translate(ARABIC_DIGITS)),
    ('accented-word-edges', lambda s: s.replace('e ', 'é ').replace(' c', ' ç')),
    ('em-space-eszett', lambda s: 'Straße\u2003' + s.replace(' ', '\u2003')),
]


def main() -> None:
    records, compiled, dev = load(SHARED)
    # Lines that match something and carry spaces, digits or words to rewrite; every k-th for spread.
    candidates = [d['line'] for d in dev if d['matches'] and ' ' in d['line']]
    step = max(1, len(candidates) // SOURCES)
    chosen = candidates[::step][:SOURCES]
    # Lines whose match needs a `\s` to take a separator: ASCII \x1e, and \x1d beside non-ASCII text.
    spacey = {r['id'] for r in records if REQUIRED_SPACE.search(r['regex'])}
    targeted = [d['line'] for d in dev if spacey.intersection(d['matches']) and ' ' in d['line']][:TARGETED]
    jobs = [(name, rewrite(line)) for line in chosen for name, rewrite in VARIANTS]
    jobs += [(name, rewrite(line)) for line in targeted for name, rewrite in (
        ('record-separator', lambda s: s.replace(' ', '\x1e')),
        ('group-separator-accents', lambda s: 'é\x1d' + s.replace(' ', '\x1d')),
    )]
    write_answers(OUT, compiled, jobs)


if __name__ == '__main__':
    main()
