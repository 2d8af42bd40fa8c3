"""Shared by the scripts/gen-*-fixture.py generators: the KB and dev lines in, Python's answers out.

Each answer line is {"case", "line", "matches"}: the ids of the records whose regex, compiled by
Python with IGNORECASE (logsift's default), finds a match in the line.
"""
import json
import os
import re


def load(shared: str):
    """The KB's records, compiled as (id, regex), and the dev lines (dicts with line/matches/source)."""
    records = [json.loads(l) for l in open(os.path.join(shared, 'kb', 'deadends.dev', 'records.jsonl'), encoding='utf-8') if l.strip()]
    compiled = [(r['id'], re.compile(r['regex'], re.IGNORECASE)) for r in records]
    dev = [json.loads(l) for l in open(os.path.join(shared, 'eval', 'dev-lines.jsonl'), encoding='utf-8') if l.strip()]
    return records, compiled, dev


def write_answers(out_path: str, compiled, jobs) -> None:
    """Writes one answer line per (case, text) job."""
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, 'w', encoding='utf-8') as out:
        for name, text in jobs:
            matches = sorted(rid for rid, rx in compiled if rx.search(text))
            out.write(json.dumps({'case': name, 'line': text, 'matches': matches}, ensure_ascii=False) + '\n')
    print(f'wrote {len(jobs)} lines to {out_path}')
