#!/usr/bin/env bash
# Does the built wheel work outside the repository? (a user's `pip install fastnb`, not a clone)
#   bash tools/wheel_check.sh [--keep]
# Builds the wheel (`python -m build`), installs it into a fresh virtual environment in a temporary folder (PyTorch
# included: about 6 GB and a few minutes), gives it an empty fastnb home (FASTNB_HOME: datasets are built again from
# their packages), and from a folder outside the clone runs: the README's quick start and its next steps (the Python
# blocks of README.md, in order), fastnb_train and fastnb_predict, fastnb_slides on a copy of a lesson (run and
# exported), fastnb_app (its page answers with the token), and two tutorials of the docs (tabular, collab) executed
# with nbconvert. Prints one line per step and `wheel check: N passed, M failed`; exits non-zero if any step failed.
# --keep keeps the temporary folder (its path is printed). Needs about 8 GB free disk; takes 6 to 16 minutes on 2
# cores (measured: 5.9 on a quiet machine).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
keep=${1:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/fastnb-wheel.XXXXXX") || exit 1
if [ "$keep" = --keep ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
free=$(df -Pm "$work" | awk 'NR==2 {print $4}')
if [ "$free" -lt 8000 ]; then
  echo "Only $free MB free under $work: the check needs about 8 GB (a venv with PyTorch)" >&2; exit 1
fi
passed=0; failed=()
step() {  # step NAME COMMAND...: run it in $work/run, log to $work/NAME.log
  local name=$1 t=$SECONDS; shift
  if (cd "$work/run" && "$@") > "$work/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok     $name ($((SECONDS - t)) s)"
  else
    failed+=("$name"); echo "FAILED $name ($((SECONDS - t)) s): last lines of its log:"
    tail -15 "$work/$name.log" | sed 's/^/    /'
  fi
}
mkdir -p "$work/run" "$work/home"
export FASTNB_HOME=$work/home MPLBACKEND=Agg FASTNB_NO_BROWSER=1

echo "== building the wheel"
python -c "import build" 2>/dev/null || { echo "the wheel check needs build: pip install -e '.[dev]'" >&2; exit 1; }
# from a copy of the working tree (tracked and new files, not ignored ones), so that no build/ is left in the clone
mkdir -p "$work/src" && git -C "$repo" ls-files -z --cached --others --exclude-standard \
  | (cd "$repo" && xargs -0 cp --parents -t "$work/src" 2>/dev/null); true
python -m build --wheel --outdir "$work/dist" "$work/src" > "$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log"; echo "building the wheel failed" >&2; exit 1; }
wheel=$(ls "$work"/dist/fastnb-*.whl)
echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KB)"
echo "== installing it into a fresh venv in $work/venv"
python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q "$wheel" > "$work/install.log" 2>&1 \
  || { tail -20 "$work/install.log"; echo "installing the wheel failed" >&2; exit 1; }
export PATH=$work/venv/bin:$PATH VIRTUAL_ENV=$work/venv
unset PYTHONPATH
py=$work/venv/bin/python

# what the wheel holds: every module of the clone's package, and no file of the clone is imported
site=$(cd "$work/run" && "$py" -c "import fastnb, pathlib; print(pathlib.Path(fastnb.__file__).parent.parent)")
step modules bash -c "diff <(cd '$repo' && find fastnb -name '*.py' -not -path '*/__pycache__/*' | sort) \
                              <(cd '$site' && find fastnb -name '*.py' -not -path '*/__pycache__/*' | sort) \
                      && case '$site' in '$repo'*) exit 1;; esac"
step scripts bash -c 'for s in fastnb_datasets fastnb_train fastnb_predict fastnb_slides fastnb_app; do
                        "$s" --help >/dev/null || exit 1; done'

# the README's Python blocks, in order, as one script
"$py" - "$repo/README.md" > "$work/run/readme.py" <<'EOF'
import re, sys
blocks = re.findall(r'```python\n(.*?)```', open(sys.argv[1]).read(), re.S)
print('\n'.join(blocks))
print("assert learn.recorder.values[-1][-1] < 0.3, learn.recorder.values  # the quick start's error rate")
print("assert load_learner(path/'stamps.fnb').predict(img)[0] == label  # where the README says the export is")
EOF
step readme "$py" readme.py
step train fastnb_train --epochs 1 --out "$work/run/digits.fnb"
step predict bash -c "fastnb_predict '$work/run/digits.fnb' \"\$(find '$FASTNB_HOME' -name '*.png' | head -1)\""
mkdir -p "$work/run/course/lessons" "$work/run/course/images"  # the course as a student gets it: lessons and pictures
cp "$repo/nbs/lessons/07_what_now.ipynb" "$work/run/course/lessons/"
cp -r "$repo/nbs/images/app" "$work/run/course/images/"
step slides bash -c "fastnb_slides course/lessons/07_what_now.ipynb --execute --dest slides \
                     && test -s slides/07_what_now.slides.html"
step app "$py" - <<'EOF'
import re, subprocess, time, pathlib, urllib.request, urllib.error, http.cookiejar
from fastnb.app.project import sample_photos
folder = sample_photos(pathlib.Path('app'), 5)
proc = subprocess.Popen(['fastnb_app', str(folder)], stdout=subprocess.PIPE, text=True)
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
try:
    url = re.search(r'open (\S+) in your browser', proc.stdout.readline())[1]
    for _ in range(100):
        try: page = browser.open(url).read().decode(); break  # the token goes into a cookie
        except urllib.error.URLError: time.sleep(0.1)
    assert '<h1>fastnb_app</h1>' in page, page[:300]
    assert browser.open(url.split('?')[0] + 'status').status == 200  # the cookie lets the browser in
    print('fastnb_app answered at', url.split('?')[0])
finally: proc.terminate(); proc.wait()
EOF
for t in tabular collab; do
  cp "$repo/nbs/tutorials/$t.ipynb" "$work/run/"
  step "tutorial_$t" jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 \
                                        --output "ran_$t" "$t.ipynb"
done

echo "wheel check: $passed passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} = 0 ]
