#!/usr/bin/env bash
# HTTP cost alone: the same trivial POST /embed on cpp-httplib and on Boost.Beast (thread per
# connection), driven by wrk at a few concurrencies. docs/SERVING.md ("Why cpp-httplib") quotes a run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
g++ -std=c++20 -O2 "$here/httplib_trivial.cpp" -o "$out/httplib" $(pkg-config --cflags --libs cpp-httplib) -pthread
g++ -std=c++20 -O2 "$here/beast_trivial.cpp" -o "$out/beast" -pthread
"$out/httplib" & h=$!
"$out/beast" & b=$!
trap 'kill $h $b; rm -rf "$out"' EXIT
sleep 0.5
for c in 2 8 64; do
  for server in "httplib 18081" "beast 18082"; do
    set -- $server
    printf '%-8s c=%-3s ' "$1" "$c"
    wrk -t2 -c"$c" -d"${DURATION:-5}"s -s "$here/../embed.lua" "http://127.0.0.1:$2/embed" | grep -E '^Requests/sec'
  done
done
