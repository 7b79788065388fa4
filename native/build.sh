#!/usr/bin/env bash
# Builds native/ to WebAssembly with Debian's clang and wasm-ld: freestanding C, no libc, no runtime.
# The output is reproducible byte for byte (no paths, no timestamps); CI rebuilds it and compares.
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
out=${JB_OUT:-jitter/jitter.wasm}
"$CLANG" --target=wasm32 -mbulk-memory -std=c11 -O2 -Wall -Wextra -Werror -nostdlib -ffreestanding ${JB_TUNE:-} \
  -fno-ident -ffile-prefix-map="$PWD"=. \
  -Wl,--no-entry -Wl,--strip-all -Wl,--initial-memory=4194304 \
  $(for f in jb_create jb_destroy jb_reset jb_input jb_put jb_get jb_output jb_statistics; do printf -- '-Wl,--export=%s ' "$f"; done) \
  -o "$out.tmp" jitter/jitter.c
mv "$out.tmp" "$out"
chmod 644 "$out"
sha256sum "$out"
