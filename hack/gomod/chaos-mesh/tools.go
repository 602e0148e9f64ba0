//go:build tools

// Package tools pins Chaos Mesh's commands so `go mod tidy` keeps what they need.
package tools

import (
	_ "github.com/chaos-mesh/chaos-mesh/cmd/chaos-controller-manager"
	_ "github.com/chaos-mesh/chaos-mesh/cmd/chaos-daemon"
)
