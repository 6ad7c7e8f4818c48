// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: a license and a global, and no program at all (an xdp: entry naming it is refused). */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

__u32 packets_seen = 0;
