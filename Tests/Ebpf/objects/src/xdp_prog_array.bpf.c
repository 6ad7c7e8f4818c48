// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: an XDP program that tail-calls through a BPF_MAP_TYPE_PROG_ARRAY, a map type bpfsim does not
 * create (BPF_MAP_CREATE EINVAL when the object loads). */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

/* include/uapi/linux/bpf.h */
#define BPF_MAP_TYPE_PROG_ARRAY 3
enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

SEC("xdp")
int xdp_tail(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 0);
	return XDP_PASS;
}
