#!/usr/bin/env bash
# Small requests with two threads per proxy: bench/proxy_vs_haproxy.sh with BENCH_THREADS=2, i.e. villager
# --threads 2 against HAProxy `nbthread 2`, nginx `worker_processes 2` and Caddy GOMAXPROCS=2 (the origin
# stays at one worker, wrk at one thread). On a 2-core machine the client, the origin and the proxy share
# the cores, so this says how a proxy uses a second thread under contention, not how it scales.
#   bench/proxy_2threads.sh [BUILD_DIR]     (default: build; bench/run passes it)
set -euo pipefail
BENCH_THREADS=2 exec bash "$(dirname "$0")/proxy_vs_haproxy.sh" "$@"
