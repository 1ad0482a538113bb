# Shared settings for dm-remap's scripts. Source it; do not run it.
# shellcheck shell=bash

DMR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Cache for generated artefacts (initramfs images, debug kernel, extracted
# kernel sources). Outside git; override with DMR_CACHE.
DMR_CACHE=${DMR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dm-remap}
mkdir -p "$DMR_CACHE"
