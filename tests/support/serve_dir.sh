# Sourced by e2e scenarios after common.sh: static HTTP servers on loopback.

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts connections on 127.0.0.1:PORT.
wait_port() {
  local port=$1 i
  for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  fail "nothing answers on 127.0.0.1:$port"
}

# serve_dir DIR LOG: python3 -m http.server for DIR on a free port; sets PORT.
# One line per request lands in LOG ("GET /path HTTP/1.1" 200 -).
serve_dir() {
  local dir=$1 log=$2
  PORT=$(free_port)
  start_bg python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$PORT" >/dev/null 2>"$log"
  wait_port "$PORT"
}
