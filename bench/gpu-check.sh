#!/usr/bin/env bash
# The GPU comparison on a machine with a GPU, in one command, needing only Node and this checkout
# with its node_modules (the optional packages webgpu and @tensorflow/tfjs-backend-webgpu installed):
# the product's MLP VAE step on tfjs webgpu beside PyTorch on the CPU and, where PyTorch has CUDA,
# on the GPU. Prints one table.
#   bash bench/gpu-check.sh [--steps N] [--json]
# To check the path on a machine without a GPU (SwiftShader, ~1000x slower):
#   VAE_WORKBENCH_WEBGPU_ADAPTER=swiftshader bash bench/gpu-check.sh --steps 2
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx bench/webgpu.ts "$@"
