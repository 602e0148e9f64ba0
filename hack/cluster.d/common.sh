# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths set here are used by the other files
# Paths, messages and small helpers every other file of hack/cluster uses.
# Sourced by hack/cluster after hack/versions.env; $here is hack/.

cache=${RIPPLE_CACHE:-$HOME/.cache/ripple}
dir=${RIPPLE_CLUSTER_DIR:-$cache/cluster}
# `down` removes mounts and files below $dir: refuse anything that could be / or relative.
case "$dir" in /*/*) ;; *) echo "hack/cluster: RIPPLE_CLUSTER_DIR must be an absolute path below /, got '$dir'" >&2; exit 2 ;; esac

logs=$dir/logs pids=$dir/pids pki=$dir/pki etc=$dir/etc run=$dir/run data=$dir/data
kubeconfig=$dir/kubeconfig
sock=$run/containerd.sock
node=ripple-node
context=ripple-local
api_port=6443
bindir="$cache/tools/bin"
k8s_key="$cache/k8s/$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
k8s_bin="$k8s_key/bin"
images="$cache/cluster-images"
manifests="$here/manifests"

say() { echo "hack/cluster: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (it starts kubelet, containerd, iptables)"; }

kctl() { "$k8s_bin/kubectl" --kubeconfig="$kubeconfig" --context="$context" --request-timeout=10s "$@"; }

show_logs() {  # show_logs [LINES [NAME...]]: the tail of each component's log (default: all)
  local lines=${1:-25} name f files=()
  [ $# -gt 0 ] && shift
  if [ $# -gt 0 ]; then
    for name in "$@"; do files+=("$logs/$name.log"); done
  else
    files=("$logs"/*.log)
  fi
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    echo "----- $(basename "$f") (last $lines lines) -----" >&2
    tail -n "$lines" "$f" >&2 || true
  done
}

# on_failure MESSAGE [NAME...]: as an EXIT trap, say MESSAGE and show the logs of NAME...
# (default: all) when the script exits with an error.
on_failure() {
  local rc=$?
  [ "$rc" = 0 ] && return 0
  say "$1"
  shift
  show_logs 40 "$@"
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND until it succeeds; die on timeout.
wait_until() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 0.5
  done
}

# put FILE: write stdin to FILE only if it differs (kube-proxy exits when its config changes).
put() {
  local tmp="$1.tmp"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

# render FILE VAR...: print FILE with each ${VAR} replaced by that variable's value. Only
# the variables named are filled in, so a manifest states exactly what it depends on; a
# placeholder left over is a mistake and stops here rather than in kubectl.
render() {
  local file=$1 text var
  shift
  text=$(<"$file")
  for var in "$@"; do
    text=${text//"\${$var}"/"${!var}"}
  done
  if [[ $text =~ \$\{[A-Za-z_][A-Za-z0-9_]*\} ]]; then
    die "$file: placeholder ${BASH_REMATCH[0]} is not filled in (render got: $*)"
  fi
  printf '%s\n' "$text"
}

# node_ip: the IPv4 address of the default route's interface; the node registers with it
# and NodePorts answer there.
node_ip() {
  local dev ip
  dev=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  [ -n "$dev" ] || die "no default route: cannot choose the node's IP"
  ip=$(ip -4 -o addr show dev "$dev" | awk '{split($4, a, "/"); print a[1]; exit}')
  [ -n "$ip" ] || die "no IPv4 address on $dev"
  echo "$ip"
}

env_() {
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  # shellcheck disable=SC2016 # $PATH is for the shell that evals this
  printf 'export PATH=%q:"$PATH"\n' "$bindir"
  # Where this machine reaches Prometheus's API (hack/cluster.d/prometheus.sh's NodePort).
  printf 'export RIPPLE_PROMETHEUS_URL=%q\n' "http://127.0.0.1:$prometheus_node_port"
}

unmount_below() {  # unmount_below DIR: every mount below DIR, deepest first
  local m
  # netns bind mounts, overlay rootfs mounts and pod volumes all live below $dir.
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
}
