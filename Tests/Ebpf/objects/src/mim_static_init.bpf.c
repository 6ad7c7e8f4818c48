// SPDX-License-Identifier: GPL-2.0
/* bpfsim test object: an ARRAY_OF_MAPS whose slot 0 is initialised statically (`.values = { [0] = &q0 }`), which
 * libbpf applies after creating the maps (init_slots, from the .rel.maps relocations). bpfsim refuses the object
 * rather than leave the slot silently empty. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

#define BPF_MAP_TYPE_ARRAY_OF_MAPS 12
#define BPF_MAP_TYPE_QUEUE 22

struct queue_type {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 4);
} q0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct queue_type);
} queues SEC(".maps") = {
	.values = { [0] = &q0 },
};
