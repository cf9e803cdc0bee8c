# Sourced by the scripts: build with the patched Go toolchain, which the go
# command fetches from the module proxy on first use (a machine starts with
# its own, older, Go). A GOTOOLCHAIN naming a version is kept.
case "${GOTOOLCHAIN:-local}" in
  local | auto | path) export GOTOOLCHAIN=go1.27.3 ;;
  *) export GOTOOLCHAIN ;;
esac
