# shellcheck shell=bash
# The host processes: started detached with a log and a PID file each, stopped by that PID
# file only (never by name: other clusters or tests may run the same binaries).
# Each component NAME has hack/cluster.d/NAME.sh with NAME_start (with - as _) and,
# where they apply, NAME_configure, NAME_ready and NAME_stopped.

# Components in start order; `down` stops them in reverse.
components=(etcd kube-apiserver containerd kube-controller-manager kube-scheduler kubelet kube-proxy kube-router)
# How long `hack/cluster start NAME` waits for NAME_ready.
declare -A ready_timeout=(
  [etcd]=60 [kube-apiserver]=120 [containerd]=60 [kube-controller-manager]=60
  [kube-scheduler]=60 [kubelet]=120 [kube-proxy]=120 [kube-router]=120
)

running() {  # running NAME: its PID file names a live process of that binary
  local pidfile="$pids/$1.pid" pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -d "/proc/$pid" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$1" || return 1
}

start() {  # start NAME COMMAND...: detached, logging to $logs/NAME.log, PID in $pids/NAME.pid
  local name=$1
  shift
  running "$name" && return 0
  say "starting $name"
  # Without the caller's descriptors: a component started under `flock LOCK cmd` would
  # otherwise hold that lock for as long as it runs.
  (
    close_inherited_fds
    exec setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$pids/$name.pid"
}

close_inherited_fds() {
  local fd
  for fd in /proc/self/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

stop() {  # stop NAME: TERM, then KILL after 15s; only the process its PID file names
  local name=$1 pid i
  if running "$name"; then
    pid=$(cat "$pids/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do
      [ -d "/proc/$pid" ] || break
      sleep 0.5
    done
    if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pids/$name.pid"
}

all_running() {
  local c
  for c in "${components[@]}"; do running "$c" || return 1; done
}

any_running() {
  local c
  for c in "${components[@]}"; do running "$c" && return 0; done
  return 1
}

is_component() {
  local c
  for c in "${components[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

has_fn() { declare -F "$1" >/dev/null; }

configure() {  # configure NODE-IP: certificates, kubeconfigs and config files of everything
  local ip=$1 c fn
  mkdir -p "$logs" "$pids" "$pki" "$etc" "$run" "$data"
  pki_setup
  network_configure
  for c in "${components[@]}"; do
    fn=${c//-/_}_configure
    if has_fn "$fn"; then "$fn" "$ip"; fi
  done
}

# start_all NODE-IP: in order, start whatever is not running once what it needs answers.
start_all() {
  local ip=$1
  etcd_start
  wait_until "${ready_timeout[etcd]}" etcd etcd_ready
  kube_apiserver_start "$ip"
  wait_until "${ready_timeout[kube-apiserver]}" kube-apiserver kube_apiserver_ready
  containerd_start
  # The rest need only the apiserver and containerd: start them together.
  kube_controller_manager_start
  kube_scheduler_start
  kubelet_start "$ip"
  kube_proxy_start
  wait_until 120 "node $node registered" kctl get node "$node"
  kube_router_start
  # kubelet_ready, not node_ready: a Ready condition left in etcd by an earlier kubelet
  # says nothing about this one.
  wait_until 180 "node $node Ready" kubelet_ready
}

# stop_all: every component, last started first.
stop_all() {
  local i
  mkdir -p "$pids"
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    # Its containers go first, through containerd itself, so their shims exit too.
    [ "${components[$i]}" != containerd ] || containerd_remove_containers
    stop "${components[$i]}"
  done
}

# start_component NAME: start one stopped component of a cluster that is up, and wait
# until it is ready. What depends on it reconnects by itself.
start_component() {
  local name=$1 fn=${1//-/_} ip
  if [ ! -s "$kubeconfig" ] || [ ! -d "$etc" ]; then
    die "the cluster is not up (no $kubeconfig): start it with hack/cluster up"
  fi
  ip=$(node_ip)
  mkdir -p "$logs" "$pids"
  trap 'on_failure "$name did not start; its log:" "$name"' EXIT
  "${fn}_start" "$ip"
  wait_until "${ready_timeout[$name]}" "$name ready" "${fn}_ready"
  trap - EXIT
  say "$name running (PID $(cat "$pids/$name.pid"))"
}

# stop_component NAME: stop one component, leaving the rest and all state in place.
stop_component() {
  local name=$1 fn=${1//-/_}_stopped
  if running "$name"; then say "stopping $name"; else say "$name was not running"; fi
  stop "$name"
  if has_fn "$fn"; then "$fn"; fi
}
