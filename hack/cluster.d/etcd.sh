# shellcheck shell=bash
# etcd: the apiserver's store, on loopback only and without TLS (nothing else on this
# machine is meant to reach it). fsync is off: the data is thrown away by `down` anyway,
# and syncing on a busy shared disk slows every write.

etcd_start() {
  start etcd "$k8s_bin/etcd" --name=ripple --data-dir="$data/etcd" \
    --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster=ripple=http://127.0.0.1:2380 --listen-metrics-urls=http://127.0.0.1:2381 \
    --unsafe-no-fsync=true --log-level=warn
}

etcd_ready() { curl -sf --max-time 3 http://127.0.0.1:2379/health | grep -q '"health":"true"'; }
