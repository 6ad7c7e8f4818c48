// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: XDP programs that the kernel refuses, each in one way, and one it accepts (pick one with name:):
 *   xdp_unknown_helper  calls helper #999, which does not exist (EINVAL "invalid func unknown#999" at load);
 *   xdp_bad_helper      calls bpf_get_current_comm, which xdp_func_proto does not give (EINVAL at load);
 *   xdp_r10_write       writes the frame pointer (EACCES "frame pointer is read only" at load);
 *   xdp_stack_520       stores at r10-520, outside the 512-byte frame (EACCES "invalid stack off=-520" at load);
 *   xdp_devmap_prog     SEC("xdp/devmap"): loads as BPF_XDP_DEVMAP, which no device takes (EINVAL at attach);
 *   xdp_cpumap_prog     SEC("xdp/cpumap"): BPF_XDP_CPUMAP, the same;
 *   xdp_pass            returns XDP_PASS. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

/* include/uapi/linux/bpf.h */
enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

static long (*bpf_no_such_helper)(void) = (void *)999;

SEC("xdp")
int xdp_unknown_helper(struct xdp_md *ctx)
{
	return bpf_no_such_helper() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_bad_helper(struct xdp_md *ctx)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_r10_write(struct xdp_md *ctx)
{
	asm volatile("r10 = 0" ::: "memory");
	return XDP_PASS;
}

SEC("xdp")
int xdp_stack_520(struct xdp_md *ctx)
{
	asm volatile("*(u64 *)(r10 - 520) = r1" ::: "memory");
	return XDP_PASS;
}

SEC("xdp/devmap")
int xdp_devmap_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp/cpumap")
int xdp_cpumap_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
