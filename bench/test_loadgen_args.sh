#!/bin/sh
# loadgen's command line as a user meets it: bad arguments get the usage and
# a non-zero exit; --help gets the usage and success; a server that is not
# there is reported, not a crash.
cd "$(dirname "$0")" || exit 1
pass=0
fail=0
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $3 (got $1, want $2)"; fi; }

./loadgen --bogus x >/dev/null 2>err.txt; check $? 2 "unknown option exits 2"
grep -q '^usage: loadgen' err.txt; check $? 0 "unknown option prints the usage"
./loadgen --conninfo host=/nonexistent >/dev/null 2>err.txt; check $? 2 "no --app exits 2"
./loadgen --help >out.txt 2>&1; check $? 0 "--help exits 0"
grep -q 'phases=P;P' out.txt; check $? 0 "--help documents phases"
./loadgen --conninfo "host=/nonexistent port=1" \
	--app "name=a,pool_max=2,acquire_timeout_ms=200,phases=steady:0.5:20" >out.txt 2>&1
check $? 0 "a missing server is reported, not a crash"
grep -Eq '^a +[0-9]+ +0 ' out.txt; check $? 0 "every request failed"
grep -q 'first other' out.txt; check $? 0 "with the cause"
rm -f err.txt out.txt
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
