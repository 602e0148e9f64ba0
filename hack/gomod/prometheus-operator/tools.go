//go:build tools

// Package tools pins the operator's and the config reloader's commands so `go mod tidy`
// keeps what they need.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
	_ "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader"
)
