"""Benchmark: one long document for a language model, tokenized whole (the way before #30) against a piece at a time.

A document of `--mb` MB is made of the review snippets of `get_dataset('rotten_tomatoes')`, one a line, repeated.
Each run is a new process (peak memory, `ru_maxrss`, is per process), the two ways alternating, `--repeats` times:

- whole: the text tokenized in one go (`Tokenizer` with `piece_chars = None`: pre-rules on the whole string, one list of
  strings for the text), the vocab counted on the token list, `Numericalize` (int64), the stream one `torch.cat`;
- pieces: `tokenize_to_ids` (pieces of 100,000 characters, int32 indices), `make_vocab(ids.counts())`,
  `ids.numericalize(vocab)`, `LMDataset` (an int32 stream buffer).

Both without the tokens cache and without worker processes. Printed: each run's seconds (wall clock, best of the
repeats) and peak memory growth, and the ratios pieces / whole.

    python tools/bench/long_text.py [--mb 50] [--repeats 2] [--quick]

Measured (2026-12-07, a shared 2-core machine, 50 MB, 10,467,828 tokens, best of 2): whole 14.1 s, +1,321 MB;
pieces 13.6 s, +74 MB: time 0.97x, memory 0.06x (see nbs/41_text_data.ipynb for `TextDataLoaders.from_texts`).
"""
import sys
from pathlib import Path
# this checkout's fastnb, not an installed one, first
sys.path[0] = str(Path(__file__).resolve().parents[2])
import json, os, subprocess
from fastcore.script import call_parse, store_true

SCRIPT = r'''
import json, resource, sys, time
import pandas as pd, torch
from fastnb.datasets import get_dataset
from fastnb.text.core import Tokenizer, tokenize_to_ids, make_vocab, Numericalize
from fastnb.text.data import LMDataset
way, mb = sys.argv[1], float(sys.argv[2])
base = '\n'.join(pd.read_csv(get_dataset('rotten_tomatoes')/'texts.csv').text) + '\n'
doc = (base * int(mb * 1e6 // len(base) + 1))[:int(mb * 1e6)]
before, start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
if way == 'whole':
    tok = Tokenizer(); tok.piece_chars = None
    toks = [tok(doc)]
    vocab = make_vocab(toks)
    num = Numericalize(vocab)
    docs = [num(t) for t in toks]; del toks
    stream = torch.cat(docs); n_tokens = len(stream)
else:
    ids = tokenize_to_ids([doc], Tokenizer(), n_workers=0, cache=False)
    vocab = make_vocab(ids.counts())
    docs = ids.numericalize(vocab); del ids
    ds = LMDataset(docs, vocab, bs=64); n_tokens = len(ds.stream)
print(json.dumps(dict(s=time.perf_counter() - start, n_tokens=n_tokens, vocab=len(vocab),
                      mb=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)))
'''

def run(way:str, mb:float) -> dict:
    "One run of `way` ('whole' or 'pieces') on a document of `mb` MB, in a new process"
    env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[2]), 'OMP_NUM_THREADS': '1'}
    res = subprocess.run([sys.executable, '-c', SCRIPT, way, str(mb)], capture_output=True, text=True, env=env)
    if res.returncode != 0: sys.exit(f"The {way} run failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])

@call_parse
def main(mb:float=50, # the document's size, in MB
         repeats:int=2, # runs of each way, alternating
         quick:store_true=False): # a 1 MB document, once (seconds: the CI check that the script still runs)
    "Time and peak memory of one long document tokenized whole and in pieces"
    if quick: mb, repeats = 1, 1
    runs = {'whole': [], 'pieces': []}
    for _ in range(repeats):
        for way in runs: runs[way].append(run(way, mb)); print(way, runs[way][-1], flush=True)
    best = {way: dict(s=min(r['s'] for r in rs), mb=min(r['mb'] for r in rs), n_tokens=rs[0]['n_tokens'],
                      vocab=rs[0]['vocab']) for way, rs in runs.items()}
    assert best['whole']['n_tokens'] == best['pieces']['n_tokens'] and best['whole']['vocab'] == best['pieces']['vocab']
    for way, b in best.items(): print(f"{way:>6}: {b['s']:.1f} s, +{b['mb']:,.0f} MB peak ({b['n_tokens']:,} tokens)")
    time_ratio, memory_ratio = best['pieces']['s'] / best['whole']['s'], best['pieces']['mb'] / best['whole']['mb']
    print(f"pieces / whole: time {time_ratio:.2f}x, memory {memory_ratio:.2f}x")
