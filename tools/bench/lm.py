#!/usr/bin/env python
"""Benchmark (not a test): the course's language-model step, with fastnb and with fastai, on the same reviews and split.

Each run is a fresh Python process running the same few lines with one library or the other:

    dls = TextDataLoaders.from_df(df, text_col='text', is_lm=True, valid_col='is_valid', bs=32, seq_len=40)
    learn = language_model_learner(dls, AWD_LSTM, pretrained=False, drop_mult=0.3, metrics=[accuracy, Perplexity()])
    learn.fit_one_cycle(2, 2e-2)

on the first `--n-reviews` reviews of `get_dataset('rotten_tomatoes')`, 10% of them (the same ones for both, chosen
with seed 42) held out for validation. Each library tokenizes with its own default tokenizer (fastai: spaCy + its rules;
fastnb: its own rules), so the vocabularies differ by a few words. Runs alternate (fastnb, fastai, fastnb, ...), one
seed per pair, `--threads` torch threads each. Printed: each run's losses per epoch, accuracy, perplexity and fit time,
then for each library the mean final validation loss over the seeds (sd, standard error), the median fit time, and the
difference in validation loss (fastnb - fastai) with its standard error.
Usage: python tools/bench/lm.py /work/fastai-venv/bin/python [--seeds 3] [--n-reviews 800] [--epochs 2] [--threads 2]
       (`--only fastnb` skips fastai; `--quick`: 1 seed, 1 epoch, 200 reviews in batches of 16, a small AWD-LSTM (2
       layers of 64), fastai only if its python is given: checks that the script runs)
"""
import argparse, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path

SCRIPT = r'''
import json, time, torch, pandas as pd
from {lib}.text.all import *
torch.set_num_threads({threads})
set_seed({seed})
df = pd.read_csv({csv!r})
dls = TextDataLoaders.from_df(df, text_col='text', is_lm=True, valid_col='is_valid', bs={bs}, seq_len=40)
learn = language_model_learner(dls, AWD_LSTM, config={config}, pretrained=False, drop_mult=0.3,
                               metrics=[accuracy, Perplexity()])
{quiet}
start = time.perf_counter()
learn.fit_one_cycle({epochs}, 2e-2)
seconds = time.perf_counter() - start
print('RESULT ' + json.dumps({{'fit': seconds, 'vocab': len({vocab}), 'epochs': {history}}}))
'''
# what each library calls the vocab, and its history as [train loss, valid loss, accuracy, perplexity] per epoch
VOCAB = {'fastnb': 'dls.text_vocab', 'fastai': 'dls.vocab'}
HISTORY = {'fastnb': "[[float(v) for v in row[1:5]] for row in learn.recorder.history.itertuples(index=False)]",
           'fastai': "[[float(v) for v in row[:4]] for row in learn.recorder.values]"}
# --quick: a small AWD-LSTM (fastnb's `config` updates its defaults; fastai's replaces them)
SMALL = {'fastnb': "dict(emb_sz=40, n_hid=64, n_layers=2)",
         'fastai': "{**awd_lstm_lm_config, 'emb_sz': 40, 'n_hid': 64, 'n_layers': 2}"}
QUIET = {'fastnb': "learn.silent = True", 'fastai': "learn.remove_cbs([ProgressCallback]); learn.logger = lambda *a: "
                                                    "None"}

def run(python:str, lib:str, seed:int, csv:str, epochs:int, threads:int, bs:int=32, small:bool=False) -> dict:
    "Run the course lines in a new process with `lib`; its fit time, vocab size and per-epoch history"
    code = SCRIPT.format(lib=lib, seed=seed, csv=csv, epochs=epochs, threads=threads, bs=bs, vocab=VOCAB[lib],
                         config=SMALL[lib] if small else None, history=HISTORY[lib], quiet=QUIET[lib])
    res = subprocess.run([python, '-c', code], capture_output=True, text=True)
    lines = [l for l in res.stdout.splitlines() if l.startswith('RESULT ')]
    if res.returncode or not lines: sys.exit(f"{lib} (seed {seed}) failed:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}")
    return json.loads(lines[-1][len('RESULT '):])

def write_reviews(n:int, dest:Path, seed:int=42) -> Path:
    "The first `n` reviews as a CSV with an `is_valid` column marking a random 10% (the same for both libraries)"
    import numpy as np, pandas as pd
    from fastnb.datasets import get_dataset
    df = pd.read_csv(get_dataset('rotten_tomatoes')/'texts.csv').iloc[:n][['text']].copy()
    is_valid = np.zeros(len(df), dtype=bool)
    is_valid[np.random.RandomState(seed).permutation(len(df))[:len(df) // 10]] = True
    df['is_valid'] = is_valid
    df.to_csv(dest, index=False)
    return dest

def summary(rows:list) -> dict:
    losses = [r['epochs'][-1][1] for r in rows]
    sd = statistics.stdev(losses) if len(losses) > 1 else 0.
    return {'loss': statistics.mean(losses), 'sd': sd, 'se': sd / len(losses) ** 0.5,
            'fit': statistics.median(r['fit'] for r in rows),
            'acc': statistics.mean(r['epochs'][-1][2] for r in rows),
            'ppl': statistics.mean(r['epochs'][-1][3] for r in rows)}

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('fastai_python', nargs='?', default=None, help="python of a venv with fastai 2.8.12 (pip "
                                                                       "install fastai==2.8.12)")
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--first-seed', type=int, default=0)
    parser.add_argument('--n-reviews', type=int, default=800)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--only', choices=['fastnb', 'fastai'], default=None)
    parser.add_argument('--quick', action='store_true', help="1 seed, 1 epoch, 200 reviews, batches of 16, a small "
                        "AWD-LSTM: checks the script runs (fastai only if its python is given)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    bs = 32
    if args.quick: args.seeds, args.epochs, args.n_reviews, bs = 1, 1, 200, 16
    libs = [l for l in ('fastnb', 'fastai') if args.only in (None, l)]
    if 'fastai' in libs and args.fastai_python is None:
        if not args.quick: parser.error("give fastai's python (or --only fastnb)")
        print("fastai skipped: no fastai python given (--quick runs fastnb alone)"); libs.remove('fastai')
    pythons = {'fastnb': sys.executable, 'fastai': args.fastai_python}
    results = {lib: [] for lib in libs}
    with tempfile.TemporaryDirectory() as tmp:
        csv = str(write_reviews(args.n_reviews, Path(tmp)/'reviews.csv'))
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for lib in libs:
                r = run(pythons[lib], lib, seed, csv, args.epochs, args.threads, bs, small=args.quick)
                results[lib].append(r)
                print(f"seed {seed} {lib:6}: vocab {r['vocab']:,}, fit {r['fit']:.1f} s; per epoch (train loss, valid "
                      "loss, accuracy, perplexity): " + '; '.join(f"{t:.3f} {v:.3f} {a:.3f} {p:,.1f}"
                                                                  for t, v, a, p in r['epochs']), flush=True)
    s = {lib: summary(rows) for lib, rows in results.items()}
    print(f"\n{args.n_reviews} reviews, {args.epochs} epochs, {args.seeds} seeds, {args.threads} threads, batch {bs}"
          f"{', a small AWD-LSTM (--quick)' if args.quick else ''}")
    print(f"{'':8} {'valid loss':>10} {'sd':>6} {'se':>6} {'accuracy':>9} {'perplexity':>11} {'fit (median)':>13}")
    for lib, v in s.items():
        print(f"{lib:8} {v['loss']:10.3f} {v['sd']:6.3f} {v['se']:6.3f} {v['acc']:9.3f} {v['ppl']:11.1f} "
              f"{v['fit']:12.1f}s")
    if len(s) == 2:
        diff, se = s['fastnb']['loss'] - s['fastai']['loss'], (s['fastnb']['se'] ** 2 + s['fastai']['se'] ** 2) ** 0.5
        print(f"valid loss fastnb - fastai = {diff:+.3f} (se of the difference {se:.3f}); upper end (+3 se) "
              f"{diff + 3 * se:+.3f}; fit time fastai/fastnb {s['fastai']['fit'] / s['fastnb']['fit']:.2f}x")

if __name__ == '__main__': main()
