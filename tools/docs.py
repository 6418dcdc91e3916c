"""Build fastnb's README and docs site without Quarto.

    python tools/docs.py readme     # README.md from nbs/index.ipynb
    python tools/docs.py site       # the docs site into _docs/ (Sphinx + MyST-NB)
    python tools/docs.py site --execute   # the site to publish: every notebook run first, so pages show outputs
    python tools/docs.py site --execute --only 14_interpret 07_learner   # run only these (a look at their pages)
    python tools/docs.py all        # both

`site` alone (what CI runs after the tests) renders pages without outputs: a check, not the site to publish.

The site is made from the notebooks after nbdev's own processing (`nbdev.serve.proc_nbs`: hidden cells dropped,
`show_doc` cells executed, exports cleaned), then turned into pages Sphinx understands: the front matter becomes a
`# Title` and a description, and Quarto-only directives are removed. Notebooks are read with `fastnb.nbparse`, the
parser the slides use too, from this checkout (put first on `sys.path`, before any installed fastnb).
"""
import sys
from pathlib import Path
import argparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's fastnb, not an installed one
from fastnb.nbparse import directives, strip_directives, read_nb

# --- README ---------------------------------------------------------------

def readme_markdown(nb:dict) -> str:
    "The README text of a notebook: markdown as is, code in python fences, hidden and export-only cells left out"
    parts = []
    for c in nb['cells']:
        d = directives(c)
        if c['cell_type'] == 'markdown': parts.append(c['source'])
        elif c['cell_type'] == 'code' and not ({'hide', 'export', 'exporti', 'default_exp'} & d.keys()):
            src = strip_directives(c['source']).strip()
            if src: parts.append(f"```python\n{src}\n```")
    header = '<!-- Generated from nbs/index.ipynb by tools/docs.py: edit the notebook, not this file. -->\n\n'
    return header + '\n\n'.join(parts).strip() + '\n'

def build_readme(root=ROOT) -> Path:
    dest = root/'README.md'
    dest.write_text(readme_markdown(read_nb(root/'nbs'/'index.ipynb')), encoding='utf-8')
    return dest

def main(argv=None):
    "Build the README and/or the docs site"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('what', nargs='?', default='all', choices=['readme', 'site', 'all'])
    parser.add_argument('--execute', action='store_true', help='run the notebooks first so pages show their outputs')
    parser.add_argument('--only', nargs='+', metavar='NOTEBOOK', help='with --execute, run only these notebooks (names '
                                                                      'without .ipynb)')
    args = parser.parse_args(argv)
    what = args.what
    if what in ('readme', 'all'): print('wrote', build_readme())
    if what in ('site', 'all'):
        import docs_site
        docs_site.build(ROOT, execute=args.execute, only=args.only)

if __name__ == '__main__': main()
