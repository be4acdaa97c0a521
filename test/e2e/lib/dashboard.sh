# start_dashboard: `villager dashboard` on a free loopback port; sets DASH (its URL, ending in /), READ and
# OPERATOR (the two default tokens). Stopped by project.sh's EXIT trap.
start_dashboard() {
  "$V" dashboard --listen 127.0.0.1:0 >"$WORK/dashboard.url" 2>>"$WORK/dashboard.log" &
  EXTRA_PIDS+=($!)
  for _ in $(seq 100); do [[ -s "$WORK/dashboard.url" ]] && break; sleep 0.05; done
  DASH=$(head -1 "$WORK/dashboard.url")
  [[ $DASH == http://127.0.0.1:*/ ]] || fail "dashboard did not print its URL: $(cat "$WORK/dashboard.log")"
  READ=$(cat "$WORK/.villager/tokens/dashboard-read.token")
  OPERATOR=$(cat "$WORK/.villager/tokens/dashboard-operator.token")
}
