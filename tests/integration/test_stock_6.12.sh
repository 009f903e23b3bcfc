#!/usr/bin/env bash
# Debian's 6.12 kernel, unmodified, under mmvm: see stock_kernel_checks.sh.
MMVM_STOCK_KERNELS=6.12 exec bash "$(dirname "${BASH_SOURCE[0]}")/stock_kernel_checks.sh"
