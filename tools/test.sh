#!/usr/bin/env bash
# fastnb's test command (what CI runs): bash tools/test.sh
#  0. installs Chromium when it is missing (Debian's package; as root or with sudo -n), else stops with what to install
#     then checks the free disk space and sends every temporary file of the run into one folder, removed at the end
#  1. uses the active virtual environment, else makes ./.venv, and installs fastnb with its dev extra when missing
#  2. checks that fastnb/ is exported from the notebooks, the notebooks are clean, README.md is rendered, the
#     clean copies of the lessons (clean/) are up to date, and `ruff check` passes (ruff.toml: lines <= 120 characters)
#  3. prepares the offline datasets, runs every notebook but the lessons with nbdev_test (on both cores), builds the
#     docs site, runs each benchmark script (tools/bench/*.py) in its --quick mode (it must print its result line),
#     then runs each lesson deck once (fastnb_slides --execute: a failing cell fails), exports it into the site and
#     checks it in headless Chromium driven by Playwright (slide count, first slide not blank, no Python error, no
#     progress bar, nan or duplicated results table, no slide taller than its frame). The live path (JupyterLab + RISE
#     in the same browser) is tested by nbs/70_slides.ipynb, one of the notebooks run above
#  4. prints `notebooks: N passed, M failed` and exits non-zero if anything failed
# Environment: FASTNB_TEST_FLAGS="gpu slow" also runs cells marked with those flags; FASTNB_NO_BROWSER=1 skips everything that
# needs Chromium (its install, the cells marked `#| browser`, the decks' browser check); FASTNB_TEST_PATH limits the notebooks
# (the decks run only when it is unset or under nbs/lessons). A developer runs one deck with nbdev_test --path nbs/lessons/X.ipynb.
# FASTNB_WHEEL_CHECK=1 also runs tools/wheel_check.sh: the wheel built, installed in a fresh venv outside the clone, and
# the README's quick start, the commands and two tutorials run from there (10 to 20 more minutes, 8 GB of disk).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
failures=()
fail() { failures+=("$1"); echo "FAILED: $1" >&2; }
tree_hash() { find "$@" -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.md' \) -not -path '*/.ipynb_checkpoints/*' \
              -not -path '*/__pycache__/*' -print0 2>/dev/null | sort -z | xargs -0 sha1sum | sha1sum; }

# 0. system tools, before anything slow. The tests use: Chromium (the browser checks of slides and apps), apt-get and
#    dpkg (the Debian packages two datasets come from). A missing browser is installed (Debian's package, as root or with
#    sudo -n); where that can't be done, the command stops here with one line saying what to install.
chromium_found() {
  if [ -n "${FASTNB_CHROMIUM:-}" ]; then command -v "$FASTNB_CHROMIUM" >/dev/null && return 0
    echo "FASTNB_CHROMIUM is '$FASTNB_CHROMIUM', which is not an executable: point it at a Chrome/Chromium binary" >&2; exit 1; fi
  local n; for n in chromium chromium-browser google-chrome google-chrome-stable; do command -v "$n" >/dev/null && return 0; done
  return 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"; else return 1; fi; }
if [ -z "${FASTNB_NO_BROWSER:-}" ] && ! chromium_found; then
  how="install Debian's chromium (sudo apt-get install --no-install-recommends chromium), set FASTNB_CHROMIUM to a Chrome/Chromium executable, or skip the browser checks with FASTNB_NO_BROWSER=1"
  if ! command -v apt-get >/dev/null || ! as_root true; then
    echo "The tests need Chromium, which is missing, and this user can't install it (no apt-get, or not root and no sudo -n): $how" >&2; exit 1
  fi
  echo "== installing Chromium (Debian's chromium, --no-install-recommends), which the browser tests need"
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } > /tmp/fastnb-apt.log 2>&1 \
    && chromium_found || { tail -5 /tmp/fastnb-apt.log >&2; echo "Installing Chromium failed (log: /tmp/fastnb-apt.log): $how" >&2; exit 1; }
fi

# 0b. disk. A run needs room for the venv (torch and its CUDA libraries: about 6 GB), the datasets (under 1 GB) and what
#     the tests write (about 2 GB at the peak). Every temporary file of the run goes into one folder, removed when the run
#     ends however it ends, so runs leave nothing behind. Too little free space stops the run here, saying so.
free_mb() { df -Pm "$1" | awk 'NR==2 {print $4}'; }
need_mb() {  # need_mb FOLDER MB WHAT
  local free; free=$(free_mb "$1")
  [ "$free" -ge "$2" ] || { echo "Only $free MB free on the disk holding $1, and $3 needs about $2 MB: free some disk space (old clones, virtual environments, temporary folders) and run again" >&2; exit 1; }
}
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/fastnb-test.XXXXXX") || { echo "could not make a temporary folder in ${TMPDIR:-/tmp}" >&2; exit 1; }
trap 'rm -rf "$run_tmp"' EXIT
trap 'exit 130' INT TERM
export TMPDIR=$run_tmp

# 1. environment
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv || { echo "could not create .venv" >&2; exit 1; }
  . .venv/bin/activate
fi
stamp="$VIRTUAL_ENV/.fastnb-dev-$( (cat settings.ini setup.py; echo "$root") | sha1sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  python -c 'import torch' 2>/dev/null || need_mb "$VIRTUAL_ENV" 8000 "installing torch and the other dependencies"
  echo "== installing fastnb[dev] into $VIRTUAL_ENV"
  python -m pip install -q --upgrade pip >/dev/null 2>&1
  python -m pip install -e ".[dev]" > "$VIRTUAL_ENV/fastnb-install.log" 2>&1 \
    || { tail -40 "$VIRTUAL_ENV/fastnb-install.log"; echo "pip install -e .[dev] failed (log: $VIRTUAL_ENV/fastnb-install.log)" >&2; exit 1; }
  touch "$stamp"
fi

# 2. sync checks
echo "== nbdev_export / nbdev_clean / README"
before=$(tree_hash fastnb); nbdev_export || fail "nbdev_export"
[ "$before" = "$(tree_hash fastnb)" ] || fail "fastnb/ was not in sync with the notebooks: nbdev_export changed it (review and commit)"
before=$(tree_hash nbs); nbdev_clean || fail "nbdev_clean"
[ "$before" = "$(tree_hash nbs)" ] || fail "notebooks were not clean: nbdev_clean changed them (review and commit)"
before=$(sha1sum README.md); python tools/docs.py readme >/dev/null || fail "README rendering"
[ "$before" = "$(sha1sum README.md)" ] || fail "README.md was not rendered from nbs/index.ipynb: tools/docs.py readme changed it (commit it)"
before=$(tree_hash clean); python -m fastnb.slides --clean >/dev/null || fail "clean copies of the lessons"
[ "$before" = "$(tree_hash clean)" ] || fail "clean/ was not in sync with nbs/lessons: fastnb_slides --clean changed it (commit it)"
python tools/chapter_order.py || fail "a module imports a later chapter (listed above)"
echo "== ruff check fastnb tools (ruff.toml: lines of at most 120 characters)"
if command -v ruff >/dev/null; then
  n_lint=0
  while IFS= read -r hit; do
    # nbdev 2.4 wraps a generated `__all__` at 120 characters without counting its `__all__ = `, so that line can reach
    # 130 and no notebook edit shortens it: left out
    case "$hit" in *": E501 "*) f=${hit%%:*}; n=${hit#*:}; n=${n%%:*}
      sed -n "${n}p" "$f" 2>/dev/null | grep -q '^__all__ = \[' && continue;; esac
    echo "$hit" >&2; n_lint=$((n_lint + 1))
  done < <(ruff check --quiet --output-format=concise fastnb tools 2>&1)
  [ "$n_lint" -eq 0 ] || fail "ruff check: $n_lint problem(s) listed above (wrap the line in the notebook it comes from)"
else fail "ruff is missing: pip install -e '.[dev]'"; fi

# 3. datasets, notebooks, docs
need_mb "$run_tmp" 3000 "running the tests (datasets and temporary files)"
if command -v fastnb_datasets >/dev/null 2>&1; then
  echo "== preparing datasets (at ${SECONDS}s)"
  # a dataset that can't be built (its package not downloadable: no apt-get, no network) stops the run here, with what to install
  fastnb_datasets || { echo "fastnb_datasets could not prepare the datasets the tests use (see above for what to install)" >&2; exit 1; }
fi

echo "== running notebooks (at ${SECONDS}s)"
log=$(mktemp)
flags=${FASTNB_TEST_FLAGS:-}
[ -n "${FASTNB_NO_BROWSER:-}" ] || flags="browser $flags"  # cells that drive Chromium (marked #| browser)
# two notebooks at a time, one thread each: both cores busy, no oversubscription. The lesson decks run once, below.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} nbdev_test --n_workers 2 --do_print --timing --flags "$flags" \
  --skip_folder_re '^([_.]|lessons$)' ${FASTNB_TEST_PATH:+--path "$FASTNB_TEST_PATH"} 2>&1 | tee "$log"
test_rc=${PIPESTATUS[0]}
n_run=$(grep -c '^Starting ' "$log")
n_failed=$(awk '/Tests Failed On The Following Notebooks/{f=1; next} f && /^\t/{n++} END{print n+0}' "$log")
if [ "$test_rc" -ne 0 ] && [ "$n_failed" -eq 0 ]; then n_failed=1; fail "nbdev_test exited $test_rc"; fi
[ "$n_failed" -eq 0 ] || fail "$n_failed notebook(s) failed"
rm -f "$log"

echo "== building docs (at ${SECONDS}s)"
python tools/docs.py site || fail "docs site"

# the benchmark scripts (tools/bench/*.py), each once in its --quick mode, two at a time: they print their tables from
# runs of seconds (no speed is judged here), so a script the library's changes broke fails here instead of rotting.
# A peer library that isn't installed (fastai: /work/fastai-venv) is skipped by the script, saying so.
if [ -z "${FASTNB_TEST_PATH:-}" ]; then
  echo "== benchmark scripts, --quick (at ${SECONDS}s)"
  bench_out=$run_tmp/bench; mkdir -p "$bench_out"
  printf '%s\n' tools/bench/*.py | OMP_NUM_THREADS=1 xargs -P 2 -I{} sh -c \
    'n=$(basename "$1" .py); s=$(date +%s); python "$1" --quick > "$2/$n.log" 2>&1; echo "$? $(( $(date +%s) - s ))" > "$2/$n.rc"' \
    _ {} "$bench_out"
  for script in tools/bench/*.py; do
    n=$(basename "$script" .py)
    # the line each prints with its result (a ratio where the script has a baseline to compare with)
    case $n in
      imports) want='the module on top';; precision) want='vs fp32';; learner) want=' ratio ';; ddp) want='fastnb/plain';;
      lm) want='valid loss';; parity) want='error mean';; photos) want='fastnb / fastai';; run) want='vs plain PyTorch';;
      tokenizer) want='k words/s';; transfer) want='to goal';; vision) want='fastnb / plain PyTorch';;
      long_text) want='pieces / whole';; *) want='';;
    esac
    read -r rc secs < "$bench_out/$n.rc" 2>/dev/null || rc=missing
    if [ "$rc" = 0 ] && grep -q -- "$want" "$bench_out/$n.log"; then echo "tools/bench/$n.py --quick: ok (${secs}s)"
    else tail -15 "$bench_out/$n.log" >&2; fail "tools/bench/$n.py --quick (exit $rc; expected a line with '$want')"; fi
  done
fi

decks=()
case "${FASTNB_TEST_PATH:-}" in
  "") ;;
  nbs/lessons*|./nbs/lessons*|"$root"/nbs/lessons*) decks=("$FASTNB_TEST_PATH") ;;
  *) decks=(skip) ;;
esac
if [ "${decks[0]:-}" != skip ]; then
  echo "== lesson decks: run, export to _docs/slides, check in headless Chromium (at ${SECONDS}s)"
  # two decks at a time, one thread each, as for the notebooks
  check=--check; [ -z "${FASTNB_NO_BROWSER:-}" ] || check=
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} python -m fastnb.slides --execute $check --n_workers 2 "${decks[@]}" || fail "lesson decks"
fi

if [ -n "${FASTNB_WHEEL_CHECK:-}" ]; then
  echo "== the built wheel, installed in a fresh venv outside the clone (tools/wheel_check.sh, at ${SECONDS}s)"
  bash tools/wheel_check.sh || fail "wheel check"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then printf 'failure: %s\n' "${failures[@]}"; fi
echo "notebooks: $((n_run - n_failed)) passed, $n_failed failed"
echo "total: ${SECONDS}s"
[ ${#failures[@]} -eq 0 ]
