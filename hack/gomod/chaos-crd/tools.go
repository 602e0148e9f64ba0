//go:build tools

// Package tools pins controller-gen and the Chaos Mesh API package it reads.
package tools

import (
	_ "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
