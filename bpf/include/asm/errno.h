/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * <bpf/usdt.bpf.h> includes <linux/errno.h>, which includes <asm/errno.h>.
 * With -target bpf clang does not search the host's multiarch directory
 * (/usr/include/x86_64-linux-gnu), where asm/ lives on Debian; every
 * architecture's asm/errno.h that matters here is the generic one anyway.
 */
#include <asm-generic/errno.h>
