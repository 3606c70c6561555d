# serve --trace: a serve run driven by ctl is recorded (header says serve,
# the control commands are in it as messages from outside) and replays to
# the same messages on a fresh in-process queue; job starts compare in
# order, so the replay of a queue stopped, edited and resumed must start the
# jobs in the edited order.
source "$(dirname "$0")/serve_lib.bash"

A="$(synth_acquisition "$WORK/root" --frames 3 --objects 4 --seed 41)"
B="$(synth_acquisition "$WORK/root" --frames 3 --objects 4 --seed 42)"

start_serve --workers 1 --trace "$WORK/serve.trace"
ctl stop-queue > /dev/null
ctl add "$A" "$B" > /dev/null
ctl move 2 --to 1 > /dev/null
ctl resume-queue > /dev/null
all_done() { [ "$(ctl list --json | jq '[.jobs[] | select(.state == "done")] | length')" -eq 2 ]; }
wait_for 60 all_done || fail "the jobs did not finish"
stop_serve INT
[ "$SERVE_RC" -eq 0 ] || fail "serve exit code $SERVE_RC"

"$SEGFLOW" trace dump "$WORK/serve.trace" > "$WORK/dump.txt"
grep -q "command serve" "$WORK/dump.txt" || fail "the header does not say serve"
for t in "atom:stopqueue" "atom:add,seg::job_specs" "atom:move,u64,u32" "atom:resume" \
         "atom:shutdown"; do
  grep -q -- "-> queue#[0-9]*  $t" "$WORK/dump.txt" || fail "$t is not in the trace"
done

"$SEGFLOW" replay "$WORK/serve.trace" > "$WORK/replay.txt" 2>&1 \
  || fail "serve replay diverged: $(tail -1 "$WORK/replay.txt")"
tail -1 "$WORK/replay.txt" | grep -q "same messages" || fail "$(tail -1 "$WORK/replay.txt")"
echo "serve_trace: ok"
