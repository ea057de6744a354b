#!/bin/bash
# Runs inside the VM (as root): exercises rstaprun + rs_ttest.ko. Prints PASS/FAIL lines.
# usage: guest.sh RSTAPRUN KO
R=$1; KO=$2; M=rs_ttest
T=$(mktemp -d); fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails+1)); }
gone() { ! grep -q "^$M " /proc/modules; }
expect_ticks() { # FILE LAST
    local want; want=$( (echo hello; seq 1 "$2" | sed 's/^/tick /'; echo bye) )
    diff <(sed 's/ (pid [0-9]*)//; s/hello from process context/hello/' "$1") <(echo "$want") >/dev/null
}
dmesg -C

echo "== 1: exit() after 10 ticks"
"$R" "$KO" >$T/o1 2>$T/e1; rc=$?
cat $T/o1; cat $T/e1
expect_ticks $T/o1 10 && [ $rc = 0 ] && gone && pass "10 ticks + bye in order, rc=0, module gone" || fail "basic rc=$rc"

echo "== 2: -T 0.45 -o FILE -v"
"$R" -v -T 0.45 -o $T/o2 "$KO" 2>$T/e2; rc=$?
cat $T/o2; cat $T/e2
n=$(grep -c '^tick' $T/o2)
[ $rc = 0 ] && [ "$n" -ge 2 ] && [ "$n" -le 6 ] && expect_ticks $T/o2 $n && gone && pass "-T stopped after $n ticks" || fail "-T rc=$rc n=$n"

echo "== 3: SIGINT / SIGTERM / SIGHUP"
for sig in INT TERM HUP; do
    "$R" "$KO" >$T/o3 2>$T/e3 & p=$!
    for i in $(seq 100); do grep -q '^tick 2' $T/o3 && break; sleep 0.05; done
    kill -$sig $p; wait $p; rc=$?
    n=$(grep -c '^tick' $T/o3)
    [ $rc = 0 ] && [ "$n" -lt 10 ] && expect_ticks $T/o3 $n && gone && pass "SIG$sig: stopped after $n ticks + bye" || { cat $T/o3 $T/e3; fail "SIG$sig rc=$rc"; }
done

echo "== 4: one 10000-byte print (split into records)"
"$R" -o $T/o4 "$KO" big=10000 2>$T/e4; rc=$?
l=$(sed -n 2p $T/o4 | wc -c)
exp=$(python3 -c 'print(("".join(chr(97+i%26) for i in range(9999))))')
[ $rc = 0 ] && [ "$l" = 10000 ] && [ "$(sed -n 2p $T/o4)" = "$exp" ] && [ "$(sed -n 3p $T/o4)" = "tick 1" ] && pass "10000-byte line intact" || fail "big rc=$rc len=$l"

echo "== 5: tiny reads keep a partial record (raw protocol, 7-byte reads)"
insmod "$KO" big=5000 && python3 - <<'PY' && pass "7-byte reads: protocol ok" || fail "tiny reads"
import os, time
d = "/proc/rstap_rs_ttest/"
ctl = os.open(d + "ctl", os.O_RDWR); out = os.open(d + "out", os.O_RDONLY)
assert os.pread(ctl, 100, 0).split()[0] == b"starting"
os.write(ctl, b"start\n")
data = b""; t0 = time.time()
while True:
    b = os.read(out, 7)
    data += b
    if not b and os.pread(ctl, 100, 0).split()[0] == b"exit":
        break
    assert time.time() - t0 < 10
os.write(ctl, b"stop\n")
while True:
    b = os.read(out, 7)
    if not b: break
    data += b
st = os.pread(ctl, 100, 0)
print("ctl after stop:", st)
assert st.startswith(b"stopped dropped=0")
lines = data.decode().splitlines()
assert lines[1] == "".join(chr(97 + i % 26) for i in range(4999)), len(lines[1])
assert lines[2:] == ["tick %d" % i for i in range(1, 11)] + ["bye"], lines[2:]
try:
    os.write(ctl, b"start\n"); raise SystemExit("restart accepted")
except OSError as e:
    print("second start refused:", e)
PY
rmmod $M; gone || fail "rmmod after tiny reads"

echo "== 6: flood 30000 lines of 100 bytes (3 MB into a 1 MiB/cpu buffer)"
"$R" -o $T/o6 "$KO" flood=30000 2>$T/e6; rc=$?
cat $T/e6
got=$(grep -c '^flood' $T/o6)
grep -q 'WARNING: [0-9]* output record(s) dropped' $T/e6 && [ $rc = 0 ] && tail -n1 $T/o6 | grep -q bye && gone && pass "flood: $got lines kept, drops reported" || fail "flood rc=$rc got=$got"

echo "== 6b: 2000 lines from alternating CPUs (IPIs), one after the other"
"$R" -o $T/o6b "$KO" xcpu=2000 2>$T/e6b; rc=$?
grep '^x ' $T/o6b | awk '{print $3}' | sort | uniq -c
[ $rc = 0 ] && diff <(grep '^x ' $T/o6b | awk '{print $2}') <(seq 1 2000) >/dev/null && [ $(grep '^x ' $T/o6b | awk '{print $3}' | sort -u | wc -l) -ge 2 ] && gone && pass "cross-CPU lines in order" || fail "xcpu rc=$rc"

echo "== 7: rsg_start fails (-22)"
"$R" "$KO" fail=22 >$T/o7 2>$T/e7; rc=$?
cat $T/e7
[ $rc = 1 ] && [ ! -s $T/o7 ] && gone && pass "start error -> rc=1, module gone" || fail "fail rc=$rc"

echo "== 8: already loaded"
insmod "$KO"
"$R" "$KO" 2>$T/e8; rc=$?
cat $T/e8
[ $rc = 1 ] && grep -q 'already loaded' $T/e8 && pass "already loaded refused" || fail "already loaded rc=$rc"
rmmod $M

echo "== 9: not root"
setpriv --reuid=65534 --regid=65534 --clear-groups "$R" "$KO" 2>$T/e9; rc=$?
cat $T/e9
[ $rc = 1 ] && [ "$(wc -l <$T/e9)" = 1 ] && grep -q 'rstapc --vm' $T/e9 && gone && pass "non-root: one line" || fail "non-root rc=$rc"

echo "== 10: runner SIGKILLed mid-run, then rmmod (module_exit must stop the session)"
"$R" "$KO" >$T/o10 2>&1 & p=$!
for i in $(seq 100); do grep -q '^tick 2' $T/o10 && break; sleep 0.05; done; kill -KILL $p; wait $p 2>/dev/null
grep -q "^$M " /proc/modules && cat /proc/rstap_$M/ctl
rmmod $M && gone && pass "rmmod of a running session" || fail "rmmod running"

echo "== 11: output to a closed pipe"
"$R" "$KO" 2>$T/e11 | head -n 2 >/dev/null; rc=${PIPESTATUS[0]}
cat $T/e11
[ $rc = 0 ] && gone && pass "closed pipe: stopped and unloaded" || fail "closed pipe rc=$rc"

echo "== dmesg"
dmesg | grep -E 'BUG:|WARNING:|Oops|rs_ttest|rstap' ; true
if dmesg | grep -qE 'BUG:|WARNING:|Oops'; then fail "kernel log has BUG/WARNING/Oops"; else pass "kernel log clean"; fi
echo "failures: $fails"
exit $fails
