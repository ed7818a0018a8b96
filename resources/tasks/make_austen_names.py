#!/usr/bin/env python3
"""Builds resources/tasks/austen-names.jsonl, the shipped generation task (completion format:
{"prompt", "target"}): in a paragraph of the models' training text (austen-train.txt: Emma,
Mansfield Park, Pride and Prejudice, Sense and Sensibility) a title (Mr., Mrs., Miss, Lady, Sir, Captain, Admiral, Colonel) is followed by a
name that the same paragraph already gave after the same title; the prompt is the paragraph up to
and including that title (verbatim, line breaks kept, at most ~600 characters back to a sentence
start), the target is the name. Answering means recalling a name the paragraph gave (the held-out
Persuasion's names are unknown to the 1.8 M-parameter demo model: it scores 0/30 there).
Deterministic: the first such occurrence of each paragraph, then every k-th paragraph so that 30
items spread over the novel.

    python3 resources/tasks/make_austen_names.py /work/shared/corpus/austen-train.txt > resources/tasks/austen-names.jsonl
"""
import json
import re
import sys

TITLE = re.compile(r"\b(Mr\.|Mrs\.|Miss|Lady|Sir|Captain|Admiral|Colonel) ([A-Z][a-z]+)")
N_ITEMS = 30
MAX_CHARS = 600


def item_of(par):
    seen = set()
    for m in TITLE.finditer(par):
        key = (m.group(1), m.group(2))
        if key in seen:
            end = m.start(2) - 1  # the prompt ends with the title, the space goes to the target
            start = max(0, end - MAX_CHARS)
            if start > 0:  # move forward to a sentence start
                s = re.search(r"[.!?]\s+", par[start:end])
                start = start + s.end() if s else start
            return {"prompt": par[start:end], "target": m.group(2)}
        seen.add(key)
    return None


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    pars = [p.strip("\n") for p in re.split(r"\n\s*\n", text)]
    items = [it for it in (item_of(p) for p in pars) if it]
    step = max(1, len(items) // N_ITEMS)
    for it in items[::step][:N_ITEMS]:
        print(json.dumps(it, ensure_ascii=False))


main()
