#!/usr/bin/env python
"""Benchmark (not a test): bfloat16 autocast and channels-last memory on the CPU, with the library's own switches.

The course script's learner (`vision_learner(dls, resnet18, pretrained=False)` on mnist_5k, 28 px, batch 64, items
decoded once) trained with `fit_one_cycle(2, 3e-3)` four ways: fp32 (the default), `learn.to_bf16()`,
`learn.to_channels_last()`, and both. The runs alternate between the four, one seed per round, in this process.
For each it prints the median images/s of the fit (training images x epochs / seconds, validation included), the
ratio to fp32, and the error rate over the seeds (mean, sd) with the difference to fp32 in standard errors, paired
by seed. The defaults stay what this shows: a switch that is slower, or less accurate beyond noise, stays opt-in.
Usage: python tools/bench/precision.py [--seeds 5] [--threads 2] [--quick]
       (--quick: 1 seed, 1 epoch on 128 training + 64 validation digits, to check that the script runs)
"""
import argparse, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch

WAYS = {'fp32': lambda l: l, 'bf16 autocast': lambda l: l.to_bf16(), 'channels_last': lambda l: l.to_channels_last(),
        'bf16 + channels_last': lambda l: l.to_bf16().to_channels_last()}

def fit(dls, way:str, seed:int, epochs:int=2) -> dict:
    from fastnb.vision.all import vision_learner, resnet18, error_rate, set_seed
    import fastnb.callback.fp16  # noqa: F401 (to_bf16, to_channels_last)
    set_seed(seed)
    learn = WAYS[way](vision_learner(dls, resnet18, pretrained=False, metrics=error_rate))
    learn.silent = True
    start = time.perf_counter(); learn.fit_one_cycle(epochs, 3e-3); seconds = time.perf_counter() - start
    return dict(images_per_s=epochs * len(dls.train_ds) / seconds, error=float(learn.recorder.metric_values[0]))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, default=5); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--quick', action='store_true', help="1 seed, 1 epoch, 128 + 64 digits: checks the script runs")
    args = p.parse_args()
    from fastnb.vision.all import ImageDataLoaders, get_dataset
    torch.set_num_threads(args.threads)
    path, epochs = get_dataset('mnist_5k'), 2
    if args.quick:
        from vision import subset_folder  # tools/bench/vision.py
        path, epochs, args.seeds = subset_folder(path, Path(tempfile.mkdtemp(prefix='mnist_subset_')), 128, 64), 1, 1
    dls = ImageDataLoaders.from_folder(path, train='train', valid='valid', num_workers=0)
    dls.one_batch(); fit(dls, 'fp32', 0, epochs)  # decode into the cache and warm up oneDNN before timing
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
    print(f"{cpu}, {args.threads} thread(s), torch {torch.__version__}, {args.seeds} seeds, "
          f"fit_one_cycle({epochs}, 3e-3){' (--quick: 128 + 64 digits)' if args.quick else ''}")
    runs = {w: [] for w in WAYS}
    for seed in range(args.seeds):
        for w in WAYS: runs[w].append(fit(dls, w, seed, epochs))
        print(f"seed {seed}: " + '; '.join(f"{w} {r[-1]['images_per_s']:.0f} img/s {r[-1]['error']:.3f}"
                                           for w, r in runs.items()), flush=True)
    base_speed, base_err = (statistics.median(r['images_per_s'] for r in runs['fp32']),
                            [r['error'] for r in runs['fp32']])
    print(f"\n| way | images/s (median) | vs fp32 | error mean (sd) | vs fp32, paired |\n|---|---|---|---|---|")
    for w, rs in runs.items():
        speed, errs = statistics.median(r['images_per_s'] for r in rs), [r['error'] for r in rs]
        diffs = [e - b for e, b in zip(errs, base_err)]
        se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 and any(diffs) else 0.
        vs = f"{statistics.mean(diffs) * 100:+.2f} points ({statistics.mean(diffs) / se:+.1f} se)" if se else "—"
        print(f"| {w} | {speed:.0f} | {speed / base_speed:.2f}x | {statistics.mean(errs) * 100:.2f}% "
              f"({statistics.stdev(errs) * 100 if len(errs) > 1 else 0:.2f}) | {vs} |")

if __name__ == '__main__': main()
