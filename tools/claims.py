"""Do a notebook's claims hold on every run? Run it under several seeds and thread counts and report the numbers.

    python tools/claims.py nbs/tutorials/pretrain.ipynb --show errors gain --threads 1 2

Each run executes the notebook as `nbdev_test` does (cells flagged `slow`, `gpu` or `notest` skipped unless given with
`--flags`), in a fresh process with `FASTNB_SEED_OFFSET=k` (so every `set_seed(s)` seeds with `s + k`) and
`OMP_NUM_THREADS=t`. It prints one line per run (passed or the failing cell's error) with the values of the `--show`
variables (or expressions) taken from the notebook's namespace at the end, then each numeric variable's mean, standard
deviation and range over the runs. A claim holds with a margin of m standard deviations when its threshold is m sd
beyond the mean.
"""
import argparse, itertools, json, os, statistics, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RUNNER = r'''
import json, os, sys
from fastcore.basics import str2bool
from fastcore.xtras import working_directory
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc
from execnb.shell import CaptureShell
from fastnb.nbparse import should_run, SKIP_FLAGS
fn, flags, exprs = sys.argv[1], set(sys.argv[2].split()), json.loads(sys.argv[3])
os.environ['IN_TEST'] = '1'
nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
def skip(cell): return not should_run(cell, set(SKIP_FLAGS) - flags)  # the rule nbdev_test and the docs use
shell, error = CaptureShell(fn), None
with working_directory(os.path.dirname(os.path.abspath(fn))):
    try: shell.run_all(nb, exc_stop=True, preproc=skip)
    except Exception as e: error = f"{type(e).__name__}: {str(e)[:300]}"
def plain(v):
    if hasattr(v, 'to_dict'): return {str(k): plain(x) for k, x in v.to_dict().items()}
    if hasattr(v, 'tolist'): return v.tolist()
    if isinstance(v, (list, tuple)): return [plain(x) for x in v]
    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (int, float, str, bool)) or v is None: return v
    try: return float(v)
    except Exception: return repr(v)[:200]
def value(expr):
    try: return plain(eval(expr, shell.user_ns))
    except Exception as e: return f'<{type(e).__name__}>'
print('CLAIMS-RESULT ' + json.dumps({'error': error, 'values': {e: value(e) for e in exprs}}))
'''

def run_once(nb:str, offset:int, threads:int, flags:str, exprs:list, timeout:int) -> dict:
    env = dict(os.environ, FASTNB_SEED_OFFSET=str(offset), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    try:
        res = subprocess.run([sys.executable, '-c', RUNNER, nb, flags, json.dumps(exprs)], capture_output=True,
                             text=True, env=env, timeout=timeout)
        line = next((l for l in res.stdout.splitlines() if l.startswith('CLAIMS-RESULT ')), None)
        out = json.loads(line[len('CLAIMS-RESULT '):]) if line else {'error': f"no result (exit {res.returncode}): "
                                                                              f"{res.stderr[-300:]}", 'values': {}}
    except subprocess.TimeoutExpired: out = {'error': f'timed out after {timeout} s', 'values': {}}
    return dict(out, offset=offset, threads=threads, seconds=round(time.perf_counter() - start, 1))

def numbers(v, prefix=''):
    "Flatten a value into {name: float} for the numeric parts"
    if isinstance(v, bool): return {}
    if isinstance(v, (int, float)): return {prefix: float(v)}
    if isinstance(v, dict): return {k: x for key, val in v.items()
                                    for k, x in numbers(val, f'{prefix}.{key}' if prefix else key).items()}
    if isinstance(v, list) and len(v) <= 12: return {k: x for i, val in enumerate(v)
                                                     for k, x in numbers(val, f'{prefix}[{i}]').items()}
    return {}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='+')
    p.add_argument('--show', nargs='*', default=[], help='variables or expressions to report from each run')
    p.add_argument('--offsets', type=int, nargs='+', default=[0, 1000, 2000, 3000, 4000],
                   help='seed offsets; far apart, so that a notebook looping over seeds 0..9 gets other seeds, not a '
                        'shifted window')
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    p.add_argument('--flags', default='', help='cell flags to run too, e.g. "slow"')
    p.add_argument('--jobs', type=int, default=None, help='runs at a time (default: 2 // threads)')
    p.add_argument('--timeout', type=int, default=1800)
    p.add_argument('--json', help='also write every run to this file')
    args = p.parse_args(argv)
    runs = []
    for nb in args.notebooks:
        for threads in args.threads:
            jobs = args.jobs or max(1, (os.cpu_count() or 2) // threads)
            with ThreadPoolExecutor(jobs) as pool:
                futures = [pool.submit(run_once, nb, o, threads, args.flags, args.show,
                                       args.timeout) for o in args.offsets]
                for f in futures:
                    r = f.result(); r['notebook'] = nb; runs.append(r)
                    status = 'passed' if r['error'] is None else f"FAILED {r['error']}"
                    print(f"{Path(nb).name} offset={r['offset']} threads={threads} {r['seconds']:.0f}s {status} "
                          f"{json.dumps(r['values'])[:600]}", flush=True)
    for nb in args.notebooks:
        mine = [r for r in runs if r['notebook'] == nb]
        print(f"\n{nb}: {sum(r['error'] is None for r in mine)} of {len(mine)} runs passed")
        flat = [numbers(r['values']) for r in mine]
        for key in sorted(set(itertools.chain.from_iterable(flat))):
            xs = [f[key] for f in flat if key in f]
            sd = statistics.stdev(xs) if len(xs) > 1 else float('nan')
            print(f"  {key}: mean {statistics.fmean(xs):.4g}, sd {sd:.3g}, min {min(xs):.4g}, max {max(xs):.4g} "
                  f"(n={len(xs)})")
    if args.json: Path(args.json).write_text(json.dumps(runs, indent=1))
    return 0 if all(r['error'] is None for r in runs) else 1

if __name__ == '__main__': sys.exit(main())
