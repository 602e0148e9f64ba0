# shellcheck shell=bash
# The cluster's certificate authority, its service-account signing key, client and
# serving certificates, and the kubeconfigs built from them. Everything is created once
# and kept until `down`, so a restarted component finds the same identity.

# pki_setup: the CA, the service-account key pair and the admin's kubeconfig; each
# component makes its own certificate in its NAME_configure.
pki_setup() {
  ca_setup ripple-local-ca
  if [ ! -s "$pki/sa.key" ]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$pki/sa.key" 2>/dev/null
    openssl ec -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  cert admin "/O=system:masters/CN=ripple-admin"
  # Written aside and moved, so a reader never sees half a kubeconfig.
  write_kubeconfig "$kubeconfig.tmp" admin && mv "$kubeconfig.tmp" "$kubeconfig"
}

ca_setup() {  # ca_setup CN: the certificate authority $pki/ca.{crt,key}, made once
  mkdir -p "$pki"
  [ -s "$pki/ca.crt" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=$1" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$pki/ca.crt" 2>/dev/null
}

cert() {  # cert NAME SUBJECT [SANS]: EC key and certificate signed by the cluster CA
  local name=$1 subject=$2 sans=${3:-}
  [ -s "$pki/$name.crt" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

write_kubeconfig() {  # write_kubeconfig FILE CERT-NAME
  local file=$1 name=$2
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: $context
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$pki/$name.crt")
    client-key-data: $(base64 -w0 "$pki/$name.key")
contexts:
- name: $context
  context:
    cluster: $context
    user: $name
current-context: $context
KUBECONFIG
  chmod 600 "$file"
}

# client_identity NAME SUBJECT: a client certificate and $etc/NAME.kubeconfig with it.
client_identity() {
  cert "$1" "$2"
  write_kubeconfig "$etc/$1.kubeconfig" "$1"
}
