"""Check that every module of fastnb imports only modules of earlier chapters (notebooks sort in reading order).

    python tools/chapter_order.py      # prints each import of a later chapter; exits 1 if there is one

A module's chapter is the notebook named in its `File to edit` header; an import anywhere in the module counts, a
lazy one inside a function too (it is still a chapter that can't be read before a later one).
"""
import re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORT = re.compile(r'^\s*(?:from\s+(\.+)([\w.]*)\s+import|from\s+(fastnb[\w.]*)\s+import|import\s+(fastnb[\w.]*))')

def chapters(pkg:Path) -> dict:
    "{module name: its notebook's name} for the modules nbdev exported"
    out = {}
    for f in sorted(pkg.rglob('*.py')):
        m = re.search(r'File to edit: \S*?nbs/(\S+)\.ipynb', f.read_text(encoding='utf-8'))
        if m: out['.'.join(f.relative_to(pkg.parent).with_suffix('').parts)] = m[1]
    return out

def imported(mod:str, line:str) -> str|None:
    "The module that `line` of module `mod` imports, if it is a fastnb import"
    m = IMPORT.match(line)
    if not m: return None
    if m[1]: return '.'.join(mod.split('.')[:-len(m[1])] + ([m[2]] if m[2] else []))
    return m[3] or m[4]

def later_imports(pkg:Path=ROOT/'fastnb') -> list:
    "(module, its chapter, line number, imported module, its chapter) for each import of a later chapter"
    nbs, bad = chapters(pkg), []
    for mod, nb in nbs.items():
        path = pkg.parent/(mod.replace('.', '/') + '.py')
        for n, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            target = imported(mod, line)
            if target in nbs and nbs[target] > nb: bad.append((mod, nb, n, target, nbs[target]))
    return bad

if __name__ == '__main__':
    bad = later_imports()
    for mod, nb, n, target, tnb in bad:
        print(f"{mod} ({nb}.ipynb) line {n} imports {target}, from a later chapter ({tnb}.ipynb): move the code "
              "or the chapter", file=sys.stderr)
    sys.exit(1 if bad else 0)
