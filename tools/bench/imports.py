#!/usr/bin/env python
"""Benchmark (not a test): how long `import fastnb.vision.all` (and the tabular and collab `all` modules) takes on top
of `import torch, torchvision`, each in a fresh Python process, the runs alternating between the modules.

Each run is a new interpreter that imports torch and torchvision (timed), then the module (timed separately): the second
number is what fastnb adds to a script that uses torch anyway. Prints the median and range over `--repeats` runs, and
which big libraries the import left unloaded (pandas and matplotlib are lazy modules: imported when first used).
Usage: python tools/bench/imports.py [--repeats 5] [--modules fastnb.vision.all fastnb.tabular.all fastnb.collab.all]
       [--quick]   (--quick: one run of the first module, to check that the script runs)
"""
import argparse, json, os, statistics, subprocess, sys
from pathlib import Path
root = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, sys, time
start = time.perf_counter(); import torch, torchvision; base = time.perf_counter() - start
start = time.perf_counter(); import {module}; extra = time.perf_counter() - start
loaded = {{n: type(sys.modules[n]).__name__ == 'module'
          for n in ('pandas', 'matplotlib', 'matplotlib.pyplot', 'IPython', 'ipywidgets') if n in sys.modules}}
print(json.dumps(dict(base=base, extra=extra, loaded=loaded)))
'''

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--modules', nargs='+', default=['fastnb.vision.all', 'fastnb.tabular.all', 'fastnb.collab.all'])
    p.add_argument('--quick', action='store_true', help="one run of the first module: checks the script runs")
    args = p.parse_args()
    if args.quick: args.repeats, args.modules = 1, args.modules[:1]
    env = {**os.environ, 'PYTHONPATH': str(root)}
    runs = {m: [] for m in args.modules}
    for _ in range(args.repeats):
        for m in args.modules:
            res = subprocess.run([sys.executable, '-c', SCRIPT.format(module=m)], capture_output=True, text=True,
                                 env=env)
            if res.returncode: sys.exit(f"importing {m} failed:\n{res.stderr[-2000:]}")
            runs[m].append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"{args.repeats} fresh processes per module, alternating; load average {os.getloadavg()[0]:.1f}\n")
    print("| module | torch + torchvision, s | the module on top, s (median, range) | loaded by the import "
          "|\n|---|---|---|---|")
    for m, rs in runs.items():
        base, extra = [r['base'] for r in rs], [r['extra'] for r in rs]
        loaded = ', '.join(n for n, on in rs[-1]['loaded'].items() if on) or ('none of pandas, matplotlib, IPython, '
                                                                              'ipywidgets')
        print(f"| `{m}` | {statistics.median(base):.2f} | {statistics.median(extra):.2f} "
              f"({min(extra):.2f}-{max(extra):.2f}) | {loaded} |")

if __name__ == '__main__': main()
