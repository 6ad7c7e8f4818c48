// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_src_counter: an XDP program that counts the IPv4 packets and bytes it sees per source address, in a hash map
 * keyed by the address as the packet carries it (network byte order, so bpftool's hex dump of a key reads as the
 * address: 0a 01 00 02 is 10.1.0.2), and drops every packet from one address, drop_addr (host byte order, e.g.
 * 0x0a010002; 0 drops nothing), set before loading like a skeleton's rodata. Non-IPv4 frames pass uncounted.
 * Self-contained: bpfsim's vmlinux.h has no networking types, so the few UAPI ones are declared here.
 */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u16 __sum16;
typedef __u32 __wsum;

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* include/uapi/linux/bpf.h */
#define BPF_MAP_TYPE_HASH 1
#define BPF_NOEXIST 1
enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

/* include/uapi/linux/if_ether.h, include/uapi/linux/ip.h */
#define ETH_P_IP 0x0800
struct ethhdr {
	unsigned char h_dest[6];
	unsigned char h_source[6];
	__be16 h_proto;
};
struct iphdr {
	__u8 ihl : 4, version : 4;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
};

char _license[] SEC("license") = "GPL";

/* The source address whose packets are dropped (host byte order); 0 for none. */
const volatile __u32 drop_addr = 0;

struct src_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __be32);
	__type(value, struct src_count);
} src_counts SEC(".maps");

SEC("xdp")
int xdp_src_counter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct src_count *count, init = {};
	__be32 src;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	src = ip->saddr;
	count = bpf_map_lookup_elem(&src_counts, &src);
	if (!count) {
		bpf_map_update_elem(&src_counts, &src, &init, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&src_counts, &src);
		if (!count)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&count->packets, 1);
	__sync_fetch_and_add(&count->bytes, (__u64)(data_end - data));
	if (drop_addr && bpf_ntohl(src) == drop_addr)
		return XDP_DROP;
	return XDP_PASS;
}
