#!/usr/bin/env bash
# The GPU checks in one command, for whoever has a CUDA machine (about 5-8 minutes on one GPU): bash tools/gpu_check.sh
#  1. runs every notebook that has cells marked `#| gpu` with those cells on (nbdev_test --flags gpu), four at a time;
#     among them the restoration and colorization tutorials (nbs/tutorials/): a U-Net, a feature loss and a NoGAN phase
#     on all 403 stamps at 128 px over three seeds, asserting the feature-loss U-Net beats its input (not yet timed on a GPU);
#  2. runs the data-parallel benchmark tools/bench/ddp.py (fastnb against a plain PyTorch DDP loop, bf16, channels-last,
#     on 1..N GPUs, with the scaling efficiency);
#  2b. runs the photo pipeline benchmark tools/bench/photos.py with --decode-device cuda: torchvision's batched JPEG
#     decoding on the GPU (decode_jpeg(list, device='cuda'), random resized crop and flip there too) next to fastnb's and
#     fastai's CPU pipelines on the same files (GPU_CHECK_PHOTOS_ARGS: extra arguments, e.g. --workers 8);
#  3. prints one table (notebook or benchmark, result, seconds) and exits non-zero if a notebook or the benchmark failed.
# Environment: GPU_CHECK_TIMEOUT (seconds per notebook, default 600), GPU_CHECK_BENCH_ARGS (extra arguments for ddp.py).
set -uo pipefail
cd "$(dirname "$0")/.."
python -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  || { echo "gpu_check.sh: no CUDA GPU visible to torch here: run it on a GPU machine" >&2; exit 1; }
start=$SECONDS
logs=$(mktemp -d)
mapfile -t notebooks < <(grep -l '"#| gpu' nbs/*.ipynb nbs/*/*.ipynb 2>/dev/null)
echo "== ${#notebooks[@]} notebooks with #| gpu cells (logs in $logs)"
run_nb() {  # one notebook, its gpu cells on; writes name|result|seconds
  local nb=$1 name t0=$SECONDS; name=$(basename "$nb" .ipynb)
  if OMP_NUM_THREADS=2 timeout "${GPU_CHECK_TIMEOUT:-600}" nbdev_test --flags gpu --path "$nb" > "$logs/$name.log" 2>&1
  then echo "$name|passed|$((SECONDS - t0))" > "$logs/$name.row"
  else echo "$name|FAILED (see $logs/$name.log)|$((SECONDS - t0))" > "$logs/$name.row"; fi
}
for nb in "${notebooks[@]}"; do
  run_nb "$nb" &
  while [ "$(jobs -rp | wc -l)" -ge 4 ]; do sleep 1; done
done
wait
echo "== benchmark: tools/bench/ddp.py"
t0=$SECONDS
# shellcheck disable=SC2086
if python tools/bench/ddp.py ${GPU_CHECK_BENCH_ARGS:-} > "$logs/bench.txt" 2> "$logs/bench.err"; then bench=passed; else bench="FAILED (see $logs/bench.err)"; fi
bench_s=$((SECONDS - t0))
echo "== benchmark: tools/bench/photos.py --decode-device cuda"
t0=$SECONDS
# shellcheck disable=SC2086
if python tools/bench/photos.py --decode-device cuda ${GPU_CHECK_PHOTOS_ARGS:-} > "$logs/photos.txt" 2> "$logs/photos.err"; then photos=passed
else photos="FAILED (see $logs/photos.err)"; fi
photos_s=$((SECONDS - t0))

echo
printf '%-40s %-45s %8s\n' check result seconds
failed=0
for row in "$logs"/*.row; do
  IFS='|' read -r name result secs < "$row"
  printf '%-40s %-45s %8s\n' "nbs/$name (#| gpu)" "$result" "$secs"
  [ "$result" = passed ] || failed=1
done
printf '%-40s %-45s %8s\n' "tools/bench/ddp.py" "$bench" "$bench_s"
[ "$bench" = passed ] || failed=1
printf '%-40s %-45s %8s\n' "tools/bench/photos.py (cuda decode)" "$photos" "$photos_s"
[ "$photos" = passed ] || failed=1
echo
cat "$logs/bench.txt"
echo
cat "$logs/photos.txt"
echo
echo "total: $((SECONDS - start)) s on $(python -c 'import torch; print(torch.cuda.device_count(), "x", torch.cuda.get_device_name(0))')"
exit $failed
