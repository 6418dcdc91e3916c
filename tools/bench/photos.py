#!/usr/bin/env python
"""Benchmark (not a test): images per second per core through the photo pipeline, fastnb against fastai 2.8 and against
decoding alone, on the same JPEG files (`photo_bench`: 500x375 to 1600x1200, quality 85-95) and the same transforms.

Rows, each a pass over the same subset of `photo_bench` (`--n_train` training and `--n_valid` validation photos, the
same number of each class, linked into a temporary folder), batch 64, `num_workers` 0 (the main process does all the
work, so images/s is per core), one torch thread, batches on the CPU:
1. train: decode, random resized crop to 224 (`min_scale=0.35`), flip half of them, batch, uint8 -> float. fastnb:
   `item_tfms=RandomResizedCrop(224, min_scale=0.35)`, `batch_tfms=Flip()` (its exact flip of a batch); fastai:
   `item_tfms=[RandomResizedCrop(224, min_scale=0.35), FlipItem(0.5)]` (its cheapest flip, on the PIL image);
2. valid: decode, `Resize(224)` (the centre crop), batch, uint8 -> float (fastnb with `cache=False`: it would otherwise
   keep the decoded items after the first pass, which is what it does in training);
3. decode only: `PILImage.create` of every file at full size, by each library (the limit a pipeline that decodes every
   pixel approaches; fastnb's pipeline decodes fewer and can pass it).
fastai runs in a subprocess (its own virtual environment, `--fastai-python`) that stays up and takes one command at a
time, so the runs alternate fastnb, fastai, fastnb, ... in the same minutes (the order turns each round); each pipeline
makes one pass before the rounds (warming the file cache). Prints per row the median images/s of each, and the ratios
per round (median and range over the `--repeats` rounds).
With `--decode-device cuda` (for tools/gpu_check.sh) it also times torchvision's batched JPEG decoding on the GPU
(`torchvision.io.decode_jpeg(list, device='cuda')`) with the random resized crop and flip done there too.
Usage: python tools/bench/photos.py [--repeats 3] [--n_train 768] [--n_valid 384] [--workers 0] [--decode-device cuda]
       [--quick]   (--quick: 1 round of 64 + 64 photos, to check that the script runs)
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch
# tools/bench/vision.py: a folder of links to the first images of each class; the peer's python
from vision import subset_folder, fastai_python, FASTAI_PYTHON

SIZE, MIN_SCALE, BS = 224, 0.35, 64

FASTAI_SERVER = r'''
import json, sys, time, torch
from fastai.vision.all import *
torch.set_num_threads(1)
path, workers = Path(sys.argv[1]), int(sys.argv[2])
def loaders(item_tfms):
    return ImageDataLoaders.from_folder(path, train='train', valid='valid', item_tfms=item_tfms, bs=64,
                                        num_workers=workers, device='cpu')
train = loaders([RandomResizedCrop(224, min_scale=0.35), FlipItem(0.5)]).train
valid = loaders(Resize(224)).valid
files = get_image_files(path/'train')
def run(what):
    start, n = time.perf_counter(), 0
    if what == 'decode':
        for f in files: PILImage.create(f); n += 1
    else:
        for xb, yb in (train if what == 'train' else valid): n += len(xb)
    return n, time.perf_counter() - start
print(json.dumps({'ready': True}), flush=True)
for line in sys.stdin:
    n, secs = run(json.loads(line)['what'])
    print(json.dumps({'n': n, 'seconds': secs}), flush=True)
'''

class FastaiRunner:
    "fastai's pipelines in a subprocess that stays up: `run('train' | 'valid' | 'decode')` -> (images, seconds)"
    def __init__(self, python:str, path:Path, workers:int):
        self.proc = subprocess.Popen([python, '-c', FASTAI_SERVER, str(path), str(workers)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
        if not json.loads(self.proc.stdout.readline() or '{}').get('ready'): raise RuntimeError("the fastai subprocess "
            "didn't start")
    def run(self, what:str) -> tuple[int, float]:
        self.proc.stdin.write(json.dumps({'what': what}) + '\n'); self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline()); return out['n'], out['seconds']
    def close(self): self.proc.stdin.close(); self.proc.wait()

class FastnbRunner:
    "fastnb's pipelines in this process, the same commands as `FastaiRunner`"
    def __init__(self, path:Path, workers:int):
        from fastnb.vision.data import ImageDataLoaders
        from fastnb.vision.augment import RandomResizedCrop, Resize, Flip
        from fastnb.vision.core import get_image_files
        def loaders(**kw): return ImageDataLoaders.from_folder(path, bs=BS, num_workers=workers, device='cpu',
                                                               cache=False, **kw)
        self.train = loaders(item_tfms=RandomResizedCrop(SIZE, min_scale=MIN_SCALE), batch_tfms=Flip()).train
        self.valid = loaders(item_tfms=Resize(SIZE)).valid
        self.files = get_image_files(path/'train')
    def run(self, what:str) -> tuple[int, float]:
        from fastnb.vision.core import PILImage
        start, n = time.perf_counter(), 0
        if what == 'decode':
            for f in self.files: PILImage.create(f); n += 1
        else:
            for xb, yb in (self.train if what == 'train' else self.valid): n += len(xb)
        return n, time.perf_counter() - start

class DeviceDecodeRunner:
    ("The training row with torchvision: files read as bytes, decoded in batches on `device`, cropped, resized and "
     "flipped there")
    def __init__(self, path:Path, device:str):
        from torchvision.io import read_file
        self.device, self.data = torch.device(device), [read_file(str(f))
                                                        for f in sorted((path/'train').rglob('*.jpg'))]
    def run(self, what:str) -> tuple[int, float]:
        import torch.nn.functional as F
        from torchvision.io import decode_jpeg
        from fastnb.vision.augment import random_crop_box, crop_box
        start, n = time.perf_counter(), 0
        order = torch.randperm(len(self.data)).tolist()
        for i in range(0, len(order) - BS + 1, BS):
            imgs = decode_jpeg([self.data[j] for j in order[i:i + BS]], device=self.device)
            out = []
            for im in imgs:
                hw = tuple(im.shape[-2:])
                l, t, r, b = random_crop_box(hw, MIN_SCALE) or crop_box(hw, SIZE)
                # float: antialiased resizing of uint8 is CPU-only
                crop = im[:, int(t):int(b), int(l):int(r)][None].float()
                crop = F.interpolate(crop, size=(SIZE, SIZE), mode='bilinear', antialias=True)[0]
                out.append(crop.flip(-1) if torch.rand(1) < 0.5 else crop)
            xb = torch.stack(out).div_(255)
            n += len(xb)
        if self.device.type == 'cuda': torch.cuda.synchronize()
        return n, time.perf_counter() - start

def spread(xs:list) -> str: return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--fastai-python', default=None, help="python of a venv with fastai 2.8.12 (default "
                   f"{FASTAI_PYTHON}; skipped if missing; with --quick only if given)")
    p.add_argument('--repeats', type=int, default=3); p.add_argument('--n_train', type=int, default=768)
    p.add_argument('--n_valid', type=int, default=384); p.add_argument('--workers', type=int, default=0)
    p.add_argument('--decode-device', default=None, help="also time torchvision's batched decode on this device (cuda)")
    p.add_argument('--json', default=None)
    p.add_argument('--quick', action='store_true', help="1 round of 64 + 64 photos: checks the script runs")
    args = p.parse_args()
    if args.quick: args.repeats, args.n_train, args.n_valid = 1, 64, 64
    torch.set_num_threads(1)
    from fastnb.datasets import get_dataset
    path = subset_folder(get_dataset('photo_bench'), Path(tempfile.mkdtemp(prefix='photo_bench_subset_')), args.n_train,
                  args.n_valid)
    runners = {'fastnb': FastnbRunner(path, args.workers)}
    python = fastai_python(args.fastai_python, args.quick)
    if python: runners['fastai'] = FastaiRunner(python, path, args.workers)
    rows = ['train', 'valid', 'decode']
    if args.decode_device: runners['torchvision ' + args.decode_device] = DeviceDecodeRunner(path, args.decode_device)
    plan = [(name, what) for what in rows for name in runners if not (name.startswith('torchvision')
                                                                      and what != 'train')]
    print(f"photo_bench subset: {args.n_train} training + {args.n_valid} validation photos, bs {BS}, {args.workers} "
          f"workers, 1 torch thread, torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}", flush=True)
    for name, what in plan: runners[name].run(what)  # warm-up: file cache, first-call costs
    speed = {k: [] for k in plan}
    for r in range(args.repeats):
        order = plan[r % len(plan):] + plan[:r % len(plan)]  # a different one first each round
        for k in order:
            n, secs = runners[k[0]].run(k[1]); speed[k].append(n / secs)
        print(f"round {r}: " + ', '.join(f"{name} {what} {speed[name, what][-1]:.0f}" for name, what in plan)
              + " images/s", flush=True)
    for r in runners.values():
        if hasattr(r, 'close'): r.close()
    print(f"\n| row | " + ' | '.join(f"{n} images/s" for n in runners) + " | fastnb / fastai | fastnb / fastnb "
                                                                         "decode-only |")
    print('|---' * (len(runners) + 3) + '|')
    table = []
    for what in rows:
        cells = [f"{statistics.median(speed[n, what]):.0f}" if (n, what) in speed else '—' for n in runners]
        vs_fastai = (spread([a / b for a, b in zip(speed['fastnb', what], speed['fastai', what])])
                     if 'fastai' in runners else '—')
        vs_decode = (spread([a / b for a, b in zip(speed['fastnb', what], speed['fastnb', 'decode'])])
                     if what != 'decode' else '—')
        print(f"| {what} | " + ' | '.join(cells) + f" | {vs_fastai} | {vs_decode} |")
        table.append(dict(row=what, **{n: speed.get((n, what)) for n in runners}))
    if args.json: Path(args.json).write_text(json.dumps(table))

if __name__ == '__main__': main()
