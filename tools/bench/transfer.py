#!/usr/bin/env python
"""Benchmark (not a test): time to reach an error goal on stamps' six categories with EfficientNet-Lite0, whole runs
side by side, alternating, in separate processes (issue #27 item 5, #32 item 5):

1. fastnb, pretrained: `vision_learner(dls, 'efficientnet_lite0')` (the pip package's ImageNet weights) + `fine_tune`;
2. fastnb, the same network from random weights + `fit_one_cycle` for as many epochs;
3. fastai 2.8.12 (its own venv, skipped if `--fastai-python` doesn't exist), given the same weights through timm's
   `tf_efficientnet_lite0` (`pretrained_cfg_overlay=dict(file=...)`, the key map of `fastnb.vision.models`), the same
   files, the same split (fastnb's validation files), the same recipe.

Recipe (the course's lesson 1): 128-pixel squished pictures, batch 32, `fine_tune(EPOCHS, base_lr=2e-3)`. Each epoch's
end is timestamped; the time to goal is the training time (data loading included, process start-up excluded) at
the first epoch whose validation error is at most `--goal`. Prints a table per run and the ratios fastai/fastnb.
Usage: python tools/bench/transfer.py [--fastai-python /work/fastai-venv/bin/python] [--seeds 0 1 2] [--goal 0.2]
       [--size 128] [--epochs 3] [--threads 2] [--quick]   (--quick: 1 seed, 48 px, 1 epoch, 8 pictures per category:
       checks the script runs)
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]

FASTNB_WORKER = r'''
import json, sys, time, torch
sys.path.insert(0, {root!r})
from fastnb.vision.all import *
torch.set_num_threads({threads})
set_seed({seed})
path = Path({path!r})
dls = ImageDataLoaders.from_folder(path, valid_pct=0.2, seed=42, item_tfms=Resize({size}, method='squish'), bs=32,
                                   num_workers=0)
marks = []
class Marks(Callback):
    order = 100
    def after_epoch(self): marks.append((time.perf_counter(), self.learn.recorder.metric_values[0]))
learn = vision_learner(dls, 'efficientnet_lite0', pretrained={pretrained}, metrics=error_rate, silent=True, cbs=Marks())
start = time.perf_counter()
if {pretrained}: learn.fine_tune({epochs}, base_lr=2e-3)
else: learn.fit_one_cycle({epochs} + 1, 1e-2)
print(json.dumps({{'valid': sorted(str(Path(f).relative_to(path)) for f in dls.valid_ds.items),
                   'marks': [(t - start, e) for t, e in marks]}}))
'''

FASTAI_WORKER = r'''
import json, sys, time, torch
from fastai.vision.all import *
torch.set_num_threads({threads})
set_seed({seed})
path = Path({path!r})
valid = set(json.loads(Path({valid_file!r}).read_text()))
dblock = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, get_y=parent_label,
                   splitter=FuncSplitter(lambda f: str(f.relative_to(path)) in valid),
                   item_tfms=Resize({size}, method='squish'))
dls = dblock.dataloaders(path, bs=32, num_workers=0)
marks = []
class Marks(Callback):
    order = 100
    def after_epoch(self): marks.append((time.perf_counter(), float(self.learn.recorder.values[-1][2])))
learn = vision_learner(dls, 'tf_efficientnet_lite0', pretrained=True, metrics=error_rate, cbs=Marks(),
                       pretrained_cfg_overlay=dict(file={weights!r}))
with learn.no_bar(), learn.no_logging():
    start = time.perf_counter(); learn.fine_tune({epochs}, base_lr=2e-3)
print(json.dumps({{'n_valid': len(dls.valid_ds), 'marks': [(t - start, e) for t, e in marks]}}))
'''

def run(python, script) -> dict:
    "Run `script` with `python` in a fresh process; its last line of output, as JSON"
    res = subprocess.run([python, '-c', script], capture_output=True, text=True,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})
    if res.returncode: raise SystemExit(f"a run failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])

def time_to_goal(marks, goal) -> float:
    "Seconds of training until the first epoch with error <= goal (inf if never)"
    return next((t for t, e in marks if e <= goal), float('inf'))

def first_of_each(path:Path, dest:Path, n:int) -> Path:
    "`dest` with a folder per category of `path` linking its first `n` pictures (for --quick)"
    for c in sorted(d for d in path.iterdir() if d.is_dir()):
        (dest/c.name).mkdir(parents=True)
        for f in sorted(c.iterdir())[:n]: (dest/c.name/f.name).symlink_to(f)
    return dest

def timm_lite0_file(folder:Path) -> str:
    "The pip package's EfficientNet-Lite0 weights under timm's names, saved in `folder` for fastai's timm"
    sys.path.insert(0, str(ROOT))
    import torch
    from fastnb.vision.models import create_model
    f = folder/'tf_efficientnet_lite0.pth'
    torch.save(create_model('efficientnet_lite0').state_dict(), f)
    return str(f)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--fastai-python', default=None, help="python of a venv with fastai 2.8.12 (default "
                   "/work/fastai-venv/bin/python; skipped if missing; with --quick only if given)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--goal', type=float, default=0.2)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--quick', action='store_true')
    p.add_argument('--json', default=None, help='write the runs here')
    a = p.parse_args()
    if a.quick: a.seeds, a.size, a.epochs = a.seeds[:1], 48, 1
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from vision import fastai_python  # tools/bench/vision.py
    python = fastai_python(a.fastai_python, a.quick)
    has_fastai = python is not None
    sys.path.insert(0, str(ROOT))
    from fastnb.datasets import get_dataset
    rows, data = [], get_dataset('stamps')/'categories'
    with tempfile.TemporaryDirectory() as tmp:
        if a.quick: data = first_of_each(data, Path(tmp)/'stamps', 8)
        weights = timm_lite0_file(Path(tmp)) if has_fastai else None
        for seed in a.seeds:
            args = dict(root=str(ROOT), path=str(data), threads=a.threads, seed=seed, size=a.size, epochs=a.epochs)
            pre = run(sys.executable, FASTNB_WORKER.format(pretrained=True, **args))
            rows.append(dict(seed=seed, run='fastnb pretrained', marks=pre['marks']))
            if has_fastai:
                valid_file = Path(tmp)/'valid.json'; valid_file.write_text(json.dumps(pre['valid']))
                fa = run(python, FASTAI_WORKER.format(valid_file=str(valid_file), weights=weights, **args))
                assert fa['n_valid'] == len(pre['valid']), fa
                rows.append(dict(seed=seed, run='fastai pretrained', marks=fa['marks']))
            scratch = run(sys.executable, FASTNB_WORKER.format(pretrained=False, **args))
            rows.append(dict(seed=seed, run='fastnb scratch', marks=scratch['marks']))
            for r in rows[-(3 if has_fastai else 2):]:
                errors, seconds = [round(e, 3) for _, e in r['marks']], [round(t, 1) for t, _ in r['marks']]
                print(f"seed {seed} {r['run']:18} errors {errors} train s {seconds} "
                      f"to goal {time_to_goal(r['marks'], a.goal):.1f} s", flush=True)
    print(f"\ngoal: error <= {a.goal} on stamps ({a.size} px, fine_tune({a.epochs})); seconds of training to reach it:")
    by_run = {}
    for r in rows: by_run.setdefault(r['run'], []).append(r)
    for name, rs in by_run.items():
        ttg = [time_to_goal(r['marks'], a.goal) for r in rs]
        final = [r['marks'][-1][1] for r in rs]
        print(f"  {name:18} to goal {[round(t, 1) for t in ttg]}  final error {[round(e, 3) for e in final]}  "
              f"total s {[round(r['marks'][-1][0], 1) for r in rs]}")
    if has_fastai:
        pairs = zip(by_run['fastnb pretrained'], by_run['fastai pretrained'])
        ratios = [f['marks'][-1][0] / n['marks'][-1][0] for n, f in pairs]
        print(f"  whole recipe time, fastai / fastnb: {[round(x, 2) for x in ratios]} "
              f"(mean {sum(ratios) / len(ratios):.2f})")
    if a.json: Path(a.json).write_text(json.dumps(dict(args=vars(a), rows=rows)))

if __name__ == '__main__': main()
