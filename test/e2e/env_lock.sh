#!/usr/bin/env bash
# One change per environment at a time: while a deploy runs, a rollback or a second deploy of the same
# environment is refused at once naming the holder, another environment is not held up, and a holder
# killed with -9 leaves no stale lock behind.
STEP_INTERVAL=3s
source "$(dirname "$0")/lib/project.sh"
make_project
start_agent
"$V" deploy explorer --first >/dev/null 2>&1 || fail "first deploy failed"

set_version v2.0.0
"$V" deploy explorer >"$WORK/deploy.out" 2>"$WORK/deploy.err" &
DEPLOY=$!
for _ in $(seq 200); do grep -q "traffic at 10%" "$WORK/deploy.err" 2>/dev/null && break; sleep 0.05; done
grep -q "traffic at 10%" "$WORK/deploy.err" || fail "the canary never started: $(cat "$WORK/deploy.err")"

rc=0; "$V" rollback explorer >"$WORK/rb.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "a rollback during a deploy should be refused with exit 1, got $rc: $(cat "$WORK/rb.txt")"
grep -q "explorer is busy: deploy by .* (pid $DEPLOY, since 20" "$WORK/rb.txt" || fail "the refusal should name the deploy: $(cat "$WORK/rb.txt")"
rc=0; "$V" deploy explorer >"$WORK/d2.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -q "explorer is busy" "$WORK/d2.txt" || fail "a second deploy should be refused: rc $rc $(cat "$WORK/d2.txt")"
"$V" deploy production --first >"$WORK/prod.txt" 2>&1 || fail "production is not locked by explorer's deploy: $(tail -5 "$WORK/prod.txt")"

kill -9 "$DEPLOY"; wait "$DEPLOY" 2>/dev/null || true
"$V" rollback explorer >"$WORK/after.txt" 2>&1 || true
grep -q "is busy" "$WORK/after.txt" && fail "a killed deploy must not leave the lock held: $(cat "$WORK/after.txt")"
echo ok
