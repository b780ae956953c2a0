#!/usr/bin/env bash
# Kefu load measurement with sipp (Debian package sip-tester), on loopback.
#
#   bash testdata/sipp/load.sh rate RATE TOTAL HOLD_MS   # full calls per second
#   bash testdata/sipp/load.sh concurrent CALLS HOLD_MS  # CPU per concurrent call
#
# "rate": sipp places TOTAL calls at RATE calls/s, each INVITE → 200 → ACK →
# HOLD_MS of IVR prompt (echoed back by sipp) → BYE; prints sipp's successful
# and failed counts and Kefu's CPU time.
# "concurrent": ramps up to CALLS simultaneous calls playing prompts, then
# samples Kefu's CPU use over 10 s of steady state: CPU % and CPU per call.
# Kefu is built without the race detector. Its "call ended" log lines give
# the RTP packets each call sent and received, summed up at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
mode=${1:?usage: load.sh rate RATE TOTAL HOLD_MS | concurrent CALLS HOLD_MS}
command -v sipp >/dev/null || { echo "sipp not found: apt-get install sip-tester" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $kefu_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/kefu" ./cmd/kefu

# A flow that holds callers as long as the load needs: the menu prompt, then
# up to 10 waits of 60 s for a key (the sample flow hangs up on a caller who
# presses nothing after about 30 s, as a hotline should).
mkdir "$work/flows"
ln -s "$root/flows/prompts" "$work/flows/prompts"
cat > "$work/flows/load.yaml" <<'YAML'
name: load
start: menu
nodes:
  menu:
    type: menu
    prompt: main_menu
    timeout: 60s
    retries: 9
    options: {"1": bye}
    exits: {failed: bye}
  bye:
    type: hangup
YAML

sip_port=${KEFU_LOAD_SIP_PORT:-25060}
http_port=${KEFU_LOAD_HTTP_PORT:-28080}
cat > "$work/kefu.yaml" <<YAML
sip:
  listen: 127.0.0.1:$sip_port
  rtp_ports: 40000-49999
trunks: [{name: load, networks: [127.0.0.1/32]}]
access_numbers: {"10086": load}
YAML
"$work/kefu" serve -config "$work/kefu.yaml" -flows "$work/flows" -http 127.0.0.1:$http_port -log-level info 2>"$work/kefu.log" &
kefu_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{print $14+$15}' /proc/$kefu_pid/stat; }
hz=$(getconf CLK_TCK)

sipp_common=(127.0.0.1:$sip_port -sf "$root/testdata/sipp/load_call.xml" -s 10086 -i 127.0.0.1 -p 25070
  -mi 127.0.0.1 -mp 26000 -rtp_echo -key caller 13900000009 -nostdin -timeout 600s
  -trace_stat -stf "$work/stat.csv" -fd 1)

case "$mode" in
rate)
  rate=${2:?RATE}; total=${3:?TOTAL}; hold=${4:?HOLD_MS}
  t0=$(cpu_ticks); s0=$(date +%s.%N)
  (cd "$work" && sipp "${sipp_common[@]}" -r "$rate" -m "$total" -l $((rate * (hold / 1000 + 2))) -d "$hold" >sipp.out 2>&1) || true
  t1=$(cpu_ticks); s1=$(date +%s.%N)
  last=$(tail -n 1 "$work/stat.csv")
  hdr=$(head -n 1 "$work/stat.csv")
  col() { echo "$hdr" | tr ';' '\n' | grep -n "^$1\$" | cut -d: -f1; }
  ok=$(echo "$last" | cut -d';' -f"$(col SuccessfulCall\(C\))")
  failed=$(echo "$last" | cut -d';' -f"$(col FailedCall\(C\))")
  wall=$(echo "$s1 - $s0" | bc)
  cpu=$(echo "scale=2; ($t1 - $t0) / $hz" | bc)
  echo "rate=$rate cps total=$total hold=${hold}ms: successful=$ok failed=$failed wall=${wall}s kefu_cpu=${cpu}s"
  ;;
concurrent)
  calls=${2:?CALLS}; hold=${3:?HOLD_MS}
  rate=$(( calls / 10 > 20 ? calls / 10 : 20 ))   # ramp up in about 10 s
  ramp=$(( calls / rate + 1 ))
  if [ $(( (ramp + 14) * 1000 )) -gt "$hold" ]; then
    echo "HOLD_MS must be at least $(( (ramp + 14) * 1000 )) so that no call ends while measuring" >&2; exit 2
  fi
  (cd "$work" && sipp "${sipp_common[@]}" -r "$rate" -m "$calls" -l "$calls" -d "$hold" >sipp.out 2>&1) &
  sipp_pid=$!
  sleep $((ramp + 2))
  live=$(curl -s "http://127.0.0.1:$http_port/healthz" | grep -o '"calls": *[0-9]*' | grep -o '[0-9]*$')
  t0=$(cpu_ticks); sleep 10; t1=$(cpu_ticks)
  live2=$(curl -s "http://127.0.0.1:$http_port/healthz" | grep -o '"calls": *[0-9]*' | grep -o '[0-9]*$')
  wait $sipp_pid || true
  pct=$(echo "scale=1; 100 * ($t1 - $t0) / $hz / 10" | bc)
  per=$(echo "scale=3; 1000 * ($t1 - $t0) / $hz / 10 / $live" | bc)
  last=$(tail -n 1 "$work/stat.csv"); hdr=$(head -n 1 "$work/stat.csv")
  col() { echo "$hdr" | tr ';' '\n' | grep -n "^$1\$" | cut -d: -f1; }
  failed=$(echo "$last" | cut -d';' -f"$(col FailedCall\(C\))")
  echo "concurrent calls=$live..$live2 (target $calls) kefu_cpu=${pct}% of one core = ${per} ms CPU per call per second; sipp failed=$failed"
  ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
sleep 1
awk '/msg="call ended"/ {
  for (i = 1; i <= NF; i++) {
    split($i, kv, "=")
    if (kv[1] == "rtp_in") rin += kv[2]
    if (kv[1] == "rtp_out") rout += kv[2]
    if (kv[1] == "duration") { d = kv[2]; sub(/s$/, "", d); if (d ~ /m/) { split(d, ms, "m"); d = ms[1] * 60 + ms[2] }; secs += d }
  }
  n++
}
END { if (n && secs) printf "kefu: %d calls ended, RTP per call-second: %.1f in, %.1f out\n", n, rin / secs, rout / secs }' "$work/kefu.log"
grep -E "level=(ERROR|WARN)" "$work/kefu.log" | head -5 || true
