"""Benchmark: library overhead of `Learner.fit` against a plain PyTorch training loop.

Trains the same small CNN (28x28 single-channel images, 10 classes, batch 64) for one epoch with `Learner.fit`
(default callbacks: Recorder, ProgressCallback, TerminateOnNaNCallback; `accuracy` metric) and with a hand-written
PyTorch loop doing the same work (AdamW with the same hyper-parameters and no weight decay on batch-norm and
biases, per-batch loss kept, validation loss and accuracy), from the same starting weights. Repeats are
interleaved so that machine noise hits both alike; the minimum and median times and their ratios are printed, for
the process's CPU time (robust to other processes on a shared machine, with one torch thread) and for wall time.

Two comparisons:
- `batches`: both loops iterate the same pre-made lists of batches (the pure cost of the learner and its callbacks);
- `loaders`: the learner uses fastnb `DataLoaders.from_dsets` and the plain loop a `torch.utils.data.DataLoader`,
  both over the same `TensorDataset` (adds the data layer's cost).

Run: `python tools/bench/learner.py [--repeats 7] [--n_train 3840] [--threads 1] [--quick]` (`--quick`: 1 repeat of
10 + 2 batches, to check that the script runs)
"""
import copy, io, statistics, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's fastnb, not an installed one
from contextlib import redirect_stdout
from types import SimpleNamespace
import torch, torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset, DataLoader as TorchDataLoader
from fastcore.script import call_parse, store_true

from fastnb.learner import Learner
from fastnb.data.load import DataLoaders
from fastnb.losses import CrossEntropyLossFlat
from fastnb.metrics import accuracy
from fastnb.optimizer import norm_bias_params
import fastnb.callback.progress, fastnb.callback.tracker  # the default callbacks a user gets

def small_cnn() -> nn.Sequential:
    "A small CNN for 28x28 images: three stride-2 conv blocks, pooling, a linear head"
    def block(c_in, c_out): return [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out),
                                    nn.ReLU()]
    return nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(64, 10))

def linear_model() -> nn.Sequential:
    "Almost no compute: what's left of a batch's time is the loop's own cost"
    return nn.Sequential(nn.Flatten(), nn.Linear(28*28, 10))

def make_data(n_train:int, n_valid:int, seed:int=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_valid, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n_train + n_valid,), generator=g)
    x[torch.arange(len(y)), 0, y, y] += 3.  # a learnable signal: a bright pixel on the diagonal at the class index
    return TensorDataset(x[:n_train], y[:n_train]), TensorDataset(x[n_train:], y[n_train:])

def batches(ds:TensorDataset, bs:int) -> list[tuple]:
    x, y = ds.tensors
    return [(x[i:i+bs], y[i:i+bs]) for i in range(0, len(y), bs)]

def plain_fit(model:nn.Module, train, valid) -> tuple[float, float]:
    "One epoch of a plain PyTorch loop; returns (valid_loss, accuracy)"
    no_wd = {id(p) for p in norm_bias_params(model)}
    groups = [{'params': [p for p in model.parameters() if id(p) not in no_wd], 'weight_decay': 0.01},
              {'params': [p for p in model.parameters() if id(p) in no_wd], 'weight_decay': 0.}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99), eps=1e-5)
    losses = []
    model.train()
    for xb, yb in train:
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.detach())
    model.eval()
    total_loss, n_correct, n = 0., 0, 0
    with torch.no_grad():
        for xb, yb in valid:
            pred = model(xb)
            total_loss += F.cross_entropy(pred, yb) * len(yb)
            n_correct += (pred.argmax(dim=1) == yb).sum()
            n += len(yb)
    return float(total_loss / n), float(n_correct / n)

def learner_fit(model:nn.Module, dls) -> tuple[float, float]:
    "One epoch of `Learner.fit`; returns (valid_loss, accuracy)"
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), lr=1e-3, metrics=accuracy)
    with redirect_stdout(io.StringIO()): learn.fit(1)  # the progress bar and table are drawn, into a buffer
    return learn.recorder.values[-1][1], learn.recorder.values[-1][2]

def timed(f, *args) -> tuple[float, float, tuple]:
    "(wall seconds, CPU seconds of this process, result) of `f(*args)`"
    start, start_cpu = time.perf_counter(), time.process_time()
    res = f(*args)
    return time.perf_counter() - start, time.process_time() - start_cpu, res

@call_parse
def main(repeats:int=7,     # interleaved repeats of each loop
         n_train:int=3840,  # training images (60 batches of 64)
         n_valid:int=1024,  # validation images
         bs:int=64,         # batch size
         threads:int=1,     # torch threads (0: torch's default); 1 makes CPU time a stable measure of work
         # 'cnn' (a realistic small model) or 'linear' (near-zero compute: shows the per-batch cost of the loop)
         model:str='cnn',
         quick:store_true=False):  # 1 repeat of 10 training + 2 validation batches: checks the script runs
    if quick: repeats, n_train, n_valid = 1, 10 * bs, 2 * bs
    if threads: torch.set_num_threads(threads)
    torch.manual_seed(0)
    train_ds, valid_ds = make_data(n_train, n_valid)
    init = small_cnn() if model == 'cnn' else linear_model()
    train_b, valid_b = batches(train_ds, bs), batches(valid_ds, bs)
    fnb_dls = DataLoaders.from_dsets(train_ds, valid_ds, bs=bs, shuffle=False, device='cpu', num_workers=0)
    torch_train = TorchDataLoader(train_ds, batch_size=bs, shuffle=False)
    torch_valid = TorchDataLoader(valid_ds, batch_size=bs, shuffle=False)
    runs = {
        'batches': (lambda m: plain_fit(m, train_b, valid_b),
                    lambda m: learner_fit(m, SimpleNamespace(train=train_b, valid=valid_b))),
        'loaders': (lambda m: plain_fit(m, torch_train, torch_valid), lambda m: learner_fit(m, fnb_dls)),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {model} model, {len(train_b)} training "
          f"batches of {bs} + {len(valid_b)} validation batches, {repeats} interleaved repeats")
    for name, (plain, library) in runs.items():
        plain(copy.deepcopy(init)); library(copy.deepcopy(init))  # warm-up
        times = {(kind, clock): [] for kind in ('plain', 'learner') for clock in ('wall', 'cpu')}
        for _ in range(repeats):
            for kind, f in (('plain', plain), ('learner', library)):
                wall, cpu, (loss, acc) = timed(f, copy.deepcopy(init))
                times[kind, 'wall'].append(wall); times[kind, 'cpu'].append(cpu)
        for clock in ('cpu', 'wall'):
            for stat in (min, statistics.median):  # min: the least disturbed run
                plain_t, learner_t = stat(times['plain', clock]), stat(times['learner', clock])
                per_batch_us = 1e6 * (learner_t - plain_t) / (len(train_b) + len(valid_b))
                print(f"{name:8s} {clock:4s} {stat.__name__:6s} plain {plain_t:.3f}s  learner {learner_t:.3f}s  ratio "
                      f"{learner_t/plain_t:.3f}  (overhead {100*(learner_t/plain_t - 1):+.1f}%, {per_batch_us:+.0f} us "
                      "a batch)")
        print(f"{'':8s} wall times: plain {[round(t, 3) for t in times['plain', 'wall']]}, learner "
              f"{[round(t, 3) for t in times['learner', 'wall']]}; last valid loss {loss:.3f}, accuracy {acc:.3f}")
