"""Benchmark: fastnb's tokenizer against fastai 2.8's default tokenizer (spaCy's English tokenizer + fastai's rules) on
the news corpus.

Both tokenize the same texts (the 3,788 articles of `get_dataset('news')`, about 2 million words) in one process, with
their default rules (fix HTML, repetitions, capitals, `xxbos` first), `--repeats` times; the best time of each (the
CPU time of its process, which other processes on a shared machine don't inflate), the words per second and the ratio
are printed. fastai runs in its own virtual environment (it pulls in spaCy and its own
fastcore), given by the path of its Python:

    python3 -m venv /work/fastai-venv && /work/fastai-venv/bin/pip install fastai==2.8.12 spacy
    python tools/bench/tokenizer.py --fastai_python /work/fastai-venv/bin/python [--repeats 3] [--n_texts 0] [--quick]

(`--quick`: one run on the first 50 texts, to check that the script runs.)

Without `--fastai_python`, only fastnb's throughput is printed. Token counts differ a little (the two cut some
punctuation and contractions differently); the throughput is counted in the corpus's words (whitespace-separated),
so that the two are measured on the same work.

Measured (2026-12-01, a shared 2-core machine, CPU time, best of 2): fastnb 1.87 s (1,108 k words/s), fastai 2.8.12 with
spaCy 3.8 17.91 s (115 k words/s): fastnb is 9.6x fastai's throughput.
"""
import sys
from pathlib import Path
# this checkout's fastnb, not an installed one, first
sys.path[0] = str(Path(__file__).resolve().parents[2])
import json, subprocess, tempfile, time
from fastcore.script import call_parse, Param, store_true

from fastnb.datasets import get_dataset
from fastnb.text.core import Tokenizer, tokenize_texts
from fastnb.text.data import read_texts

FASTAI_SCRIPT = r'''
import json, sys, time
from fastai.text.core import SpacyTokenizer, TokenizeWithRules
texts = json.load(open(sys.argv[1], encoding='utf-8'))
tok = TokenizeWithRules(SpacyTokenizer(lang='en'))
times = []
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    toks = [list(o) for o in tok(texts)]
    times.append(time.process_time() - start)
print(json.dumps({'seconds': min(times), 'n_tokens': sum(map(len, toks)), 'sample': toks[0][:30]}))
'''

def time_fastnb(texts:list, repeats:int) -> dict:
    "Best time of fastnb's default `Tokenizer` over `texts` in this process (no cache, no worker processes)"
    times = []
    for _ in range(repeats):
        start = time.process_time()
        toks = tokenize_texts(texts, Tokenizer(), n_workers=0, cache=False)
        times.append(time.process_time() - start)
    return {'seconds': min(times), 'n_tokens': sum(map(len, toks)), 'sample': toks[0][:30]}

def time_fastai(texts:list, repeats:int, python:str) -> dict:
    "Best time of fastai's default tokenizer, run by `python` (a venv with fastai and spaCy)"
    with tempfile.NamedTemporaryFile('w', suffix='.json', encoding='utf-8', delete=False) as f: json.dump(texts, f)
    res = subprocess.run([python, '-c', FASTAI_SCRIPT, f.name, str(repeats)], capture_output=True, text=True)
    Path(f.name).unlink()
    if res.returncode != 0: sys.exit(f"fastai's run failed (is {python} a venv with fastai==2.8.12 and "
                                     f"spacy?):\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])

@call_parse
def main(fastai_python:Param("Python of a venv with fastai 2.8.12 and spaCy", str)=None,
         repeats:Param("Runs of each tokenizer (the best is kept)", int)=3,
         n_texts:Param("Use the first n texts only (0: all)", int)=0,
         quick:Param("One run on the first 50 texts (unless n_texts says): checks the script runs", store_true)=False):
    "Print the throughput of fastnb's and fastai's default tokenizers on the news corpus, and their ratio"
    if quick: repeats, n_texts = 1, n_texts or 50
    news = get_dataset('news')
    texts = read_texts(sorted((news/'train').glob('*.txt')) + sorted((news/'valid').glob('*.txt')))
    if n_texts: texts = texts[:n_texts]
    n_words = sum(len(t.split()) for t in texts)
    print(f"news corpus: {len(texts):,} texts, {n_words:,} words, {sum(map(len, texts)) / 1e6:.1f} M characters; one "
          f"process each, CPU time, best of {repeats}")
    results = {'fastnb': time_fastnb(texts, repeats)}
    if fastai_python: results['fastai 2.8 (spaCy)'] = time_fastai(texts, repeats, fastai_python)
    for name, r in results.items():
        print(f"{name:<20} {r['seconds']:7.2f} s  {n_words / r['seconds'] / 1e3:8.0f} k words/s  {r['n_tokens']:,} "
              "tokens")
        print(f"{'':<20} {' '.join(r['sample'])}")
    if len(results) == 2:
        ratio = results['fastai 2.8 (spaCy)']['seconds'] / results['fastnb']['seconds']
        print(f"fastnb is {ratio:.1f}x fastai's throughput (target: >= 5x)")
