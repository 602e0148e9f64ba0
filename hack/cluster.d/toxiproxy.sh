# shellcheck shell=bash
# Toxiproxy, the fault proxy ripple's chart can put in front of the demo's middle service
# (demo.faultProxy.enabled): built from its module (hack/gomod/toxiproxy) into a one-binary
# image and imported into the cluster's containerd, so the chart's pods find it.

build_toxiproxy() {
  check_gomod toxiproxy github.com/Shopify/toxiproxy/v2 "$TOXIPROXY_VERSION"
  build_one toxiproxy-server "$TOXIPROXY_VERSION" toxiproxy github.com/Shopify/toxiproxy/v2/cmd/server \
    "-X github.com/Shopify/toxiproxy/v2.Version=${TOXIPROXY_VERSION#v}"
}

toxiproxy_addon() {
  build_toxiproxy
  ctr_ images import "$(image_archive "$TOXIPROXY_IMAGE" \
    "$cache/toxiproxy-server/$TOXIPROXY_VERSION/toxiproxy-server" '["/toxiproxy-server"]')" >/dev/null
}
