# shellcheck shell=bash
# The kind node image, assembled as `kind build node-image` does (which cannot run
# offline: it pulls etcd, CoreDNS, pause and kindnetd): a container of the base image,
# kubeadm/kubelet/kubectl copied to /usr/bin, /kind/version, the control plane's images
# imported into its containerd (k8s.io namespace, not unpacked), `docker commit`.
# The images are ours: one-binary images of hack/cluster's Kubernetes build under
# ripple.local/ (kubeadm is told imageRepository ripple.local, see cluster.sh), kube-proxy
# and kube-router over the base image (they need iptables, conntrack, ipset), pause and
# CoreDNS as hack/cluster saved them.

# one_binary_image REF BINARY: a `docker import`ed image holding BINARY in /usr/local/bin.
one_binary_image() {
  local ref=$1 bin=$2 root
  docker image inspect "$ref" >/dev/null 2>&1 && return 0
  root=$(mktemp -d)
  mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/var/run"
  cp "$bin" "$root/usr/local/bin/"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  echo "nobody:x:65534:65534:nobody:/:/sbin/nologin" >"$root/etc/passwd"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$ref" >/dev/null
  rm -rf "$root"
}

# on_base_image REF BINARY: an image of the kind base (iptables, ipset, a shell) whose
# entrypoint is BINARY; built once per REF.
on_base_image() {
  local ref=$1 bin=$2 name ctx
  docker image inspect "$ref" >/dev/null 2>&1 && return 0
  name=$(basename "$bin")
  ctx=$(mktemp -d)
  cp "$bin" "$ctx/"
  printf 'FROM %s\nCOPY %s /usr/local/bin/%s\nENTRYPOINT ["/usr/local/bin/%s"]\n' \
    "$KIND_BASE_IMAGE" "$name" "$name" "$name" >"$ctx/Dockerfile"
  docker build -q -t "$ref" "$ctx" >/dev/null
  rm -rf "$ctx"
}

component_images() {  # builds the images kubeadm will use; prints their references
  local v=$KUBERNETES_VERSION b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    one_binary_image "ripple.local/$b:$v" "$k8s_bin/$b"
  done
  one_binary_image "ripple.local/etcd:$ETCD_VERSION" "$k8s_bin/etcd"
  # Built under a tag that follows the base image's, named as kubeadm expects it.
  on_base_image "$kube_proxy_image" "$k8s_bin/kube-proxy"
  docker tag "$kube_proxy_image" "ripple.local/kube-proxy:$v"
  on_base_image "$kube_router_image" "$cache/kube-router/$KUBE_ROUTER_VERSION/kube-router"
  local i
  for i in "$PAUSE_IMAGE" "$COREDNS_IMAGE"; do
    docker image inspect "$i" >/dev/null 2>&1 ||
      docker load -i "$cache/cluster-images/$(echo "$i" | tr '/:' '__').tar" >/dev/null
  done
  printf '%s\n' "ripple.local/kube-apiserver:$v" "ripple.local/kube-controller-manager:$v" \
    "ripple.local/kube-scheduler:$v" "ripple.local/kube-proxy:$v" \
    "ripple.local/etcd:$ETCD_VERSION" "$PAUSE_IMAGE" "$COREDNS_IMAGE" "$kube_router_image"
}

build_node_image() {
  docker image inspect "$KIND_NODE_IMAGE" >/dev/null 2>&1 && return 0
  say "building the node image $KIND_NODE_IMAGE ..."
  local refs c b
  mapfile -t refs < <(component_images)
  c=$(docker run -d --entrypoint sleep "$KIND_BASE_IMAGE" infinity)
  # shellcheck disable=SC2064 # $c is fixed now
  trap "docker rm -f -v $c >/dev/null 2>&1 || true" RETURN
  for b in "$kubeadm_bin" "$k8s_bin/kubelet" "$k8s_bin/kubectl"; do
    docker cp "$b" "$c:/usr/bin/$(basename "$b")"
  done
  docker exec "$c" chown root:root /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl
  docker exec "$c" sh -c "echo $KUBERNETES_VERSION >/kind/version"
  docker exec -d "$c" sh -c 'containerd >/var/log/containerd-build.log 2>&1'
  wait_until 60 "containerd in the node image build" docker exec "$c" ctr version
  docker save "${refs[@]}" | docker exec -i "$c" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack - >/dev/null
  docker exec "$c" sh -c 'pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done; rm -f /var/log/containerd-build.log'
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$c" "$KIND_NODE_IMAGE" >/dev/null
}
