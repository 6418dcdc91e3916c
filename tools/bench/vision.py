#!/usr/bin/env python
"""Benchmark (not a test): one epoch of `vision_learner(resnet18)` from scratch on mnist_5k (4,000 training + 1,000
validation digits, 28 px, batch 64, one-cycle) timed three ways on the same machine, in the same run:

1. fastnb: `vision_learner` + `fit_one_cycle`, images decoded once (the data layer's default, `cache_items`);
2. a plain PyTorch loop: the same model, the same decoded tensors, AdamW + OneCycleLR with the same schedule, with
   torch's fused AdamW step (as fastnb's optimizer uses by default) and, as a second row, torch's default step;
3. fastai 2.8 (skipped if `--fastai-python` doesn't exist): its `vision_learner` + `fit_one_cycle` on the same folders.

Prints images/s (training images of the epoch / seconds for the epoch, validation included) and the ratios.
Usage: python tools/bench/vision.py [--fastai-python /work/fastai-venv/bin/python] [--threads N] [--epochs 1]
       [--quick]   (--quick: 128 training + 64 validation digits, to check that the script runs)
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch
import torch.nn.functional as F

FASTAI_SCRIPT = r'''
import json, sys, time, torch
from fastai.vision.all import *
torch.set_num_threads({threads})
set_seed({seed})
dls = ImageDataLoaders.from_folder({path!r}, train='train', valid='valid', bs={bs}, num_workers=0)
learn = vision_learner(dls, resnet18, pretrained=False, metrics=error_rate)
with learn.no_bar(), learn.no_logging():
    start = time.perf_counter(); learn.fit_one_cycle({epochs}, {lr}); seconds = time.perf_counter() - start
print(json.dumps({{'seconds': seconds, 'error_rate': float(learn.recorder.values[-1][2]),
                  'n_train': len(dls.train_ds)}}))
'''

FASTAI_PYTHON = '/work/fastai-venv/bin/python'  # the peer's venv, by default

def fastai_python(given:str|None, quick:bool=False) -> str|None:
    "The python of fastai's venv for the peer, or None (saying why): `given`, else the default one unless `quick`"
    python = given or (None if quick else FASTAI_PYTHON)
    if python is None: print("fastai skipped: --quick runs without the peer unless --fastai-python is given")
    elif not Path(python).exists(): print(f"fastai skipped: no {python}"); python = None
    return python

def subset_folder(path:Path, dest:Path, n_train:int, n_valid:int) -> Path:
    "`dest` with train/ and valid/ class folders linking the first `n_*` / classes images of each class of `path`"
    for split, n in (('train', n_train), ('valid', n_valid)):
        classes = sorted(d for d in (path/split).iterdir() if d.is_dir())
        for c in classes:
            (dest/split/c.name).mkdir(parents=True, exist_ok=True)
            for f in sorted(c.iterdir())[:max(1, n // len(classes))]: (dest/split/c.name/f.name).symlink_to(f)
    return dest

def bench_fastnb(path, bs, epochs, lr, seed=42, cache=True):
    "One fit of fastnb's `vision_learner`; `cache=False` decodes the images every epoch (as fastai does)"
    from fastnb.torch_core import set_seed
    from fastnb.metrics import error_rate
    from fastnb.callback.schedule import fit_one_cycle  # noqa: F401 (patches Learner)
    from fastnb.vision.data import ImageDataLoaders
    from fastnb.vision.learner import vision_learner
    set_seed(seed)
    dls = ImageDataLoaders.from_folder(path, bs=bs, num_workers=0, cache=cache)
    learn = vision_learner(dls, 'resnet18', pretrained=False, metrics=error_rate)
    learn.silent = True
    start = time.perf_counter(); learn.fit_one_cycle(epochs, lr); seconds = time.perf_counter() - start
    return dict(seconds=seconds, error_rate=learn.recorder.values[-1][2], n_train=len(dls.train_ds)), dls

def _stacked(dl) -> list:
    "The items of `dl` after its item transforms, stacked into one tensor per element"
    items = [dl.items.make(i) for i in range(len(dl.dataset))]
    return [torch.stack([torch.as_tensor(s[k]) for s in items]) for k in range(len(items[0]))]

def plain_optimizer(model, lr, total_steps, wd=0.01, fused=True, no_wd=()):
    ("torch AdamW (no decay on biases, norms and `no_wd`) and OneCycleLR with fastnb's (and fastai's) `fit_one_cycle` "
     "schedule")
    skip = {id(p) for p in no_wd}
    decay = [p for p in model.parameters() if p.ndim > 1 and id(p) not in skip]
    no_decay = [p for p in model.parameters() if p.ndim <= 1 or id(p) in skip]
    opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.}], lr=lr, betas=(0.9, 0.99),
                            eps=1e-5, weight_decay=wd,
                            fused=fused or None)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps, pct_start=0.25, div_factor=25.,
                                                final_div_factor=1e5 / 25, base_momentum=0.85, max_momentum=0.95)
    return opt, sched

def plain_fit(model, train:tuple, valid:tuple, bs, epochs, lr, wd, loss_func, metric, no_wd=(), fused=True,
              prep=lambda x: x) -> dict:
    ("Fit `model` on tensors `(*inputs, y)` with AdamW + OneCycleLR (shuffled, last partial batch dropped), each input "
     "batch through `prep`; the final `metric` on `valid`")
    *xs, ys = train
    *vxs, vys = valid
    n_batches = len(ys) // bs
    opt, sched = plain_optimizer(model, lr, epochs * n_batches, wd=wd, fused=fused, no_wd=no_wd)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(ys))
        for i in range(n_batches):
            idx = perm[i*bs:(i+1)*bs]
            loss = loss_func(model(*[prep(x[idx]) for x in xs]), ys[idx])
            loss.backward(); opt.step(); opt.zero_grad(); sched.step()
        model.eval()
        with torch.no_grad():
            preds = torch.cat([model(*[prep(x[i:i+bs]) for x in vxs]) for i in range(0, len(vys), bs)])
    return dict(seconds=time.perf_counter() - start, metric=float(metric(preds, vys)), n_train=len(ys))

def bench_plain(dls, bs, epochs, lr, fused=True, seed=42):
    "The same model, data tensors and schedule in a plain PyTorch loop"
    from fastnb.torch_core import set_seed
    from fastnb.vision.learner import vision_model
    set_seed(seed)
    r = plain_fit(vision_model('resnet18', 10), _stacked(dls.train), _stacked(dls.valid), bs, epochs, lr, 0.01,
                  F.cross_entropy,
                  lambda preds, y: (preds.argmax(1) != y).float().mean(), fused=fused,
                  prep=lambda x: x.float().div_(255))
    return dict(seconds=r['seconds'], error_rate=r['metric'], n_train=r['n_train'])

def run_script(python, script) -> dict:
    "Run `script` with `python` in a new process; the JSON object its last line of output prints"
    res = subprocess.run([python, '-c', script], capture_output=True, text=True)
    if res.returncode != 0: raise RuntimeError(f"fastai run failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])

def bench_fastai(python, path, bs, epochs, lr, threads, seed=42):
    return run_script(python, FASTAI_SCRIPT.format(path=str(path), bs=bs, epochs=epochs, lr=lr, threads=threads,
                                                   seed=seed))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--fastai-python', default=None, help="python of a venv with fastai 2.8.12 (default "
                   f"{FASTAI_PYTHON}; skipped if missing; with --quick only if given)")
    p.add_argument('--threads', type=int, default=None, help="torch threads for all three (default: the idle cores)")
    p.add_argument('--epochs', type=int, default=1); p.add_argument('--bs', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-2)
    p.add_argument('--quick', action='store_true', help="128 training + 64 validation digits: checks the script runs")
    args = p.parse_args()
    from fastnb.datasets import get_dataset
    from fastnb.vision.cli import idle_threads
    threads = args.threads or idle_threads()
    torch.set_num_threads(threads)
    path = get_dataset('mnist_5k')
    if args.quick: path = subset_folder(path, Path(tempfile.mkdtemp(prefix='mnist_subset_')), 128, 64)
    print(f"mnist_5k{' (--quick: a subset)' if args.quick else ''}, resnet18 from scratch, 28 px, bs {args.bs}, "
          f"{args.epochs} epoch(s) one-cycle lr {args.lr}, torch "
          f"{torch.__version__}, {threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    results = {}
    results['fastnb'], dls = bench_fastnb(path, args.bs, args.epochs, args.lr)
    results['plain PyTorch'] = bench_plain(dls, args.bs, args.epochs, args.lr)
    results['plain, unfused'] = bench_plain(dls, args.bs, args.epochs, args.lr, fused=False)
    python = fastai_python(args.fastai_python, args.quick)
    if python: results['fastai'] = bench_fastai(python, path, args.bs, args.epochs, args.lr, threads)
    for name, r in results.items():
        r['images_per_s'] = r['n_train'] * args.epochs / r['seconds']
        print(f"{name:<14} {r['seconds']:7.1f} s  {r['images_per_s']:7.1f} images/s  error_rate {r['error_rate']:.4f}")
    fastnb = results['fastnb']['images_per_s']
    for name, r in results.items():
        if name != 'fastnb': print(f"fastnb / {name}: {fastnb / r['images_per_s']:.3f}")

if __name__ == '__main__': main()
