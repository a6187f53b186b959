#!/bin/sh
# SPDX-License-Identifier: MIT
# An output is the old one or the new one, never a mix: a run killed at
# every write, sync and rename of its save (ONNXPASS_TEST_KILL_AT), two
# writers of one output at once, a full disk; and what a killed run
# leaves behind goes with the next run.
. "$TOP_SRCDIR/t/lib.sh"
tmp=$(mktmp commit)
trap 'rm -rf "$tmp"' EXIT
"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" || exit 1
plan 12
in_sum=$(cat "$tmp/demo"/* | cksum)

# the inline form of a model file: the same bytes for the same model,
# whichever data file it was split into
inline() { "$ONNXPASS" -q convert --external never -i "$1" -o "$2" 2>/dev/null; }
# the old pair: the encoder; the new one: the decoder
old() { rm -f "$tmp"/out.onnx*; "$ONNXPASS" -q convert --external always -i "$tmp/demo/encoder.onnx" -o "$tmp/out.onnx"; }
new() { "$ONNXPASS" -q convert --force --external always -i "$tmp/demo/decoder.onnx" -o "$tmp/out.onnx"; }

# a single-file output killed at each point of its save
n=0 mixed="" points=0
while [ $n -lt 200 ]; do
	n=$((n + 1))
	old || { not_ok "writing the old pair"; break; }
	ONNXPASS_TEST_KILL_AT=$n new 2>/dev/null
	rc=$?
	rm -f "$tmp/chk.onnx"
	if ! inline "$tmp/out.onnx" "$tmp/chk.onnx" ||
		! { cmp -s "$tmp/chk.onnx" "$tmp/demo/encoder.onnx" || cmp -s "$tmp/chk.onnx" "$tmp/demo/decoder.onnx"; }; then
		mixed="$mixed $n"
	fi
	[ $rc -eq 137 ] || break	# ran to the end: every point was tried
	points=$n
done
[ -z "$mixed" ] && [ $points -ge 4 ] && [ $rc -eq 0 ] && ok "file output killed at each of $points points: old pair or new, never a mix" ||
	not_ok "file output: mixed or unreadable after kill at:$mixed (points $points, last exit $rc)"
cmp -s "$tmp/chk.onnx" "$tmp/demo/decoder.onnx" && ok "and the completed run wrote the new pair" || not_ok "completed run"
[ "$(ls "$tmp" | grep -c '^out\.onnx\..*\.data$')" -eq 1 ] && ok "one data file beside the model: the old ones went" ||
	not_ok "data files left: $(ls "$tmp" | grep '^out')"

# leftovers of killed runs go with the next run, which says so
old
ONNXPASS_TEST_KILL_AT=3 new 2>/dev/null
left=$(ls -a "$tmp" | grep -c '\.tmp\.')
sleep 1	# leftovers are those older than the run
"$ONNXPASS" convert --force --external always -i "$tmp/demo/decoder.onnx" -o "$tmp/out.onnx" 2>"$tmp/err"
[ "$left" -ge 1 ] && [ "$(ls -a "$tmp" | grep -c '\.tmp\.')" -eq 0 ] && grep -q "^onnxpass: removed $left leftover.* of an interrupted run writing '$tmp/out.onnx'" "$tmp/err" &&
	[ "$(grep -c leftover "$tmp/err")" -eq 1 ] && ok "the next run removed $left leftover(s), in one line" ||
	not_ok "leftovers: $left before, after: $(ls -a "$tmp" | grep '\.tmp\.'); $(cat "$tmp/err")"

# a folder output replaced under --force, killed at each point: the
# folder holds exactly the old run's files or the new run's
snap() { (cd "$1" && for f in $(ls | sort); do printf '%s %s\n' "$f" "$(cksum <"$f")"; done); }
"$ONNXPASS" -q run dedup -i "$tmp/demo" -o "$tmp/newref" && snap "$tmp/newref" >"$tmp/new.snap"
echo "a user's notes" >"$tmp/notes.txt"
n=0 mixed="" points=0
while [ $n -lt 200 ]; do
	n=$((n + 1))
	rm -rf "$tmp/outdir"
	"$ONNXPASS" -q run dedup cross_files=false -i "$tmp/demo" -o "$tmp/outdir" && cp "$tmp/notes.txt" "$tmp/outdir/" &&
		snap "$tmp/outdir" >"$tmp/old.snap" || { not_ok "writing the old folder"; break; }
	ONNXPASS_TEST_KILL_AT=$n "$ONNXPASS" -q run dedup --force -i "$tmp/demo" -o "$tmp/outdir" 2>/dev/null
	rc=$?
	snap "$tmp/outdir" >"$tmp/now.snap" 2>/dev/null
	cmp -s "$tmp/now.snap" "$tmp/old.snap" || { grep -v notes.txt "$tmp/now.snap" | cmp -s - "$tmp/new.snap" && grep -q notes.txt "$tmp/now.snap"; } ||
		mixed="$mixed $n"
	[ $rc -eq 137 ] || break
	points=$n
done
[ -z "$mixed" ] && [ $points -ge 4 ] && [ $rc -eq 0 ] && ok "folder output killed at each of $points points: old folder or new, never a mix" ||
	not_ok "folder output: mixed after kill at:$mixed (points $points, last exit $rc): $(diff "$tmp/old.snap" "$tmp/now.snap" | head -5)"
grep -q notes.txt "$tmp/now.snap" && ok "a file the user put in the output folder is kept" || not_ok "notes.txt lost"

# two writers of one output: one fails cleanly, the output is whole
old
pids=""
for i in 1 2 3 4; do
	( "$ONNXPASS" -q convert --force --external always -i "$tmp/demo/decoder.onnx" -o "$tmp/out.onnx" 2>"$tmp/w$i.err"; echo $? >"$tmp/w$i.rc" ) &
	pids="$pids $!"
done
wait
bad=""
for i in 1 2 3 4; do
	rc=$(cat "$tmp/w$i.rc")
	[ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && grep -q "another onnxpass is writing it" "$tmp/w$i.err"; } || bad="$bad $i:$rc:$(cat "$tmp/w$i.err")"
done
rm -f "$tmp/chk.onnx"
[ -z "$bad" ] && inline "$tmp/out.onnx" "$tmp/chk.onnx" && cmp -s "$tmp/chk.onnx" "$tmp/demo/decoder.onnx" &&
	ok "four writers at once: each wrote or said another is writing; the output is whole" || not_ok "concurrent writers:$bad"
[ ! -e "$tmp/.out.onnx.lock" ] && ! ls -a "$tmp" | grep -q '\.lock$' && ok "no lock file left" || not_ok "lock file left behind"
if command -v flock >/dev/null 2>&1; then
	flock "$tmp/.out.onnx.lock" "$ONNXPASS" convert --force -i "$tmp/demo/decoder.onnx" -o "$tmp/out.onnx" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "cannot write '$tmp/out.onnx': another onnxpass is writing it" "$tmp/err" &&
		ok "a held lock: one line, exit 1" || not_ok "held lock (exit $rc): $(cat "$tmp/err")"
else
	skip "a held lock" "flock(1) not installed"
fi

# a full disk (a small tmpfs, where this machine lets a user namespace
# mount one): one line, nothing written, the old output intact
mkdir -p "$tmp/small"
if unshare -rm sh -c "mount -t tmpfs -o size=640k none '$tmp/small'" 2>/dev/null; then
	unshare -rm sh -c "mount -t tmpfs -o size=640k none '$tmp/small' &&
		'$ONNXPASS' -q convert --external always -i '$tmp/demo/decoder.onnx' -o '$tmp/small/out.onnx' &&
		dd if=/dev/zero of='$tmp/small/fill' bs=1k count=300 2>/dev/null;
		'$ONNXPASS' -q convert --force --external always -i '$tmp/demo/encoder.onnx' -o '$tmp/small/out.onnx' 2>'$tmp/err';
		echo \$? >'$tmp/rc'; rm -f '$tmp/small/fill'; ls -a '$tmp/small' >'$tmp/ls';
		'$ONNXPASS' -q convert --external never -i '$tmp/small/out.onnx' -o '$tmp/small-chk.onnx'"
	rc=$(cat "$tmp/rc")
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "No space left on device" "$tmp/err" &&
		! grep -q '\.tmp\.' "$tmp/ls" && cmp -s "$tmp/small-chk.onnx" "$tmp/demo/decoder.onnx" &&
		ok "a full disk: one line, no temporary file left, the old output intact" ||
		not_ok "full disk (exit $rc): $(cat "$tmp/err"); $(cat "$tmp/ls" | tr '\n' ' ')"
else
	skip "a full disk" "this machine does not let a user mount a tmpfs (unshare -rm)"
fi
# an input truncated by another program while it is read through its
# mapping: one line naming it, not a bus error; nothing left behind
"$TOP_BUILDDIR/t/gen-model" llama "$tmp/cut/model.onnx" tiny --layers 32 >/dev/null 2>&1
rm -rf "$tmp/cutout" && mkdir "$tmp/cutout"
ONNXPASS_TEST_TRUNCATE="1:$tmp/cut/model.onnx" "$ONNXPASS" -q convert --external always -i "$tmp/cut/model.onnx" -o "$tmp/cutout/out.onnx" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "cannot read '$tmp/cut/model.onnx': the file was truncated" "$tmp/err" &&
	[ -z "$(ls -A "$tmp/cutout")" ] && ok "an input truncated while read: one line, exit 1, nothing written" ||
	not_ok "truncated input (exit $rc): $(cat "$tmp/err"); left: $(ls -A "$tmp/cutout")"
[ "$(cat "$tmp/demo"/* | cksum)" = "$in_sum" ] && ok "the inputs are unchanged" || not_ok "inputs changed"
finish
