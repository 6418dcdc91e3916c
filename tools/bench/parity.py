#!/usr/bin/env python
"""Benchmark (not a test): the course's few lines, with fastnb and with fastai, as a student runs them.

Each run is a fresh Python process running the same script with one library or the other, on the same folder
(mnist_5k: 4,000 training and 1,000 validation digits, 28 px), with the library's defaults:

    dls = ImageDataLoaders.from_folder(path, train='train', valid='valid', num_workers=0)
    learn = vision_learner(dls, resnet18, pretrained=False, metrics=error_rate)
    learn.fit_one_cycle(2, 3e-3)

Runs alternate between the libraries (fastnb, fastai, fastnb, ...), one seed per pair. For each library it prints the
median whole-process time (start-up and imports included), the median fit time and the error rate over the seeds
(mean, sd, standard error), then the ratios, and the difference in error in standard errors.
Usage: python tools/bench/parity.py [--fastai-python /work/fastai-venv/bin/python] [--seeds 10] [--no-cache] [--quick]
       (fastai is skipped if its python is missing; --quick: 1 seed, 1 epoch on 128 training + 64 validation digits,
       to check that the script runs)
"""
import argparse, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path

SCRIPT = r'''
import json, time
from {lib}.vision.all import *
set_seed({seed})
path = {path!r}
dls = ImageDataLoaders.from_folder(path, train='train', valid='valid', num_workers=0{extra})
learn = vision_learner(dls, resnet18, pretrained=False, metrics=error_rate)
start = time.perf_counter()
learn.fit_one_cycle({epochs}, 3e-3)
seconds = time.perf_counter() - start
print('RESULT ' + json.dumps({{'fit': seconds, 'error_rate': float({error})}}))
'''
ERROR = {'fastnb': 'learn.recorder.metric_values[0]', 'fastai': 'learn.recorder.values[-1][2]'}

def run(python:str, lib:str, seed:int, path:str, extra:str='', epochs:int=2) -> dict:
    "Run the course script in a new process; its whole wall time, fit time and final error rate"
    code = SCRIPT.format(lib=lib, seed=seed, path=path, extra=extra, error=ERROR[lib], epochs=epochs)
    start = time.perf_counter()
    res = subprocess.run([python, '-c', code], capture_output=True, text=True)
    whole = time.perf_counter() - start
    lines = [l for l in res.stdout.splitlines() if l.startswith('RESULT ')]
    if res.returncode or not lines: sys.exit(f"{lib} (seed {seed}) failed:\n{res.stderr[-3000:]}")
    return {'whole': whole, **json.loads(lines[-1][len('RESULT '):])}

def summary(rows:list) -> dict:
    errs = [r['error_rate'] for r in rows]
    sd = statistics.stdev(errs) if len(errs) > 1 else 0.
    return {'whole': statistics.median(r['whole'] for r in rows), 'fit': statistics.median(r['fit'] for r in rows),
            'err': statistics.mean(errs), 'sd': sd, 'se': sd / len(errs) ** 0.5}

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--fastai-python', default=None, help="python of a venv with fastai 2.8.12 (pip install "
                        "fastai==2.8.12; default /work/fastai-venv/bin/python; skipped if missing; with --quick "
                        "only if given)")
    parser.add_argument('--seeds', type=int, default=10)
    parser.add_argument('--no-cache', action='store_true', help="fastnb with cache=False (decode every epoch, as "
                                                                "fastai does)")
    parser.add_argument('--quick', action='store_true', help="1 seed, 1 epoch, 128 + 64 digits: checks the script runs")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from vision import subset_folder, fastai_python  # tools/bench/vision.py
    from fastnb.datasets import get_dataset
    path, epochs = get_dataset('mnist_5k'), 2
    if args.quick:
        path, epochs, args.seeds = subset_folder(path, Path(tempfile.mkdtemp(prefix='mnist_subset_')), 128, 64), 1, 1
    path = str(path)
    extra = ', cache=False' if args.no_cache else ''
    results = {'fastnb': [], 'fastai': []}
    python = fastai_python(args.fastai_python, args.quick)
    if not python: del results['fastai']
    for seed in range(args.seeds):
        results['fastnb'].append(run(sys.executable, 'fastnb', seed, path, extra, epochs))
        if python: results['fastai'].append(run(python, 'fastai', seed, path, epochs=epochs))
        print(f"seed {seed}: " + '; '.join(f"{lib} {r[-1]['whole']:.1f} s whole, {r[-1]['fit']:.1f} s fit, error "
                                           f"{r[-1]['error_rate']:.4f}"
                                           for lib, r in results.items()), flush=True)
    s = {lib: summary(rows) for lib, rows in results.items()}
    print(f"\n{'':8} {'whole (median)':>15} {'fit (median)':>13} {'error mean':>11} {'sd':>7} {'se':>7}   "
          f"({args.seeds} seeds, {epochs} epochs, fastnb{extra or ' default (cached)'}"
          f"{'; --quick: 128 + 64 digits' if args.quick else ''})")
    for lib, v in s.items(): print(f"{lib:8} {v['whole']:14.1f}s {v['fit']:12.1f}s {v['err']:11.4f} {v['sd']:7.4f} "
                                   f"{v['se']:7.4f}")
    if 'fastai' not in s: return
    diff, se = s['fastnb']['err'] - s['fastai']['err'], (s['fastnb']['se'] ** 2 + s['fastai']['se'] ** 2) ** 0.5
    print(f"fastai/fastnb time: whole process {s['fastai']['whole'] / s['fastnb']['whole']:.2f}x, fit "
          f"{s['fastai']['fit'] / s['fastnb']['fit']:.2f}x; error fastnb - fastai = {diff:+.4f} "
          f"({diff / se if se else 0:+.1f} standard errors of the difference)")

if __name__ == '__main__': main()
