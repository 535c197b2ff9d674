#!/usr/bin/env bash
# CI: submits experiments/slurm-example.yaml to a real single-node Slurm (scripts/slurm-local.sh)
# and checks what came back, not only exit codes (a job whose launch failed can still end
# COMPLETED):
#   1. the README's example, split into 2 arrays (6 tasks, --max-array-size 4), waited for with
#      `gauntlet status --wait`; its merged index, cells and report equal a local run's;
#   2. two cell files removed: `gauntlet status` names them, `gauntlet submit --resume` submits
#      exactly those two, and the results equal the local run's again;
#   3. a sweep with diverging cells under --merge-after ok: the merge job can never start;
#      `gauntlet status --wait` returns (it does not wait forever), exits 1 and says why;
#   4. a task cancelled midway keeps the cells it finished; --resume runs only the others;
# then stops Slurm by the process ids it started and checks that no job is left.
# Usage: scripts/check-slurm.sh [path to the gauntlet executable]   (default .build/release/gauntlet)
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=$(realpath "${1:-.build/release/gauntlet}")
example=experiments/slurm-example.yaml

base=$(mktemp -d /tmp/gauntlet-slurm.XXXXXX)
state="$base/s"          # short: Slurm's socket paths must stay under 108 bytes
work="$base/work"
stop() {
  local code=$?
  scripts/slurm-local.sh stop "$state" || true
  if [ "$code" -eq 0 ]; then rm -rf "$base"; else echo "check-slurm: kept $base for inspection" >&2; fi
}
trap stop EXIT
# Without kill_invalid_depend, as on many clusters (check 3 needs that).
eval "$(SLURM_LOCAL_KILL_INVALID_DEPEND=0 scripts/slurm-local.sh start "$state")"

fail() { echo "check-slurm: FAILED: $*" >&2; exit 1; }
expect_status() {   # expect_status CODE FOLDER [status options]: runs gauntlet status, checks its exit code
  local code=$1 folder=$2
  shift 2
  set +e
  "$gauntlet" status "$folder" "$@" >"$base/status.txt" 2>&1
  local got=$?
  set -e
  cat "$base/status.txt"
  [ "$got" -eq "$code" ] || fail "gauntlet status $folder $* exited $got, expected $code"
}

echo "check-slurm: 1. the README example as 2 arrays, against a local run"
"$gauntlet" submit "$example" --slurm --time 10 --max-array-size 4 --output "$work/slurm" | tee "$base/submit.txt"
grep -q "6 task(s) in 2 array(s)" "$base/submit.txt" || fail "expected 6 tasks in 2 arrays"
expect_status 0 "$work/slurm/slurm-example" --wait --timeout 600
submission="$work/slurm/slurm-example/slurm/submission-1"
[ "$(ls "$submission"/logs/task-*.log | wc -l)" -eq 6 ] || fail "expected 6 task logs in $submission/logs"
for shard in 0 1 2 3 4 5; do
  grep -q "shard $shard/6: 1 trial(s)" "$submission"/logs/task-*.log || fail "no task ran shard $shard/6"
done
grep -q "report: " "$submission"/logs/merge-*.log || fail "the merge job wrote no report"

"$gauntlet" run "$example" --blas-threads 1 --quiet --output "$work/local" >/dev/null
"$gauntlet" report "$work/local/slurm-example" >/dev/null
python3 scripts/compare_results.py "$work/slurm/slurm-example" "$work/local/slurm-example"

echo "check-slurm: 2. two cells lost, then --resume"
lost=$(sed -n '2p;5p' "$submission/cells.txt")
for id in $lost; do rm "$work/slurm/slurm-example/cells/$id.h5"; done
expect_status 1 "$work/slurm/slurm-example"
for id in $lost; do grep -q "missing .*\[$id\]" "$base/status.txt" || fail "status does not name the lost cell $id"; done
grep -q -- "--resume" "$base/status.txt" || fail "status does not give the --resume command"
"$gauntlet" submit "$example" --slurm --time 10 --output "$work/slurm" --resume | tee "$base/submit.txt"
grep -q "submission 2: 2 cell(s) in 2 unit(s) of work, 2 task(s)" "$base/submit.txt" || fail "--resume did not submit exactly the 2 lost cells"
[ "$(grep -v '^#' "$work/slurm/slurm-example/slurm/submission-2/cells.txt" | sort)" = "$(echo "$lost" | sort)" ] \
  || fail "submission 2 lists other cells than the lost ones"
expect_status 0 "$work/slurm/slurm-example" --wait --timeout 600
python3 scripts/compare_results.py "$work/slurm/slurm-example" "$work/local/slurm-example"

echo "check-slurm: 3. failing cells under --merge-after ok"
# a) as submitted: the merge job asks --kill-on-invalid-dep=yes, so Slurm cancels it;
# b) with --kill-on-invalid-dep=no it would stay pending forever (this Slurm, like many
#    clusters, has no kill_invalid_depend); `gauntlet status --wait` reports and cancels it.
for variant in a b; do
  extra=()
  [ "$variant" = b ] && extra=(--sbatch=--kill-on-invalid-dep=no)
  "$gauntlet" submit "$example" 'training.optimizer.lr=0.001,1e30' --slurm --time 10 --merge-after ok "${extra[@]}" \
    --output "$work/failing-$variant"
  expect_status 1 "$work/failing-$variant/slurm-example" --wait --timeout 600
  grep -q "2 complete, 2 failed, 0 missing" "$base/status.txt" || fail "expected 2 complete and 2 failed cells"
  grep -q "training diverged" "$base/status.txt" || fail "the failed cells' message is not shown"
  grep -q "dependency that can never be satisfied" "$base/status.txt" || fail "the never-satisfied merge dependency is not reported"
  if [ "$variant" = a ]; then
    grep -q "Slurm cancelled it" "$base/status.txt" || fail "expected Slurm to cancel the merge job"
  else
    grep -q "cancelled it (scancel" "$base/status.txt" || fail "expected gauntlet status --wait to cancel the merge job"
  fi
done

echo "check-slurm: 4. a task cancelled midway (as on a time limit) loses at most its cell in flight"
# One task runs all six cells, four epochs each; it is cancelled (SIGTERM, then SIGKILL after
# KillWait, as when its time runs out) once two cells are written.
"$gauntlet" submit "$example" training.epochs=4 --slurm --time 10 --tasks 1 --output "$work/cancelled" | tee "$base/submit.txt"
folder="$work/cancelled/slurm-example"
array=$(sed -n 's/^  array job \([0-9]*\):.*/\1/p' "$base/submit.txt")
for _ in $(seq 600); do
  [ "$(ls "$folder/cells" 2>/dev/null | grep -c '^[0-9a-f]*\.h5$')" -ge 2 ] && break
  sleep 0.2
done
scancel "$array"
expect_status 1 "$folder" --wait --timeout 600
kept=$(ls "$folder/cells" | grep -c '^[0-9a-f]*\.h5$')
[ "$kept" -ge 2 ] && [ "$kept" -lt 6 ] || fail "expected 2 to 5 cells kept after the cancel, found $kept"
grep -q "CANCELLED" "$base/status.txt" || fail "status does not show the cancelled task"
(cd "$folder/cells" && sha256sum [0-9a-f]*.h5) > "$base/kept.sha256"
"$gauntlet" submit "$example" training.epochs=4 --slurm --time 10 --output "$work/cancelled" --resume | tee "$base/submit.txt"
grep -q "submission 2: $((6 - kept)) cell(s)" "$base/submit.txt" || fail "--resume did not submit exactly the $((6 - kept)) cells lost"
expect_status 0 "$folder" --wait --timeout 600
(cd "$folder/cells" && sha256sum --quiet -c "$base/kept.sha256") || fail "--resume rewrote cells that were complete"

[ -z "$(squeue -h)" ] || fail "jobs left in the queue: $(squeue -h)"
echo "check-slurm: all checks passed"
