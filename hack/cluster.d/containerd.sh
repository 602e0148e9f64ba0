# shellcheck shell=bash
# The cluster's own containerd (socket $sock, namespace k8s.io), separate from Docker's so
# that `down` can wipe it. There is no registry: images are imported, never pulled.

ctr_() { ctr --address "$sock" -n k8s.io "$@"; }

containerd_configure() {
  mkdir -p "$etc"
  put "$etc/containerd.toml" <<TOML
version = 2
root = "$data/containerd"
state = "$run/containerd"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$data/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  disable_apparmor = true
  # This machine withholds CAP_SYS_RESOURCE even from root, so no process may lower its
  # oom_score_adj (the sandbox asks for -998): keep containers at containerd's own.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$etc/cni"
TOML
}

containerd_start() {
  mkdir -p "$run/containerd"
  start containerd containerd --config "$etc/containerd.toml"
  wait_until 60 containerd containerd_ready
  # The sandbox image is never pulled (no registry): import it before any pod starts.
  ctr_ images import "$(image_archive "$PAUSE_IMAGE" "$cache/pause/${PAUSE_IMAGE##*:}/pause" '["/pause"]')" >/dev/null
}

containerd_ready() { ctr_ version; }

# containerd_load IMAGE...: copy Docker-built images into the cluster's containerd.
containerd_load() {
  [ $# -gt 0 ] || { echo "usage: hack/cluster load IMAGE..." >&2; exit 2; }
  running containerd || die "the cluster is not up (its containerd is not running)"
  local image
  for image in "$@"; do
    say "loading $image"
    docker save "$image" | ctr_ images import -
  done
}

# Kill and delete every container of ours through our own containerd, so shims exit
# (they outlive containerd itself, and would keep mounts below $dir busy).
containerd_remove_containers() {
  running containerd || return 0
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill -s KILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ containers ls -q 2>/dev/null); do
    ctr_ containers delete "$id" >/dev/null 2>&1 || true
  done
}
