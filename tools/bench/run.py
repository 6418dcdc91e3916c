#!/usr/bin/env python
"""Benchmark (not a test): one table comparing fastnb, fastai 2.8 and a plain PyTorch loop on the same data and model.

Workloads (rows), each trained the same way by the three:
1. vision: mnist_5k (4,000 training + 1,000 validation digits, 28 px), resnet18 from scratch, bs 64, 2 epochs one-cycle
   lr 1e-2 (the course script's two: the cache fills in the first epoch, so one epoch can't show it), num_workers=0;
   fastnb twice: its default (images decoded once) and `cache=False` (decoded every epoch, as fastai does). The plain
   loop is tools/bench/vision.py's: the same model, the decoded tensors, AdamW + OneCycleLR;
2. tabular: `wage` (>= $125k or not; the columns, procs and layers of nbs/tutorials/tabular.ipynb), 5 epochs;
3. collab: MovieLens 100k, `EmbeddingDotBias` (50 factors, y_range (0, 5.5)), bs 1024, 5 epochs, wd 0.5;
4. lr_find: `learn.lr_find()` (at most 100 iterations in both libraries: each stops early when the loss passes 4x its
   minimum; items/s counts the batches run) on the vision data and model; the plain column is an exponential sweep of
   the same iterations, its suggestion fastnb's `valley` of its losses.

The splits are the same for all three: fastnb's `RandomSplitter(0.2, seed=42)` indices, handed to fastai explicitly (the
table it trains on is written to a temporary CSV). The runs alternate (fastnb, fastai, plain, fastnb, ...) `--repeats`
times, a fresh model and `set_seed(repeat)` each time, all with `--threads` torch threads; fastai runs in a subprocess
(`--fastai-python`, skipped if missing) whose script prints one JSON line. Reported: the median fit time (validation
included, imports and data loading not), items/s (training items x epochs / median seconds), the median final
validation metric, and fastnb's speed ratios (other's median time / fastnb's: > 1 means fastnb is faster), with their
range over the repeats (the ratio of the two runs of each repeat, made one after the other).
Usage: python tools/bench/run.py [--repeats 3] [--threads 2] [--quick] [--only vision tabular collab lr_find]
                                 [--json FILE]
"""
import argparse, json, os, platform, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch
import torch.nn.functional as F
import vision as vbench  # tools/bench/vision.py: the vision workload's fastnb, fastai and plain runs

WORKLOADS = ['vision', 'tabular', 'collab', 'lr_find']
VISION = dict(bs=64, epochs=2, lr=1e-2)
TABULAR = dict(bs=64, epochs=5, lr=1e-2, wd=0.1, layers=[200, 100], ps=[0.1, 0.1], embed_p=0.05)
TAB_CATS = ['year', 'maritl', 'race', 'education', 'jobclass', 'health', 'health_ins']
TAB_CONTS = ['age']
COLLAB = dict(bs=1024, epochs=5, lr=1e-2, wd=0.5, n_factors=50, y_range=(0, 5.5))

# --- data, prepared once and shared ---------------------------------------

def wage_table():
    "The wage table of the tabular tutorial (target: salary >= $125k), and fastnb's random 80/20 split (seed 42)"
    import numpy as np, pandas as pd
    from fastnb.datasets import get_dataset
    from fastnb.data.block import RandomSplitter
    df = pd.read_csv(get_dataset('wage')/'wage.csv')
    df['salary'] = np.where(df.wage >= 125, '>=125k', '<125k')
    df = df.drop(columns=['wage', 'logwage', 'region'])
    return df, [list(map(int, s)) for s in RandomSplitter(0.2, seed=42)(range(len(df)))]

def movielens_table(n=None):
    "MovieLens 100k ratings (user, title with year, rating) as in the collab tutorial, and fastnb's split (seed 42)"
    import pandas as pd
    from fastnb.datasets import get_dataset
    from fastnb.data.block import RandomSplitter
    path = get_dataset('movielens_100k')
    ratings, movies = pd.read_csv(path/'ratings.csv'), pd.read_csv(path/'movies.csv')
    movies['title'] = movies.title.where(movies.year.isna(),
                                         movies.title + ' (' + movies.year.astype('Int64').astype(str) + ')')
    ratings = ratings.merge(movies[['id', 'title']].rename(columns={'id': 'movie'}))[['user', 'title', 'rating']]
    if n: ratings = ratings.iloc[:n]
    ratings = ratings.reset_index(drop=True)
    return ratings, [list(map(int, s)) for s in RandomSplitter(0.2, seed=42)(ratings)]

subset_folder = vbench.subset_folder  # a copy of an image folder with fewer images, as links (for --quick)

# --- shared by the tabular and collab rows -------------------------------

plain_fit = vbench.plain_fit  # a plain PyTorch loop on tensors

def fastnb_fit(dls, make_learner, cfg:dict, seed:int) -> dict:
    ("Fit a fresh fastnb learner (`make_learner(dls)`) one-cycle with `cfg`'s epochs, lr and wd; seconds, final "
     "metric, training items")
    from fastnb.torch_core import set_seed
    set_seed(seed)
    learn = make_learner(dls); learn.silent = True
    start = time.perf_counter(); learn.fit_one_cycle(cfg['epochs'], cfg['lr'], wd=cfg['wd'])
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, metric=float(learn.recorder.values[-1][2]), n_train=len(dls.train_ds))

def _accuracy(preds, y): return (preds.argmax(1) == y.view(-1)).float().mean()
def _rmse(preds, y): return F.mse_loss(preds.view(-1), y.view(-1).float()).sqrt()

# --- 1. vision ------------------------------------------------------------

def vision_fastnb(ctx, seed, cache=True):
    r, _ = vbench.bench_fastnb(ctx['path'], VISION['bs'], VISION['epochs'], VISION['lr'], seed=seed, cache=cache)
    return dict(seconds=r['seconds'], metric=float(r['error_rate']), n_train=r['n_train'])

def vision_fastai(ctx, seed):
    r = vbench.bench_fastai(ctx['python'], ctx['path'], VISION['bs'], VISION['epochs'], VISION['lr'], ctx['threads'],
                            seed=seed)
    return dict(seconds=r['seconds'], metric=r['error_rate'], n_train=r['n_train'])

def _vision_dls(ctx):
    "The vision data for the plain loop, made once (its decoded tensors are stacked outside the timing)"
    from fastnb.vision.data import ImageDataLoaders
    if 'dls' not in ctx: ctx['dls'] = ImageDataLoaders.from_folder(ctx['path'], bs=VISION['bs'], num_workers=0)
    return ctx['dls']

def vision_plain(ctx, seed):
    r = vbench.bench_plain(_vision_dls(ctx), VISION['bs'], VISION['epochs'], VISION['lr'], seed=seed)
    return dict(seconds=r['seconds'], metric=r['error_rate'], n_train=r['n_train'])

# --- 2. tabular -----------------------------------------------------------

FASTAI_TABULAR = r'''
import json, time, torch, pandas as pd
from fastai.tabular.all import *
torch.set_num_threads({threads})
df, splits = pd.read_csv({csv!r}), json.load(open({splits!r}))
dls = TabularDataLoaders.from_df(df, procs=[Categorify, FillMissing, Normalize], cat_names={cats!r},
                                 cont_names={conts!r},
                                 y_names='salary', y_block=CategoryBlock(), valid_idx=splits[1], bs={bs})
assert sorted(dls.valid.items.index) == sorted(splits[1])
set_seed({seed})
learn = tabular_learner(dls, layers={layers!r}, config=tabular_config(ps={ps!r}, embed_p={embed_p}), metrics=accuracy)
with learn.no_bar(), learn.no_logging():
    start = time.perf_counter(); learn.fit_one_cycle({epochs}, {lr}, wd={wd}); seconds = time.perf_counter() - start
print(json.dumps({{'seconds': seconds, 'metric': float(learn.recorder.values[-1][2]), 'n_train': len(dls.train_ds)}}))
'''

def _tabular_dls(ctx):
    from fastnb.tabular.all import TabularDataLoaders, Categorify, FillMissing, Normalize
    return TabularDataLoaders.from_df(ctx['wage'], procs=[Categorify, FillMissing, Normalize], cat_names=TAB_CATS,
                                      cont_names=TAB_CONTS,
                                      y_names='salary', valid_idx=ctx['wage_splits'][1], bs=TABULAR['bs'])

def _tabular_learner(dls):
    from fastnb.tabular.all import tabular_learner, tabular_config, accuracy
    t = TABULAR
    return tabular_learner(dls, layers=t['layers'], config=tabular_config(ps=t['ps'], embed_p=t['embed_p']),
                           metrics=accuracy)

def tabular_fastnb(ctx, seed): return fastnb_fit(_tabular_dls(ctx), _tabular_learner, TABULAR, seed)

def tabular_fastai(ctx, seed):
    t = TABULAR
    return vbench.run_script(ctx['python'], FASTAI_TABULAR.format(threads=ctx['threads'], csv=ctx['wage_csv'],
                                                                  splits=ctx['wage_splits_json'],
        cats=TAB_CATS, conts=TAB_CONTS, seed=seed, **{k: t[k] for k in ('bs', 'layers', 'ps', 'embed_p', 'epochs', 'lr',
                                                                        'wd')}))

def tabular_plain(ctx, seed):
    from fastnb.torch_core import set_seed
    dls = _tabular_dls(ctx)
    set_seed(seed)
    model = _tabular_learner(dls).model
    tensors = lambda ds: ds[torch.arange(len(ds))]
    def loss(out, y): return F.cross_entropy(out, y.view(-1))
    return plain_fit(model, tensors(dls.train_ds), tensors(dls.valid_ds), TABULAR['bs'], TABULAR['epochs'],
                     TABULAR['lr'], TABULAR['wd'],
                     loss, _accuracy)

# --- 3. collab ------------------------------------------------------------

FASTAI_COLLAB = r'''
import json, time, torch, pandas as pd
from fastai.tabular.all import *
from fastai.collab import *
torch.set_num_threads({threads})
df, splits = pd.read_csv({csv!r}), json.load(open({splits!r}))
to = TabularCollab(df, [Categorify], cat_names=['user', 'title'], y_names=['rating'], y_block=TransformBlock(),
                   splits=splits)
dls = CollabDataLoaders(*to.dataloaders(bs={bs}).loaders)
set_seed({seed})
learn = collab_learner(dls, n_factors={n_factors}, y_range={y_range!r}, metrics=rmse)
with learn.no_bar(), learn.no_logging():
    start = time.perf_counter(); learn.fit_one_cycle({epochs}, {lr}, wd={wd}); seconds = time.perf_counter() - start
print(json.dumps({{'seconds': seconds, 'metric': float(learn.recorder.values[-1][2]), 'n_train': len(dls.train_ds)}}))
'''

def _collab_dls(ctx):
    from fastnb.collab.all import CollabDataLoaders
    # = ctx['ratings_splits']
    return CollabDataLoaders.from_df(ctx['ratings'], item_name='title', rating_name='rating', seed=42, bs=COLLAB['bs'])

def _collab_learner(dls):
    from fastnb.collab.all import collab_learner, rmse
    return collab_learner(dls, n_factors=COLLAB['n_factors'], y_range=COLLAB['y_range'], metrics=rmse)

def collab_fastnb(ctx, seed): return fastnb_fit(_collab_dls(ctx), _collab_learner, COLLAB, seed)

def collab_fastai(ctx, seed):
    c = COLLAB
    return vbench.run_script(ctx['python'], FASTAI_COLLAB.format(threads=ctx['threads'], csv=ctx['ratings_csv'],
                                                                 splits=ctx['ratings_splits_json'],
        seed=seed, **{k: c[k] for k in ('bs', 'n_factors', 'y_range', 'epochs', 'lr', 'wd')}))

def collab_plain(ctx, seed):
    from fastnb.torch_core import set_seed
    dls = _collab_dls(ctx)
    set_seed(seed)
    model = _collab_learner(dls).model
    data = lambda ds: (ds.x, ds.y)
    def loss(out, y): return F.mse_loss(out.view(-1), y.view(-1).float())
    return plain_fit(model, data(dls.train_ds), data(dls.valid_ds), COLLAB['bs'], COLLAB['epochs'], COLLAB['lr'],
                     COLLAB['wd'], loss, _rmse,
                     no_wd=list(getattr(model, 'bias_params', list)()))

# --- 4. lr_find -----------------------------------------------------------

FASTAI_LR_FIND = r'''
import json, time, torch
from fastai.vision.all import *
torch.set_num_threads({threads})
dls = ImageDataLoaders.from_folder({path!r}, train='train', valid='valid', bs={bs}, num_workers=0)
set_seed({seed})
learn = vision_learner(dls, resnet18, pretrained=False, metrics=error_rate)
with learn.no_bar(), learn.no_logging():
    start = time.perf_counter(); sug = learn.lr_find(num_it={num_it}, show_plot=False)
    seconds = time.perf_counter() - start
print(json.dumps({{'seconds': seconds, 'metric': float(sug.valley), 'n_train': len(learn.recorder.lrs) * {bs}}}))
'''

def lr_find_fastnb(ctx, seed):
    from fastnb.torch_core import set_seed
    from fastnb.callback.schedule import lr_find  # noqa: F401 (patches Learner)
    from fastnb.vision.data import ImageDataLoaders
    from fastnb.vision.learner import vision_learner
    dls = ImageDataLoaders.from_folder(ctx['path'], bs=VISION['bs'], num_workers=0)
    set_seed(seed)
    learn = vision_learner(dls, 'resnet18', pretrained=False); learn.silent = True
    start = time.perf_counter(); sug = learn.lr_find(num_it=ctx['num_it'], show_plot=False)
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, metric=float(sug.valley), n_train=len(learn.recorder.lrs) * VISION['bs'])

def lr_find_fastai(ctx, seed):
    return vbench.run_script(ctx['python'], FASTAI_LR_FIND.format(threads=ctx['threads'], path=str(ctx['path']),
                                                                  bs=VISION['bs'], seed=seed,
                                                                  num_it=ctx['num_it']))

def lr_find_plain(ctx, seed, start_lr=1e-7, end_lr=10.):
    ("An exponential lr sweep of `num_it` batches (stopping when the smoothed loss passes 4x its minimum), weights "
     "restored after")
    from fastnb.torch_core import set_seed
    from fastnb.vision.learner import vision_model
    from fastnb.callback.schedule import valley
    import numpy as np
    xs, ys = vbench._stacked(_vision_dls(ctx).train)
    set_seed(seed)
    model, bs, n = vision_model('resnet18', 10), VISION['bs'], ctx['num_it']
    opt, _ = vbench.plain_optimizer(model, start_lr, n)  # the schedule is ours: lr set by hand below
    start = time.perf_counter()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.train(); lrs, losses, avg, best, perm, i = [], [], 0., float('inf'), torch.randperm(len(xs)), 0
    for it in range(n):
        if (i + 1) * bs > len(xs): perm, i = torch.randperm(len(xs)), 0
        idx, i = perm[i*bs:(i+1)*bs], i + 1
        lr = start_lr * (end_lr / start_lr) ** (it / (n - 1))
        for g in opt.param_groups: g['lr'] = lr
        loss = F.cross_entropy(model(xs[idx].float().div_(255)), ys[idx])
        loss.backward(); opt.step(); opt.zero_grad()
        avg = 0.98 * avg + 0.02 * loss.item(); smooth = avg / (1 - 0.98 ** (it + 1))
        lrs.append(lr); losses.append(smooth); best = min(best, smooth)
        if smooth > 4 * best: break
    model.load_state_dict(state)
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, metric=float(valley(np.array(lrs), np.array(losses))[0]), n_train=len(lrs) * bs)

# --- the table ------------------------------------------------------------

def runners(ctx) -> dict:
    "For each workload: (items, metric name, {library: run(ctx, seed)}), in the order the runs alternate"
    fastai = ctx['python'] is not None
    def libs(d): return {k: v for k, v in d.items() if fastai or k != 'fastai'}
    return {
        'vision': ('images', 'error_rate', libs({'fastnb': vision_fastnb, 'fastnb cache=False': lambda c,
                                                 s: vision_fastnb(c, s, cache=False),
                                                 'fastai': vision_fastai, 'plain PyTorch': vision_plain})),
        'tabular': ('rows', 'accuracy', libs({'fastnb': tabular_fastnb, 'fastai': tabular_fastai,
                                              'plain PyTorch': tabular_plain})),
        'collab': ('ratings', 'rmse', libs({'fastnb': collab_fastnb, 'fastai': collab_fastai,
                                            'plain PyTorch': collab_plain})),
        'lr_find': ('images', 'suggested lr', libs({'fastnb': lr_find_fastnb, 'fastai': lr_find_fastai,
                                                    'plain PyTorch': lr_find_plain})),
    }

def bench(workload, items, metric, libs, ctx, repeats, epochs) -> list:
    "Alternate the libraries `repeats` times; one row per library with medians and fastnb's speed ratios"
    runs = {lib: [] for lib in libs}
    # a second each: one untimed run of each first, so that no library pays the first-call costs
    if workload in ('tabular', 'collab'):
        for run in libs.values(): run(ctx, 0)
    for seed in range(repeats):
        for lib, run in libs.items():
            r = run(ctx, seed); runs[lib].append(r)
            print(f"  {workload} {lib:<19} repeat {seed}: {r['seconds']:7.2f} s, {metric} {r['metric']:.4g}",
                  flush=True)
    rows = []
    for lib, rs in runs.items():
        secs = statistics.median(r['seconds'] for r in rs)
        rows.append(dict(workload=workload, library=lib, seconds=secs, items=items,
                         items_per_s=statistics.median(r['n_train'] for r in rs) * epochs / secs,
                         metric_name=metric, metric=statistics.median(r['metric'] for r in rs), runs=rs))
    for row in rows:
        if row['library'].startswith('fastnb'):
            for other in rows:
                if other['library'] in ('fastai', 'plain PyTorch'):
                    row[f"vs {other['library']}"] = other['seconds'] / row['seconds']
                    # side by side, round by round
                    per_repeat = [o['seconds'] / r['seconds'] for o, r in zip(other['runs'], row['runs'])]
                    row[f"vs {other['library']} range"] = (min(per_repeat), max(per_repeat))
    return rows

def markdown(rows) -> str:
    head = ("| workload | library | median s | items/s | metric (median) | fastnb speed vs fastai | fastnb speed vs "
            "plain |")
    lines = [head, '|' + '---|' * 7]
    ratio = lambda r, k: f"{r[k]:.2f}x ({r[k + ' range'][0]:.2f}-{r[k + ' range'][1]:.2f})" if k in r else '—'
    for r in rows:
        metric = (f"{r['metric_name']} {r['metric']:.2e}" if r['metric_name'] == 'suggested lr'
                  else f"{r['metric_name']} {r['metric']:.4f}")
        lines.append(f"| {r['workload']} | {r['library']} | {r['seconds']:.2f} | {r['items_per_s']:,.0f} "
                     f"{r['items']}/s | {metric} | {ratio(r, 'vs fastai')} | {ratio(r, 'vs plain PyTorch')} |")
    return '\n'.join(lines)

def machine(threads, fastai_version) -> dict:
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                if l.startswith('model name')), platform.processor())
    import fastnb
    return dict(cpu=cpu, cores=os.cpu_count(), torch=torch.__version__, fastai=fastai_version,
                fastnb=fastnb.__version__,
                python=platform.python_version(), threads=threads, loadavg=os.getloadavg())

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--fastai-python', default=None, help="python of a venv with fastai 2.8.12 (default "
                   f"{vbench.FASTAI_PYTHON}; skipped if missing; with --quick only if given)")
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=2, help="torch threads for all three")
    p.add_argument('--quick', action='store_true', help="a smoke test: 1 repeat, 1 epoch, 128 + 64 digits, 2,000 "
                                                        "ratings, 12 lr_find iterations")
    p.add_argument('--only', nargs='+', choices=WORKLOADS, default=WORKLOADS)
    p.add_argument('--json', help="also write the table (and every run) to this JSON file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    from fastnb.datasets import get_dataset
    tmp = Path(tempfile.mkdtemp(prefix='fastnb_bench_'))
    python = vbench.fastai_python(args.fastai_python, args.quick)
    fastai_version = (vbench.run_script(python, "import fastai, json; print(json.dumps(fastai.__version__))") if python
                      else None)
    if args.quick:
        args.repeats = 1
        for d in (VISION, TABULAR, COLLAB): d['epochs'] = 1
    ctx = dict(python=python, threads=args.threads, num_it=12 if args.quick else 100, path=get_dataset('mnist_5k'))
    if args.quick: ctx['path'] = subset_folder(ctx['path'], tmp/'mnist_subset', 128, 64)
    if 'tabular' in args.only:
        ctx['wage'], ctx['wage_splits'] = wage_table()
        ctx['wage_csv'], ctx['wage_splits_json'] = str(tmp/'wage.csv'), str(tmp/'wage_splits.json')
        ctx['wage'].to_csv(ctx['wage_csv'], index=False)
        Path(ctx['wage_splits_json']).write_text(json.dumps(ctx['wage_splits']))
    if 'collab' in args.only:
        ctx['ratings'], ctx['ratings_splits'] = movielens_table(2_000 if args.quick else None)
        ctx['ratings_csv'], ctx['ratings_splits_json'] = str(tmp/'ratings.csv'), str(tmp/'ratings_splits.json')
        ctx['ratings'].to_csv(ctx['ratings_csv'], index=False)
        Path(ctx['ratings_splits_json']).write_text(json.dumps(ctx['ratings_splits']))
    info = machine(args.threads, fastai_version)
    print(f"CPU: {info['cpu']} ({info['cores']} cores); torch {info['torch']}, fastai "
          f"{info['fastai'] or '(skipped)'}, fastnb {info['fastnb']}, python "
          f"{info['python']}; {args.threads} thread(s); load average {' '.join(f'{x:.2f}' for x in info['loadavg'])}"
          f"{'; --quick' if args.quick else ''}; {args.repeats} repeat(s), alternating", flush=True)
    epochs = dict(vision=VISION['epochs'], tabular=TABULAR['epochs'], collab=COLLAB['epochs'], lr_find=1)
    rows = []
    for workload, (items, metric, libs) in runners(ctx).items():
        if workload in args.only: rows += bench(workload, items, metric, libs, ctx, args.repeats, epochs[workload])
    info['loadavg_end'] = os.getloadavg()
    table = markdown(rows)
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in info['loadavg_end'])}\n")
    for r in rows:
        print(f"{r['workload']:<8} {r['library']:<19} {r['seconds']:8.2f} s {r['items_per_s']:10,.0f} {r['items']}/s  "
              f"{r['metric_name']} {r['metric']:.4g}  "
              + '  '.join(f"{k} {r[k]:.2f}x" for k in ('vs fastai', 'vs plain PyTorch') if k in r))
    print('\n' + table)
    if args.json:
        Path(args.json).write_text(json.dumps(dict(machine=info, repeats=args.repeats, quick=args.quick,
                                                   settings=dict(vision=VISION, tabular=TABULAR, collab=COLLAB,
                                                                 lr_find_iterations=ctx['num_it']),
                                                   rows=rows, markdown=table), indent=1))

if __name__ == '__main__': main()
