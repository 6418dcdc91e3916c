#!/usr/bin/env python
"""Benchmark (not a test): data-parallel training throughput, fastnb against a plain PyTorch DDP loop.

The same model (`vision_model('resnet18', 10)`), the same data (random images held in memory on the CPU, 3 x SIZE x
SIZE, 10 classes, pinned and copied to the GPU batch by batch), bf16 autocast and channels-last in both:
1. fastnb: `Learner` + `to_bf16()` + `to_channels_last()` + `fit_one_cycle`, inside `learn.distrib_ctx()`;
2. plain: `DistributedDataParallel` (in 1 process: the bare model), `DistributedSampler`, fused AdamW + OneCycleLR,
autocast. Each is run for 1..N processes (N: the GPUs, or --nproc), started with torchrun; one warm-up epoch, then
EPOCHS timed. Prints one table: images/s (training images per second of the timed epochs, validation of 1/8 as many
images included) for each, the ratio fastnb/plain, and the scaling efficiency (images/s on N / (N x images/s on 1)).
Usage: python tools/bench/ddp.py [--nproc N] [--size 128] [--n 8192] [--bs 128] [--epochs 2] [--json out.json]
(on a machine without GPU it runs on the CPU with gloo, for checking the script only: use --size 32 --n 512, or
--quick: 1 process, 16 px, 160 images, batch 32, 1 epoch)
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
root = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(root))
import torch, torch.nn.functional as F

class TensorRows:
    "A batch-indexed dataset: `ds[rows]` is a whole batch (images, labels), so loading costs the same in both loops"
    batch_indexed = True
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, rows): return self.x[rows], self.y[rows]

def data(n, size):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 3, size, size, generator=g), torch.randint(0, 10, (n,), generator=g)
    n_valid = n // 8
    return TensorRows(x[n_valid:], y[n_valid:]), TensorRows(x[:n_valid], y[:n_valid])

def bench_fastnb(train_ds, valid_ds, bs, epochs):
    from fastnb.data.load import DataLoader, DataLoaders
    from fastnb.learner import Learner
    from fastnb.callback.schedule import fit_one_cycle  # noqa: F401 (patches Learner)
    from fastnb.callback.fp16 import MixedPrecision  # noqa: F401 (to_bf16, to_channels_last)
    from fastnb.distributed import distrib_device
    from fastnb.vision.learner import vision_model
    device = distrib_device()
    dls = DataLoaders(DataLoader(train_ds, bs=bs, shuffle=True, drop_last=True, device=device),
                      DataLoader(valid_ds, bs=bs, device=device))
    learn = Learner(dls, vision_model('resnet18', 10), loss_func=torch.nn.CrossEntropyLoss(), silent=True)
    learn.to_bf16().to_channels_last()
    with learn.distrib_ctx():
        learn.fit_one_cycle(1, 1e-3)  # warm-up
        sync(device); start = time.perf_counter()
        learn.fit_one_cycle(epochs, 1e-3)
        sync(device); return time.perf_counter() - start

def bench_plain(train_ds, valid_ds, bs, epochs):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, BatchSampler
    from fastnb.distributed import setup_distrib, distrib_device
    from fastnb.vision.learner import vision_model
    world, device = setup_distrib(), distrib_device()
    rank = dist.get_rank() if world > 1 else 0
    model = vision_model('resnet18', 10).to(device, memory_format=torch.channels_last)
    ddp = DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None) if world > 1 else model
    def loader(ds, shuffle):
        sampler = DistributedSampler(range(len(ds)), world, rank, shuffle=shuffle)
        return sampler, DataLoader(ds, sampler=BatchSampler(sampler, bs, drop_last=shuffle), batch_size=None,
                                   pin_memory=device.type == 'cuda')
    (train_sampler, train_dl), (_, valid_dl) = loader(train_ds, True), loader(valid_ds, False)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=device.type == 'cuda')
    def run(n_epochs):
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=n_epochs * len(train_dl))
        for epoch in range(n_epochs):
            train_sampler.set_epoch(epoch); ddp.train()
            for x, y in train_dl:
                x, y = (x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last),
                        y.to(device, non_blocking=True))
                with torch.autocast(device.type, dtype=torch.bfloat16): loss = F.cross_entropy(ddp(x).float(), y)
                loss.backward(); opt.step(); sched.step(); opt.zero_grad()
            model.eval()
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
                for x, y in valid_dl: model(x.to(device).contiguous(memory_format=torch.channels_last))
    run(1)  # warm-up
    sync(device); start = time.perf_counter(); run(epochs); sync(device)
    return time.perf_counter() - start

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def worker(args):
    "One process of a torchrun job: time both loops, rank 0 writes the seconds"
    torch.manual_seed(0)
    train_ds, valid_ds = data(args.n, args.size)
    if torch.cuda.is_available(): torch.backends.cudnn.benchmark = True
    secs = {'fastnb': bench_fastnb(train_ds, valid_ds, args.bs, args.epochs),
            'plain': bench_plain(train_ds, valid_ds, args.bs, args.epochs)}
    if int(os.environ.get('RANK', 0)) == 0: Path(args.worker).write_text(json.dumps(secs))

def main(args):
    from fastnb.distributed import torchrun_cmd
    n_gpus = torch.cuda.device_count()
    nproc = args.nproc or max(1, n_gpus)
    # the images trained on per epoch (drop_last), all processes together
    n_train = (args.n - args.n // 8) // args.bs * args.bs
    rows, tmp = [], Path(tempfile.mkdtemp())
    for n in range(1, nproc + 1):
        out = tmp/f'{n}.json'
        cmd = torchrun_cmd(n, __file__, '--worker', out, '--size', args.size, '--n', args.n, '--bs', args.bs // n,
                           '--epochs', args.epochs)
        res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': str(root)})
        if res.returncode: sys.exit(f"bench/ddp.py: {n} process(es) failed:\n{res.stderr[-3000:]}")
        secs = json.loads(out.read_text())
        rows.append({'processes': n, **{k: args.epochs * n_train / s for k, s in secs.items()}})
    base = rows[0]
    print(f"{'device':<24}{'processes':>10}{'fastnb img/s':>14}{'plain img/s':>13}{'fastnb/plain':>14}"
          f"{'scaling fastnb':>16}{'scaling plain':>15}")
    device = torch.cuda.get_device_name(0) if n_gpus else 'cpu (gloo)'
    for r in rows:
        eff = lambda k: f"{r[k] / (r['processes'] * base[k]):.0%}"
        print(f"{device[:23]:<24}{r['processes']:>10}{r['fastnb']:>14.0f}{r['plain']:>13.0f}"
              f"{r['fastnb'] / r['plain']:>14.2f}{eff('fastnb'):>16}{eff('plain'):>15}")
    if args.json: Path(args.json).write_text(json.dumps(rows))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--nproc', type=int, default=None); p.add_argument('--size', type=int, default=128)
    p.add_argument('--n', type=int, default=8192); p.add_argument('--bs', type=int, default=128)
    p.add_argument('--epochs', type=int, default=2); p.add_argument('--json', default=None)
    p.add_argument('--worker', default=None)
    p.add_argument('--quick', action='store_true', help="1 process, 16 px, 160 images, 1 epoch: checks the script runs")
    args = p.parse_args()
    if args.quick: args.nproc, args.size, args.n, args.bs, args.epochs = 1, 16, 160, 32, 1
    worker(args) if args.worker else main(args)
