#!/usr/bin/env bash
# fastnb's test command (what CI runs): bash tools/test.sh
#  1. uses the active virtual environment, else makes ./.venv, and installs fastnb with its dev extra when missing
#  2. checks that fastnb/ is exported from the notebooks, the notebooks are clean, README.md is rendered and the
#     clean copies of the lessons (clean/) are up to date
#  3. prepares the offline datasets, runs every notebook but the lessons with nbdev_test (on both cores), builds the
#     docs site, then runs each lesson deck once (fastnb_slides --execute: a failing cell fails), exports it into the
#     site and checks it in headless Chromium (slide count, first slide not blank, no Python error)
#  4. prints `notebooks: N passed, M failed` and exits non-zero if anything failed
# Environment: FASTNB_TEST_FLAGS="gpu slow" also runs cells marked with those flags; FASTNB_TEST_PATH limits the notebooks
# (the decks run only when it is unset or under nbs/lessons). A developer runs one deck with nbdev_test --path nbs/lessons/X.ipynb.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
failures=()
fail() { failures+=("$1"); echo "FAILED: $1" >&2; }
tree_hash() { find "$@" -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.md' \) -not -path '*/.ipynb_checkpoints/*' \
              -not -path '*/__pycache__/*' -print0 2>/dev/null | sort -z | xargs -0 sha1sum | sha1sum; }

# 1. environment
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv || { echo "could not create .venv" >&2; exit 1; }
  . .venv/bin/activate
fi
stamp="$VIRTUAL_ENV/.fastnb-dev-$( (cat settings.ini setup.py; echo "$root") | sha1sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
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

# 3. datasets, notebooks, docs
if command -v fastnb_datasets >/dev/null 2>&1; then
  echo "== preparing datasets"
  fastnb_datasets || fail "fastnb_datasets"
fi

echo "== running notebooks"
log=$(mktemp)
flags=${FASTNB_TEST_FLAGS:-}
# two notebooks at a time, one thread each: both cores busy, no oversubscription. The lesson decks run once, below.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} nbdev_test --n_workers 2 --do_print --timing --flags "$flags" \
  --skip_folder_re '^([_.]|lessons$)' ${FASTNB_TEST_PATH:+--path "$FASTNB_TEST_PATH"} 2>&1 | tee "$log"
test_rc=${PIPESTATUS[0]}
n_run=$(grep -c '^Starting ' "$log")
n_failed=$(awk '/Tests Failed On The Following Notebooks/{f=1; next} f && /^\t/{n++} END{print n+0}' "$log")
if [ "$test_rc" -ne 0 ] && [ "$n_failed" -eq 0 ]; then n_failed=1; fail "nbdev_test exited $test_rc"; fi
[ "$n_failed" -eq 0 ] || fail "$n_failed notebook(s) failed"
rm -f "$log"

echo "== building docs"
python tools/docs.py site || fail "docs site"

decks=()
case "${FASTNB_TEST_PATH:-}" in
  "") ;;
  nbs/lessons*|./nbs/lessons*|"$root"/nbs/lessons*) decks=("$FASTNB_TEST_PATH") ;;
  *) decks=(skip) ;;
esac
if [ "${decks[0]:-}" != skip ]; then
  echo "== lesson decks: run, export to _docs/slides, check in headless Chromium"
  # two decks at a time, one thread each, as for the notebooks
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} python -m fastnb.slides --execute --check --n_workers 2 "${decks[@]}" || fail "lesson decks"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then printf 'failure: %s\n' "${failures[@]}"; fi
echo "notebooks: $((n_run - n_failed)) passed, $n_failed failed"
[ ${#failures[@]} -eq 0 ]
