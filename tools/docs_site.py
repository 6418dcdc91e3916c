"""The docs site: nbdev-processed notebooks -> Sphinx + MyST-NB pages -> HTML in _docs/, with a link check.

Layout of the site: the home page from `nbs/index.ipynb`; one API page per numbered module notebook, named as nbdev
names it (`00_torch_core.ipynb` -> `torch_core.html`, so nbdev's own doc links resolve); `tutorials/` and
`lessons/` from the folders of the same name under `nbs/`; a top-level notebook whose name doesn't start with a digit
(`performance.ipynb`) is a page of its own next to the API in the home page's table of contents. Each lesson page links
to its reveal.js slides, which `fastnb.slides` exports into `slides/` of the site after Sphinx has run (`fastnb_slides
--execute` replaces them with slides that show outputs).

Imported by `tools/docs.py`, which puts this checkout's fastnb first on `sys.path`.
"""
import html.parser, json, re, shutil, subprocess, sys, urllib.parse
from pathlib import Path
import yaml
from docutils.nodes import make_id
from fastnb.nbparse import (directives, strip_directives, read_nb, should_run, slide_type, headings, is_hidden_path,
                            lesson_decks)

SECTIONS = {'tutorials': 'Tutorials', 'lessons': 'Lessons'}

def front_matter(nb:dict) -> dict:
    "The YAML front matter nbdev's processing puts in a raw cell at the top ({} if none)"
    for c in nb['cells']:
        if c['cell_type'] == 'raw' and c['source'].startswith('---'):
            return yaml.safe_load(c['source'].strip().strip('-')) or {}
    return {}

def fix_links(src:str, doc_url:str, depth:int, anchors:dict|None=None) -> str:
    "Point nbdev's absolute doc links at this site's pages, with anchors as Sphinx writes them"
    up = '../' * depth
    def _sub(m):
        page, _, anchor = m.group(1).partition('#')
        page = re.sub(r'\.html$', '', page)
        if anchor and anchors is not None:  # a name with no show_doc heading: its class's heading, else the page
            known = anchors.get(page, set())
            anchor = next((a for a in (make_id(anchor), make_id(anchor.split('.')[0])) if a in known), '')
        return f"({up}{page}.ipynb" + (f"#{make_id(anchor)}" if anchor else '') + ')' if page else m.group(0)
    return re.sub(r'\(' + re.escape(doc_url) + r'([^)\s]*)\)', _sub, src)

def page_anchors(page:dict) -> set:
    "The ids Sphinx gives the headings of a page"
    return {make_id(re.sub(r'[`*\\]', '', h)) for c in page['cells'] if c['cell_type'] == 'markdown'
            for _, h in headings(c['source'])}

def drop_pandoc_attrs(md:str) -> str:
    "Remove Pandoc link attributes (`[source](url){target=...}`), which only Quarto understands"
    return re.sub(r'(\]\([^)]*\))\{[^}]*\}', r'\1', md)

def escape_heading_underscores(md:str) -> str:
    "Keep `__repr__` in a show_doc heading literal (Markdown would make it bold)"
    return re.sub(r'^(#{1,6} .*)$', lambda m: m.group(1).replace('_', r'\_'), md, flags=re.M)

def title_cell_rest(src_nb:dict) -> str:
    ("The text of a source notebook's title cell after its `# title`, `> summary` and `- key: value` lines: nbdev's "
     "front matter processing drops the whole cell")
    cell = next((c for c in src_nb['cells'] if c['cell_type'] == 'markdown'), None)
    if cell is None or not re.search(r'^#\s+\S', cell['source'], re.M): return ''
    title = summary = False
    def is_front_matter(line):
        nonlocal title, summary
        if not title and re.match(r'^#\s+\S', line): title = True; return True
        if not summary and re.match(r'^>\s+\S', line): summary = True; return True
        return bool(re.match(r'^-\s+\S.*:.*\S\s*$', line))
    return '\n'.join(l for l in cell['source'].splitlines() if not is_front_matter(l)).strip()

def to_page(nb:dict, intro:str='') -> dict:
    ("A processed notebook as a Sphinx page: title from the front matter, then `intro` (the rest of the title cell), "
     "Quarto-only directives handled")
    fm = front_matter(nb)
    cells = []
    if fm.get('title'):
        head = (f"# {fm['title']}" + (f"\n\n> {fm['description']}" if fm.get('description') else '')
                + (f"\n\n{intro}" if intro else ''))
        cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': head})
    for c in nb['cells']:
        if c['cell_type'] == 'raw': continue
        is_note = slide_type(c) == 'notes'
        c = dict(c, metadata={k: v for k, v in c.get('metadata', {}).items() if k != 'slideshow'})
        if is_note and c['cell_type'] == 'markdown':  # a deck's speaker note: shown as a note on the page
            c['source'] = ':::{admonition} Speaker note\n:class: note\n' + c['source'] + '\n:::'
        if c['cell_type'] == 'code':
            d = directives(c)
            if d.get('include') == 'false': continue
            c['source'] = strip_directives(c['source'])
            if d.get('output') == 'asis':  # as Quarto does: the markdown output (show_doc's) becomes page text
                md = ''.join(''.join(o.get('data', {}).get('text/markdown', '')) for o in c.get('outputs', []))
                md = re.sub(r'^\s*---\s*\n', '', md)  # drop show_doc's leading rule
                c = {'cell_type': 'markdown', 'metadata': {},
                     'source': escape_heading_underscores(drop_pandoc_attrs(md))}
                if not md.strip(): continue
            else:
                if d.get('echo') == 'false': c['metadata']['tags'] = ['remove-input']
                if not c['source'].strip() and not c.get('outputs'): continue
        cells.append(c)
    return dict(nb, cells=cells, nbformat=4, nbformat_minor=5)

def slides_links(deck:str) -> str:
    "The line at the top of a lesson page: its slides (exported by fastnb_slides into the site) and its clean copy"
    return (f'<p class="lesson-slides"><a href="../slides/{deck}.slides.html">Present this lesson as slides</a> '
            f'(reveal.js, works offline; <kbd>s</kbd> opens the speaker notes). To retype the code yourself, open '
            f'<code>clean/{deck}.ipynb</code>.</p>')

def lessons_index(names:list, lessons:dict) -> str:
    "The lessons page: each lesson's page and slides, then the toctree that puts the pages in the sidebar"
    rows = [f'- [{title}]({name}.ipynb) &middot; <a href="../slides/{deck}.slides.html">slides</a>'
            for name in names for deck, title in [lessons[name]]]
    intro = ('# Lessons\n\nThe course, one notebook per lesson. Each runs top to bottom in the tests, presents live '
             'with RISE in JupyterLab, and exports to slides that work offline (`fastnb_slides`). The `clean/` folder '
             'of the repository holds each lesson with its prose and outputs removed, for you to retype.\n\n')
    return intro + '\n'.join(rows) + '\n\n' + toctree(names, hidden=True)

def export_slides(nbs:Path, site:Path) -> list:
    "Export the lesson decks in `nbs/lessons` (as they are: no run) to `site/slides` with fastnb.slides"
    from fastnb.slides import export_deck
    return [export_deck(d, site/'slides') for d in lesson_decks(nbs)]

def toctree(entries, caption=None, hidden=False, maxdepth=1) -> str:
    opts = [f':maxdepth: {maxdepth}'] + ([f':caption: {caption}'] if caption else []) + ([':hidden:'] if hidden else [])
    return '```{toctree}\n' + '\n'.join(opts) + '\n\n' + '\n'.join(entries) + '\n```\n'

def page_title(nb:dict, default:str) -> str:
    return front_matter(nb).get('title', default)

def write_site_source(root:Path, proc:Path, src:Path, doc_url:str) -> dict:
    ("Write the Sphinx source tree for the notebooks in `proc`; return each page's intro (the rest of its title cell) "
     "by HTML path")
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy(root/'docs'/'conf.py', src/'conf.py')
    if (root/'nbs'/'images').is_dir():
        shutil.copytree(root/'nbs'/'images', src/'images')  # pictures the pages show (RISE screenshots)
    api, top, sections, pages, lessons, home, intros = [], [], {k: [] for k in SECTIONS}, {}, {}, None, {}
    for path in sorted(proc.rglob('*.ipynb')):
        rel = path.relative_to(proc)
        if is_hidden_path(rel): continue
        nb = read_nb(path)
        fm = front_matter(nb)
        name = Path(fm.get('output-file', rel.with_suffix('.html').name)).stem
        folder = rel.parts[0] if len(rel.parts) > 1 else ''
        if folder and folder not in SECTIONS: continue
        source = root/'nbs'/rel
        intros[f'{folder}/{name}.html'.lstrip('/')] = intro = title_cell_rest(read_nb(
            source)) if source.is_file() else ''
        page = to_page(nb, intro)
        if rel.name == 'index.ipynb' and not folder: home = page
        elif folder:
            sections[folder].append(name)
            if folder == 'lessons':
                page['cells'].insert(1, {'cell_type': 'markdown', 'metadata': {}, 'source': slides_links(rel.stem)})
                lessons[name] = (rel.stem, page_title(nb, name))
        elif rel.name[0].isdigit(): api.append((rel.name, name, page_title(nb, name)))
        else: top.append(name)
        pages[(folder, name)] = page
    if home is not None:
        home['cells'].append({'cell_type': 'markdown', 'metadata': {},
                              'source': toctree(['api', *top, 'tutorials/index', 'lessons/index'], hidden=True)})
    anchors = {name: page_anchors(page) for (folder, name), page in pages.items() if not folder}
    for (folder, name), page in pages.items():
        depth = 1 if folder else 0
        for i, c in enumerate(page['cells']):
            c['id'] = f'cell-{i}'
            if c['cell_type'] == 'markdown': c['source'] = fix_links(c['source'], doc_url, depth, anchors)
        dest = src/folder/f'{name}.ipynb'
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(page, indent=1), encoding='utf-8')
    api_md = ('# API\n\nOne page per module, in the order the library is built: each shows every exported name with '
             'its signature and docstring, with examples and tests.\n\n')
    api_md += '\n'.join(f'- [{title}]({name}.ipynb) (`{nbname}`)' for nbname, name, title in api) + '\n\n'
    (src/'api.md').write_text(api_md + toctree([n for _, n, _ in api], hidden=True), encoding='utf-8')
    for folder, title in SECTIONS.items():
        names = sections[folder]
        (src/folder).mkdir(exist_ok=True)
        if folder == 'lessons' and names: body = lessons_index(names, lessons)
        else: body = f'# {title}\n\n' + (toctree(names) if names else f'No {title.lower()} yet.\n')
        (src/folder/'index.md').write_text(body, encoding='utf-8')
    return intros

class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.links, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'a' and a.get('href'): self.links.append(a['href'])
        if tag in ('link', 'script', 'img') and (a.get('href') or a.get('src')):
            self.links.append(a.get('href') or a.get('src'))

def broken_links(site:Path) -> list:
    "Local links in the HTML of `site` whose file or anchor doesn't exist, and any http(s) asset (must work offline)"
    pages = {}
    for p in site.rglob('*.html'):
        if '_static' in p.relative_to(site).parts: continue  # theme template fragments, not pages
        parser = _Links(); parser.feed(p.read_text(encoding='utf-8', errors='replace')); pages[p.resolve()] = parser
    bad = []
    for p, parser in pages.items():
        for href in parser.links:
            url = urllib.parse.urlsplit(href)
            if url.scheme in ('http', 'https', 'mailto', 'data') or href.startswith('//'):
                continue  # data: URIs carry their content
            target = (p.parent/urllib.parse.unquote(url.path)).resolve() if url.path else p
            if target.is_dir(): target = target/'index.html'
            if not target.exists(): bad.append(f'{p.relative_to(site.resolve())}: {href} (no such file)')
            elif url.fragment and target in pages and url.fragment not in pages[target].ids:
                bad.append(f'{p.relative_to(site.resolve())}: {href} (no such anchor)')
    return bad

class _Text(html.parser.HTMLParser):
    "The visible text of an HTML page (scripts and styles left out)"
    def __init__(self):
        super().__init__(); self.parts, self._skip = [], 0
    def handle_starttag(self, tag, attrs): self._skip += tag in ('script', 'style')
    def handle_endtag(self, tag): self._skip -= tag in ('script', 'style') and self._skip > 0
    def handle_data(self, data):
        if not self._skip: self.parts.append(data)

def show_doc_names(proc_nb:dict) -> set:
    "The names a processed notebook has a `show_doc` entry for (the heading of each `show_doc` output)"
    names = set()
    for c in proc_nb['cells']:
        if c['cell_type'] != 'code' or 'show_doc' not in c['source']: continue
        for o in c.get('outputs', []):
            md = ''.join(o.get('data', {}).get('text/markdown', ''))
            names.update(re.sub(r'[`*\\]', '', h).strip() for h in re.findall(r'^#{2,6} +(.+)$', md, re.M))
    return names

def needs_show_doc(obj) -> bool:
    "A public function or class needs a `show_doc` entry of its own; a constant or variable needs only be named"
    import inspect
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)

def undocumented_names(nbs:Path, proc:Path, site:Path) -> list:
    ("`chapter: name (what's missing)` for each name in a module's `__all__` that has no entry of its own in the "
     "chapter that exports it: a `show_doc` for a function or class (an alias: for what it names, and a mention), a "
     "mention on the page for anything else (an `all` module aside)")
    import importlib
    missing = []
    for nb_path in sorted(nbs.glob('*.ipynb')):
        exp = next((d['default_exp'] for c in read_nb(nb_path)['cells'] if 'default_exp' in (d := directives(c))), None)
        if not exp or exp.endswith('all') or exp == 'imports':
            continue  # an `all` module, or the standard names, have nothing of their own
        page = site/f"{_page_name(nb_path)}.html"
        if not page.is_file(): missing.append(f'{nb_path.name}: no page {page.name}'); continue
        parser = _Text(); parser.feed(page.read_text(encoding='utf-8')); text = ' '.join(parser.parts)
        shown = show_doc_names(read_nb(proc/nb_path.name))
        mod = importlib.import_module(f'fastnb.{exp}')
        for n in mod.__all__:
            obj = getattr(mod, n, None)
            if needs_show_doc(obj) and n not in shown and getattr(obj, '__name__', n) not in shown:
                missing.append(f'{nb_path.name}: {n} (no show_doc)')
            elif not re.search(rf'(?<![\w.]){re.escape(n)}(?!\w)', text):
                missing.append(f'{nb_path.name}: {n} (never named on the page)')
    return missing

def missing_intros(site:Path, intros:dict) -> list:
    "`page: words` for each page that doesn't show the first words of its notebook's intro (the text under the title)"
    missing = []
    for rel, intro in intros.items():
        if not (first := re.findall(r'\w+', intro)[:6]): continue
        parser = _Text(); parser.feed((site/rel).read_text(encoding='utf-8'))
        words = ' '.join(re.findall(r'\w+', ' '.join(parser.parts)))
        if ' '.join(first) not in words: missing.append(f"{rel}: {' '.join(first)!r}")
    return missing

def _page_name(nb_path:Path) -> str:
    "The page nbdev names for a numbered notebook: `00_torch_core.ipynb` -> `torch_core`"
    return re.sub(r'^\d+[a-z]?_', '', nb_path.stem)

PROGRESS_TEXT = re.compile(r'\|█|█\||\d+\.\d+% \[\d+/\d+|Epoch \d+/\d+ :')  # what console progress bars print
RESULTS_TABLE = re.compile(r'<table\b.*?</table>', re.S | re.I)

def noisy_pages(site:Path) -> list:
    "`page: what` for each page that shows progress-bar text, an empty results table, or one results table twice"
    noisy = []
    for p in sorted(site.rglob('*.html')):
        rel = p.relative_to(site)
        if rel.parts[0] in ('_static', 'slides'): continue  # the decks are checked by fastnb_slides --check
        html_text = p.read_text(encoding='utf-8', errors='replace')
        parser = _Text(); parser.feed(html_text); text = ''.join(parser.parts)
        if m := PROGRESS_TEXT.search(text): noisy.append(f'{rel}: progress-bar text '
                                                         f'{text[max(0, m.start()-20):m.end()+20]!r}')
        tables = [t for t in RESULTS_TABLE.findall(html_text) if 'train_loss' in t]
        if n_empty := sum('<td' not in t for t in tables): noisy.append(f'{rel}: {n_empty} empty results table(s) (a '
                                                                        'header, no rows)')
        if len(set(tables)) < len(tables): noisy.append(f'{rel}: a results table shown twice')
    return noisy

def _execute_one(path:Path, skip_flags) -> Path:
    ("Run the notebook `path` in its folder, keeping its outputs (in a spawned process of its own: see "
     "`execute_notebooks`)")
    from execnb.nbio import read_nb as read_exec_nb, write_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    import multiprocessing
    # the notebook's own worker processes (data loaders) start as in a Jupyter kernel on this system, not spawned like
    # this one
    if 'fork' in multiprocessing.get_all_start_methods(): multiprocessing.set_start_method('fork', force=True)
    nb = read_exec_nb(path)
    with working_directory(path.parent): CaptureShell(path).run_all(nb, exc_stop=True,
                                                                    preproc=lambda cell: not should_run(
                                                                        cell, skip_flags))
    write_nb(nb, path)
    return path

def execute_notebooks(nbs:Path, dest:Path, skip_flags, only=None, n_workers:int=2) -> Path:
    """Copy `nbs` to `dest` and run its notebooks there (those named in `only`, else all), keeping outputs. Each runs in
a
    fresh process, so nothing one notebook registers or changes reaches the next (as when a reader runs one notebook),
    `n_workers` at a time with one thread each"""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing, os
    if dest.exists(): shutil.rmtree(dest)
    shutil.copytree(nbs, dest, ignore=lambda folder, names: [n for n in names if is_hidden_path(n)])
    paths = [p for p in sorted(dest.rglob('*.ipynb')) if not only or p.stem in only]
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # read by the workers' torch when it starts
    with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1) as ex:
        for done in ex.map(_execute_one, paths, [skip_flags] * len(paths)):
            print('docs: executed', done.relative_to(dest), flush=True)
    return dest

def build(root:Path, execute:bool=False, only=None):
    ("Process the notebooks with nbdev (optionally run first, all or those named in `only`), write Sphinx sources, "
     "build HTML, check it")
    from nbdev.config import get_config
    from nbdev.serve import proc_nbs
    cfg = get_config()
    nbs = execute_notebooks(cfg.nbs_path, root/'_exec_nbs', cfg.tst_flags.split(), only) if execute else cfg.nbs_path
    proc = proc_nbs(nbs, force=True)  # the cache misses changes to the installed package
    src, site = root/'_site_src', root/cfg.doc_path
    intros = write_site_source(root, Path(proc), src, doc_url=cfg.doc_host.rstrip('/') + cfg.doc_baseurl.rstrip('/')
                               + '/')
    if site.exists(): shutil.rmtree(site)
    res = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', '-j', 'auto',
                          str(src), str(site)])
    shutil.rmtree(site.parent/'jupyter_execute', ignore_errors=True)  # MyST-NB's copy of the outputs, beside the site
    if res.returncode: sys.exit(f'docs: Sphinx reported warnings or errors (above)')
    slides = export_slides(Path(nbs), site)
    bad = broken_links(site)
    if bad: sys.exit('docs: broken links:\n  ' + '\n  '.join(bad))
    noisy = noisy_pages(site)
    if noisy: sys.exit('docs: pages with training noise (see fastnb.callback.progress: executed pages show one final '
                       'table per fit):\n  ' + '\n  '.join(noisy))
    if lost := missing_intros(site, intros): sys.exit("docs: pages without the text under their notebook's "
                                                      "title:\n  " + '\n  '.join(lost))
    missing = undocumented_names(Path(cfg.nbs_path), Path(proc), site)
    if missing: sys.exit(f"docs: {len(missing)} public names without an entry of their own in the chapter that exports "
                         "them (a function or class: add `show_doc(name)` with its arguments documented by docments; "
                         "anything else: name it in the prose):\n  " + '\n  '.join(missing))
    print(f'docs: {len(list(site.rglob("*.html")))} pages in {site} ({len(slides)} slide decks in {site/"slides"}), '
          'links checked, no progress noise, every page has its intro, every public function and class has its '
          'show_doc' + ('' if execute else '; no outputs: the site to publish is built with --execute'))
