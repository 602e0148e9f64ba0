// The pod sandbox ("pause") binary for the local cluster's own pause image.
module ripple.local/pause

go 1.25.0
