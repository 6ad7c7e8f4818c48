#!/usr/bin/env python3
"""kernel-validate: run a bpfsim dumbbell scenario on this machine's Linux kernel and on bpfsim, and compare.

See docs/validation.md. Entry point: tools/kernel-validate/run (picks a python3 that has PyYAML).
"""
import argparse
import atexit
import csv
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILTINS = ("reno", "cubic", "bbr")
MSS_WIRE = 1500            # bytes of a full-sized packet on the wire (IP), as bpfsim counts a queue's packets
ROUTER_D_IP, RECEIVER_IP = "10.201.2.2", "10.201.2.1"
MAX_FLOWS = 240            # one access veth (and /24) per flow: 10.201.10.0/24 ... 10.201.249.0/24


def sender_ip(i):
    """Flow i's (0-based) sender address: the sender end of its own access link."""
    return f"10.201.{10 + i}.1"


def access_router_ip(i):
    return f"10.201.{10 + i}.2"
PORT = 5201
# The sender, the sink and the delay line run SCHED_FIFO (the delay line sets it itself): on a shared machine a build
# on the other core must not delay the 10 ms samples, nor the softirq work (veth, tbf, forwarding) that runs on the way
# out of their system calls. None of them spins; together they use well under one core.
RT = ["chrt", "-f", "5"] if shutil.which("chrt") else []


class Refused(Exception):
    """The scenario cannot be reproduced on the live kernel; the message says why."""


# ---------------------------------------------------------------------------------------------------------------------
# Scenario → plan (pure; covered by --self-test)

_TIME = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
_RATE = {"bps": 1.0, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9}
_SIZE = {"b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3}


def _quantity(value, units, what):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value == 0:
            return 0.0
        raise Refused(f"{what}: {value!r} needs a unit")
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]+)\s*", str(value))
    if not m or m.group(2).lower() not in units:
        raise Refused(f"{what}: can't read {value!r} (units: {', '.join(units)})")
    return float(m.group(1)) * units[m.group(2).lower()]


def parse_time(v, what="time"):
    return _quantity(v, _TIME, what)


def parse_rate(v, what="rate"):
    return _quantity(v, _RATE, what)


def parse_size(v, what="size"):
    return _quantity(v, _SIZE, what)


def translate(raw, available_cc=BUILTINS):
    """A scenario mapping (as YAML loads it) → the plan the kernel run carries out. Raises Refused."""
    if not isinstance(raw, dict):
        raise Refused("the scenario is not a mapping")
    structops = raw.get("structops") or []
    flows_raw = raw.get("flows") or []
    bpf_names = set()
    for e in structops:
        if isinstance(e, dict):
            bpf_names.add(str(e.get("program", "?")))
    if structops:
        ccs = sorted({str(f.get("cc")) for f in flows_raw if isinstance(f, dict) and f.get("cc") not in BUILTINS})
        raise Refused("the scenario loads BPF struct_ops consumers (" + ", ".join(sorted(bpf_names)) + ")"
                      + (f" used by flows with cc {', '.join(ccs)}" if ccs else "")
                      + ": this tool never attaches struct_ops to the live kernel (a struct_ops link update crashes "
                        "Linux 6.18); only the built-in reno, cubic and bbr can be validated")
    if str(raw.get("subsystem", "tcp")) != "tcp":
        raise Refused("only the tcp subsystem can be validated")
    net = raw.get("network") or {}
    if str(net.get("topology", "dumbbell")) != "dumbbell":
        raise Refused(f"topology {net.get('topology')}: only dumbbell scenarios can be built on the kernel")
    bn = net.get("bottleneck") or {}
    acc = net.get("access") or {}
    if float(bn.get("loss", 0) or 0) != 0:
        raise Refused("bottleneck.loss: random loss needs netem, which this kernel does not have")
    q = bn.get("queue") or {"type": "droptail", "limit": 250}
    if str(q.get("type", "droptail")) != "droptail":
        raise Refused(f"queue type {q.get('type')}: only droptail (pfifo/bfifo) can be built here")
    if "limit_bytes" in q:
        queue = {"kind": "bfifo", "limit_bytes": int(parse_size(q["limit_bytes"], "queue.limit_bytes"))}
    else:
        queue = {"kind": "pfifo", "limit": int(q.get("limit", 250))}
    if int(raw.get("ecn", 2)) != 2:
        raise Refused("ecn: only the default (2, accept ECN) is reproduced")
    plan = {
        "seed": int(raw.get("seed", 1)),
        "duration_s": parse_time(raw.get("duration", "30s"), "duration"),
        "bottleneck_rate_bps": parse_rate(bn.get("rate", "100Mbps"), "bottleneck.rate"),
        "bottleneck_delay_s": parse_time(bn.get("delay", "10ms"), "bottleneck.delay"),
        "access_rate_bps": parse_rate(acc.get("rate", "1Gbps"), "access.rate"),
        "access_delay_s": parse_time(acc.get("delay", "1ms"), "access.delay"),
        "queue": queue,
        "flows": [],
    }
    unsupported = ("stop", "burst", "interval", "arrivals", "rate", "from", "to")
    for i, f in enumerate(flows_raw):
        if not isinstance(f, dict):
            raise Refused(f"flows[{i}] is not a mapping")
        for k in unsupported:
            if k in f:
                raise Refused(f"flows[{i}].{k}: not reproduced on the kernel (only count, cc, start, size)")
        if "access_delay" in f and parse_time(f["access_delay"]) != plan["access_delay_s"]:
            raise Refused(f"flows[{i}].access_delay: per-flow delays are not reproduced (one delay line)")
        cc = str(f.get("cc", "cubic"))
        if cc not in available_cc:
            raise Refused(f"flows[{i}].cc {cc}: not a kernel built-in available here ({', '.join(available_cc)});"
                          " BPF/struct_ops algorithms are never attached to the live kernel")
        start = parse_time(f.get("start", 0), f"flows[{i}].start")
        size = int(parse_size(f["size"], f"flows[{i}].size")) if "size" in f else 0
        for _ in range(int(f.get("count", 1))):
            plan["flows"].append({"cc": cc, "start_s": start, "size": size})
    if not plan["flows"]:
        raise Refused("no flows")
    if len(plan["flows"]) > MAX_FLOWS:
        raise Refused(f"{len(plan['flows'])} flows: each flow gets its own access link (veth), at most {MAX_FLOWS}")
    if plan["access_rate_bps"] <= plan["bottleneck_rate_bps"]:
        raise Refused("access.rate must be above bottleneck.rate (the bottleneck is the router's egress)")
    # Round-trip propagation delay of a dumbbell flow: 2 x (sender access + bottleneck + receiver access).
    plan["rtt_s"] = 2 * (2 * plan["access_delay_s"] + plan["bottleneck_delay_s"])
    plan["delay_us"] = int(round(plan["rtt_s"] * 1e6))
    plan["bdp_packets"] = plan["bottleneck_rate_bps"] * plan["rtt_s"] / (8 * MSS_WIRE)
    return plan


def bottleneck_tc(plan, dev):
    """tc commands for the bottleneck on the router's egress towards the receivers.

    tbf at the bottleneck rate with a 2-packet bucket and a peak rate of the access rate over a one-packet (1514 B)
    peak bucket: tbf's max_size is then one full frame, so tbf_segment() cuts every GSO super-packet the sender's TSO
    made into wire-sized packets *before* they are queued, and the child pfifo/bfifo (the scenario's drop-tail queue)
    counts real packets, as bpfsim's queue does."""
    # bpfsim's rates are IP-layer rates (a full packet is 1448 + 52 = 1500 bytes on its links); tbf charges the
    # 14-byte Ethernet header too, so its rates are scaled by 1514/1500 to give the same packets per second.
    rate = int(round(plan["bottleneck_rate_bps"] * (MSS_WIRE + 14) / MSS_WIRE))
    peak = int(round(plan["access_rate_bps"] * (MSS_WIRE + 14) / MSS_WIRE))
    q = plan["queue"]
    cmds = [["tc", "qdisc", "replace", "dev", dev, "root", "handle", "1:", "tbf", "rate", f"{rate}bit",
             "burst", "3028", "peakrate", f"{peak}bit", "mtu", "1514", "limit", "3000000"]]
    if q["kind"] == "pfifo":
        cmds.append(["tc", "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", "pfifo",
                     "limit", str(q["limit"])])
    else:
        # bpfsim counts IP bytes; the qdisc counts frames (14 bytes of Ethernet header more per packet).
        limit = int(q["limit_bytes"] * (MSS_WIRE + 14) / MSS_WIRE)
        cmds.append(["tc", "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", "bfifo",
                     "limit", str(limit)])
    return cmds


def access_tc(plan, dev):
    """tc command for a flow's access link: the sender's egress onto its own veth, a tbf at the access rate.

    As in bpfsim's dumbbell, every sender has its own link to the router, so a flow's burst (its initial window, a TSO
    skb) is serialised at the access rate and the packets of different flows interleave at the bottleneck, instead of
    arriving there as back-to-back bursts from one infinitely fast veth. A two-frame bucket; tbf segments a GSO skb
    larger than that into wire-sized packets (tbf_segment), each released at the access rate."""
    peak = int(round(plan["access_rate_bps"] * (MSS_WIRE + 14) / MSS_WIRE))
    return ["tc", "qdisc", "replace", "dev", dev, "root", "handle", "1:", "tbf", "rate", f"{peak}bit",
            "burst", "3028", "limit", "3000000"]


def sender_specs(plan):
    return [f"{f['cc']}:{int(round(f['start_s'] * 1000))}:{f['size']}:{sender_ip(i)}"
            for i, f in enumerate(plan["flows"])]


def sim_offloads(offloads):
    """bpfsim's `tso`/`gro` for the veth offloads the kernel run uses: veth's defaults are TSO/GSO on, GRO off;
    `--offloads off` turns all three off (docs/scenarios.md, *Offloads*)."""
    return {"tso": offloads != "off", "gro": False}


def sim_scenario_text(raw_text, sample_interval="10ms", offloads=None, duration=None):
    """The scenario with sample_interval forced (10 ms, like the kernel sampler) and, given the kernel run's offload
    setting, `tso`/`gro` set to match the veths; `duration` overrides the run's length (the 2 s startup run)."""
    drop = r"^(sample_interval|tso|gro" + ("|duration" if duration is not None else "") + r")\s*:"
    lines = [ln for ln in raw_text.splitlines() if not re.match(drop, ln)]
    head = f"sample_interval: {sample_interval}\n"
    if offloads is not None:
        o = sim_offloads(offloads)
        head += f"tso: {str(o['tso']).lower()}\ngro: {str(o['gro']).lower()}\n"
    if duration is not None:
        head += f"duration: {duration:g}s\n"
    return head + "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# Statistics and comparison (pure; covered by --self-test)

def percentile(values, p):
    """Linear-interpolated percentile (numpy's default), p in [0, 100]."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def cwnd_stats(samples):
    return {"p10": percentile(samples, 10), "median": percentile(samples, 50), "p90": percentile(samples, 90)}


def mean(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return sum(xs) / len(xs) if xs else float("nan")


def summarize_kernel_samples(rows, plan, skip_s):
    """rows: dicts from tcpflows' CSV. Returns per-flow totals and cwnd stats after skip_s from each flow's start."""
    flows = {}
    for r in rows:
        fid = int(r["flow"])
        flows.setdefault(fid, []).append(r)
    out = []
    for i, spec in enumerate(plan["flows"], start=1):
        rs = flows.get(i, [])
        if not rs:
            out.append({"id": i, "cc": spec["cc"], "bytes_acked": 0, "goodput_mbps": 0.0, "retransmits": 0,
                        "retransmits_startup": 0, "ssthresh_first": None, "timeouts_startup": 0,
                        "timeouts": 0, "cwnd": cwnd_stats([]), "min_rtt_ms": float("nan")})
            continue
        last = rs[-1]
        acked = int(last["bytes_acked"])
        end = float(last["t_s"])
        if spec["size"]:
            done = [float(r["t_s"]) for r in rs if int(r["bytes_acked"]) >= spec["size"]]
            if done:
                end = done[0]
        end = min(end, plan["duration_s"]) if not spec["size"] else end
        span = max(end - spec["start_s"], 1e-9)
        steady = [int(r["cwnd"]) for r in rs if float(r["t_s"]) >= spec["start_s"] + skip_s and int(r["state"]) == 1]
        early = [r for r in rs if float(r["t_s"]) < spec["start_s"] + skip_s]
        ss_exit = next((int(r["ssthresh"]) for r in rs if 0 < int(r["ssthresh"]) < 2 ** 31 - 1), None)
        out.append({
            "retransmits_startup": int(early[-1]["total_retrans"]) if early else 0, "ssthresh_first": ss_exit,
            "timeouts_startup": int(early[-1]["total_rto"]) if early else 0,
            "id": i, "cc": spec["cc"], "bytes_acked": acked, "goodput_mbps": acked * 8 / span / 1e6,
            "retransmits": int(last["total_retrans"]), "timeouts": int(last["total_rto"]),
            "cwnd": cwnd_stats(steady),
            "min_rtt_ms": min((int(r["min_rtt_us"]) for r in rs if int(r["min_rtt_us"]) > 0), default=0) / 1000.0,
        })
    return out


def summarize_sim(flows_rows, ts_rows, skip_s):
    """bpfsim's flows.csv and timeseries.csv rows → the same per-flow shape."""
    cw, ss_first = {}, {}
    starts = {int(r["id"]): float(r["start_s"]) for r in flows_rows}
    for r in ts_rows:
        if r["metric"] == "ssthresh" and r["flow"].isdigit() and int(r["flow"]) not in ss_first:
            ss_first[int(r["flow"])] = float(r["value"])
        if r["metric"] != "cwnd":
            continue
        fid = int(r["flow"])
        if float(r["t_s"]) >= starts.get(fid, 0.0) + skip_s:
            cw.setdefault(fid, []).append(float(r["value"]))
    out = []
    for r in flows_rows:
        fid = int(r["id"])
        out.append({"id": fid, "cc": r["cc"], "bytes_acked": int(r["bytes_acked"]),
                    "goodput_mbps": float(r["goodput_mbps"]), "retransmits": int(r["retransmits"]),
                    "timeouts": int(r["timeouts"]), "cwnd": cwnd_stats(cw.get(fid, [])),
                    "ssthresh_first": ss_first.get(fid), "loss_probes": int(r.get("loss_probes") or 0),
                    "min_rtt_ms": float(r["rtt_ms_min"])})
    return out


def aggregate(flows):
    """One run's per-flow summaries → the table's numbers."""
    return {
        "goodput_mbps": sum(f["goodput_mbps"] for f in flows),
        "retransmits": sum(f["retransmits"] for f in flows),
        "timeouts": sum(f["timeouts"] for f in flows),
        "cwnd_median": mean([f["cwnd"]["median"] for f in flows]),
        "cwnd_p10": mean([f["cwnd"]["p10"] for f in flows]),
        "cwnd_p90": mean([f["cwnd"]["p90"] for f in flows]),
        "flow_goodput_min": min(f["goodput_mbps"] for f in flows),
        "flow_goodput_max": max(f["goodput_mbps"] for f in flows),
    }


def rel(sim, kern):
    if kern is None or sim is None or math.isnan(kern) or math.isnan(sim):
        return float("nan")
    if kern == 0:
        return 0.0 if sim == 0 else float("inf")
    return (sim - kern) / kern


def compare(kernel_aggs, sim_agg, goodput_tol=0.03, cwnd_tol=0.20):
    """Kernel runs (aggregates) vs bpfsim's. A metric agrees when bpfsim is within tol of the kernel mean, or inside
    the kernel's run-to-run range (where the noise is wider than the tolerance)."""
    row = {"kernel": {}, "sim": sim_agg, "delta": {}, "ok": {}}
    for key in ("goodput_mbps", "retransmits", "timeouts", "cwnd_median", "cwnd_p10", "cwnd_p90",
                "flow_goodput_min", "flow_goodput_max"):
        vals = [a[key] for a in kernel_aggs]
        row["kernel"][key] = {"mean": mean(vals), "min": min(vals), "max": max(vals)}
        row["delta"][key] = rel(sim_agg[key], row["kernel"][key]["mean"])
    for key, tol in (("goodput_mbps", goodput_tol), ("cwnd_median", cwnd_tol)):
        k = row["kernel"][key]
        d = row["delta"][key]
        row["ok"][key] = (not math.isnan(d) and abs(d) <= tol) or (k["min"] <= sim_agg[key] <= k["max"])
    return row


def _fmt(x, digits=1):
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "–"
    if isinstance(x, int) or float(x).is_integer() and abs(x) >= 100:
        return str(int(round(x)))
    return f"{x:.{digits}f}"


def _pct(d):
    if d is None or math.isnan(d):
        return "–"
    if math.isinf(d):
        return "+∞"
    return f"{d * 100:+.0f} %" if abs(d) >= 0.1 else f"{d * 100:+.1f} %"


def _spread(k, digits=1):
    return f"{_fmt(k['mean'], digits)} ({_fmt(k['min'], digits)}–{_fmt(k['max'], digits)})"


def markdown_table(results):
    """results: list of {"label": {...}, "row": compare(...)} → markdown."""
    head = ("| cc | flows | buffer | goodput kernel Mbit/s | bpfsim | Δ | retransmits kernel | bpfsim | "
            "RTOs kernel | bpfsim | median cwnd kernel | bpfsim | Δ | cwnd p10–p90 kernel / bpfsim | agrees |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        lab, row = r["label"], r["row"]
        k, s, d = row["kernel"], row["sim"], row["delta"]
        agrees = []
        agrees.append("goodput ✓" if row["ok"]["goodput_mbps"] else "goodput ✗")
        agrees.append("cwnd ✓" if row["ok"]["cwnd_median"] else "cwnd ✗")
        lines.append("| " + " | ".join([
            lab["cc"], str(lab["flows"]), lab["buffer"],
            _spread(k["goodput_mbps"]), _fmt(s["goodput_mbps"]), _pct(d["goodput_mbps"]),
            _spread(k["retransmits"], 0), _fmt(s["retransmits"], 0),
            _spread(k["timeouts"], 0), _fmt(s["timeouts"], 0),
            _spread(k["cwnd_median"]), _fmt(s["cwnd_median"]), _pct(d["cwnd_median"]),
            f"{_fmt(k['cwnd_p10']['mean'])}–{_fmt(k['cwnd_p90']['mean'])} / "
            f"{_fmt(s['cwnd_p10'])}–{_fmt(s['cwnd_p90'])}",
            ", ".join(agrees)]) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# The live kernel (needs root)

def sh(args, check=True, capture=True, ns=None, timeout=60, inp=None):
    if ns:
        args = ["ip", "netns", "exec", ns] + args
    r = subprocess.run(args, stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, input=inp)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout if capture else ""


def build_helpers(build_dir):
    os.makedirs(build_dir, exist_ok=True)
    out = {}
    for name in ("delayline", "tcpflows"):
        src = os.path.join(HERE, name + ".c")
        exe = os.path.join(build_dir, name)
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            sh(["gcc", "-O2", "-Wall", "-Wextra", "-o", exe, src])
        out[name] = exe
    return out


def batch(tool, ns, lines):
    """Many `ip`/`tc` commands in one process (`ip -n NS -batch -`): 32 flows' links are set up in well under a
    second."""
    if lines:
        sh([tool, "-n", ns, "-batch", "-"], inp="\n".join(lines) + "\n")


class Testbed:
    """Three namespaces: sender S, router R (bottleneck qdisc + TUN delay line), receiver D. Removed on exit.

    Every flow has its own access link: veth kvs<i> (sender, 10.201.<10+i>.1) — kva<i> (router, .2), with a tbf at the
    access rate on the sender's end; the flow's socket binds its address and a source-address policy rule routes it
    out of its link. The receivers share one veth (kvd0 — kvr1): after the bottleneck the data is at the bottleneck
    rate, which a per-receiver access link at the (faster) access rate would not change."""

    def __init__(self, plan, helpers, workdir, offloads="default"):
        tag = f"{os.getpid() % 100000}"
        self.S, self.R, self.D = f"kv{tag}s", f"kv{tag}r", f"kv{tag}d"
        self.tun = "kvdelay0"
        self.plan, self.helpers, self.workdir, self.offloads = plan, helpers, workdir, offloads
        self.procs = []
        self.up = False

    def __enter__(self):
        _CLEANUPS.append(self.teardown)
        S, R, D, tun = self.S, self.R, self.D, self.tun
        for ns in (S, R, D):
            sh(["ip", "netns", "add", ns])
        self.up = True
        for ns in (S, R):   # before the links exist, so that every new device inherits rp_filter 0
            for k, v in (("net.ipv4.ip_forward", "1" if ns == R else "0"), ("net.ipv4.conf.all.rp_filter", "0"),
                         ("net.ipv4.conf.default.rp_filter", "0")):
                sh(["sysctl", "-qw", f"{k}={v}"], ns=ns)
        n = len(self.plan["flows"])
        self.access = [(f"kvs{i}", f"kva{i}") for i in range(n)]
        links = [f"link add kvs{i} netns {S} type veth peer name kva{i} netns {R}" for i in range(n)]
        links.append(f"link add kvd0 netns {D} type veth peer name kvr1 netns {R}")
        batch("ip", R, links)   # -n R: the peers named with netns land where they say
        s_cmds, r_cmds = ["link set lo up"], ["link set lo up"]
        for i, (sdev, rdev) in enumerate(self.access):
            s_cmds += [f"addr add {sender_ip(i)}/24 dev {sdev}", f"link set {sdev} up",
                       f"rule add from {sender_ip(i)} lookup {1000 + i} pref {1000 + i}",
                       f"route add default via {access_router_ip(i)} dev {sdev} table {1000 + i}"]
            r_cmds += [f"addr add {access_router_ip(i)}/24 dev {rdev}", f"link set {rdev} up"]
        s_cmds.append(f"route add default via {access_router_ip(0)} dev kvs0")   # ping, unbound sockets
        r_cmds += [f"addr add {ROUTER_D_IP}/24 dev kvr1", "link set kvr1 up"]
        batch("ip", S, s_cmds)
        batch("ip", R, r_cmds)
        batch("ip", D, ["link set lo up", f"addr add {RECEIVER_IP}/24 dev kvd0", "link set kvd0 up",
                        f"route add default via {ROUTER_D_IP}"])
        batch("tc", S, [" ".join(access_tc(self.plan, sdev)[1:]) for sdev, _ in self.access])
        for ns in (S, D):   # fresh namespaces have an empty tcp_metrics cache; keep it empty between flows
            sh(["sysctl", "-qw", "net.ipv4.tcp_no_metrics_save=1"], ns=ns)
        # The delay line: every packet the router receives from the receivers' side (ACKs) is routed into a TUN
        # device; delayline holds it for the whole RTT and writes it back, and the router forwards it to the sender.
        sh(["ip", "tuntap", "add", "dev", tun, "mode", "tun"], ns=R)
        sh(["ip", "link", "set", tun, "up"], ns=R)
        sh(["sysctl", "-qw", f"net.ipv4.conf.{tun}.rp_filter=0"], ns=R)
        sh(["ip", "route", "add", "default", "dev", tun, "table", "100"], ns=R)
        sh(["ip", "rule", "add", "iif", "kvr1", "lookup", "100", "pref", "100"], ns=R)
        for cmd in bottleneck_tc(self.plan, "kvr1"):
            sh(cmd, ns=R)
        if self.offloads == "off":
            for ns, dev in ([(S, sdev) for sdev, _ in self.access] + [(R, rdev) for _, rdev in self.access]
                            + [(R, "kvr1"), (D, "kvd0")]):
                sh(["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"], ns=ns)
        return self

    def start(self, args, ns, name):
        log = open(os.path.join(self.workdir, name + ".log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + args, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def stop_procs(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def teardown(self):
        self.stop_procs()
        if self.up:
            for ns in (self.S, self.R, self.D):
                subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
            self.up = False

    def __exit__(self, *exc):
        self.teardown()
        if self.teardown in _CLEANUPS:
            _CLEANUPS.remove(self.teardown)


_CLEANUPS = []


def _cleanup_all(*_):
    while _CLEANUPS:
        try:
            _CLEANUPS.pop()()
        except Exception as e:  # noqa: BLE001 - best effort on the way out
            print(f"kernel-validate: cleanup: {e}", file=sys.stderr)


def _on_signal(sig, _frame):
    _cleanup_all()
    sys.exit(128 + sig)


def netstat_counters(ns):
    """/proc/net/netstat and /proc/net/snmp of a namespace → {"TcpExtTCPTimeouts": n, ...}."""
    out = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        lines = sh(["cat", path], ns=ns).splitlines()
        for names, values in zip(lines[0::2], lines[1::2]):
            prefix = names.split(":")[0]
            for n, v in zip(names.split()[1:], values.split()[1:]):
                try:
                    out[prefix + n] = int(v)
                except ValueError:
                    pass
    return out


def cpu_times():
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts), idle


def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def offload_state(ns, dev):
    want = ("tcp-segmentation-offload", "generic-segmentation-offload", "generic-receive-offload",
            "large-receive-offload")
    r = {}
    for line in sh(["ethtool", "-k", dev], ns=ns).splitlines():
        k, _, v = line.strip().partition(":")
        if k in want:
            r[k] = v.strip()
    return r


def busy_fraction(seconds=1.0):
    c0, i0 = cpu_times()
    time.sleep(seconds)
    c1, i1 = cpu_times()
    return 1 - (i1 - i0) / max(c1 - c0, 1)


def wait_idle(max_wait_s, threshold=0.3):
    """Wait (up to max_wait_s) until the machine is mostly idle: other work on the cores (a build, a test run) delays
    the router's softirqs and the delay line. Returns the busy fraction seen last and the seconds waited."""
    t0 = time.monotonic()
    busy = busy_fraction()
    while busy > threshold and time.monotonic() - t0 < max_wait_s:
        time.sleep(4)
        busy = busy_fraction()
    return busy, time.monotonic() - t0


MIB_KEYS = ("TcpExtTCPTimeouts", "TcpExtTCPLossProbes", "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKRecv", "TcpRetransSegs",
            "TcpExtTCPSackRecovery", "TcpExtTCPLostRetransmit", "TcpExtTCPLossProbeRecovery")


def kernel_run(plan, helpers, workdir, offloads, max_wait_idle_s=0, split_s=2.0):
    os.makedirs(workdir, exist_ok=True)
    meta = {}
    if max_wait_idle_s > 0:
        busy, waited = wait_idle(max_wait_idle_s)
        meta["busy_before"] = busy
        meta["waited_for_idle_s"] = round(waited, 1)
    with Testbed(plan, helpers, workdir, offloads) as tb:
        meta["sim_offloads"] = sim_offloads(offloads)
        meta["offloads"] = {f"{ns_name}:{dev}": offload_state(ns, dev) for ns_name, ns, dev in
                            (("sender", tb.S, "kvs0"), ("router-in", tb.R, "kva0"), ("router-out", tb.R, "kvr1"),
                             ("receiver", tb.D, "kvd0"))}
        meta["sysctl"] = {k: sh(["sysctl", "-n", k], ns=tb.S).strip() for k in
                          ("net.ipv4.tcp_recovery", "net.ipv4.tcp_frto", "net.ipv4.tcp_ecn", "net.ipv4.tcp_sack",
                           "net.ipv4.tcp_wmem", "net.ipv4.tcp_rmem", "net.ipv4.tcp_congestion_control")}
        meta["qdisc_setup"] = sh(["tc", "qdisc", "show", "dev", "kvr1"], ns=tb.R).strip()
        stats_path = os.path.join(workdir, "delayline.json")
        dl = tb.start([helpers["delayline"], tb.tun, str(plan["delay_us"]), stats_path], tb.R, "delayline")
        tb.start(RT + [helpers["tcpflows"], "sink", str(PORT)], tb.D, "sink")
        time.sleep(0.3)
        ping = sh(["ping", "-c", "20", "-i", "0.01", "-q", RECEIVER_IP], ns=tb.S, check=False)
        m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", ping)
        meta["ping_rtt_ms"] = ({"min": float(m.group(1)), "avg": float(m.group(2)), "max": float(m.group(3))}
                               if m else None)
        meta["rtt_target_ms"] = plan["rtt_s"] * 1000
        before = netstat_counters(tb.S)
        c0, i0 = cpu_times()
        dl_cpu0 = proc_cpu_s(dl.pid)
        samples = os.path.join(workdir, "samples.csv")
        t0 = time.monotonic()
        snd = subprocess.Popen(["ip", "netns", "exec", tb.S] + RT + [helpers["tcpflows"], "send", RECEIVER_IP,
                                str(PORT), str(int(round(plan["duration_s"] * 1000))), "10", samples]
                               + sender_specs(plan), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The namespace's counters at split_s too (TLPs have no per-socket counter): startup vs steady state.
        first_start = min(f["start_s"] for f in plan["flows"])
        time.sleep(max(0.0, t0 + first_start + split_s - time.monotonic()))
        mid = netstat_counters(tb.S)
        meta["mib_split_s"] = round(time.monotonic() - t0, 3)
        try:
            out, err = snd.communicate(timeout=plan["duration_s"] + 60)
        except subprocess.TimeoutExpired:
            snd.kill()
            raise
        wall = time.monotonic() - t0
        if snd.returncode != 0:
            raise RuntimeError(f"tcpflows send failed: {err.strip()}")
        meta["sampler"] = json.loads(out.strip().splitlines()[-1])
        c1, i1 = cpu_times()
        meta["cpu_busy_fraction"] = 1 - (i1 - i0) / max(c1 - c0, 1)
        meta["delayline_cpu_fraction"] = (proc_cpu_s(dl.pid) - dl_cpu0) / wall
        after = netstat_counters(tb.S)
        meta["mib_delta"] = {k: after.get(k, 0) - before.get(k, 0) for k in MIB_KEYS}
        meta["mib_startup"] = {k: mid.get(k, 0) - before.get(k, 0) for k in MIB_KEYS}
        aq = json.loads(sh(["tc", "-s", "-j", "qdisc", "show"], ns=tb.S))
        meta["access_qdisc"] = {"drops": sum(q.get("drops") or 0 for q in aq if q.get("kind") == "tbf"),
                                "links": sum(1 for q in aq if q.get("kind") == "tbf"),
                                "packets": sum(q.get("packets") or 0 for q in aq if q.get("kind") == "tbf")}
        qd = json.loads(sh(["tc", "-s", "-j", "qdisc", "show", "dev", "kvr1"], ns=tb.R))
        meta["bottleneck_qdisc"] = [{k: q.get(k) for k in ("kind", "handle", "packets", "bytes", "drops",
                                                          "overlimits", "requeues")} for q in qd]
        tun = json.loads(sh(["ip", "-s", "-j", "link", "show", tb.tun], ns=tb.R))[0].get("stats64", {})
        meta["tun_stats"] = tun
        tb.stop_procs()
        try:
            with open(stats_path) as f:
                meta["delayline"] = json.load(f)
        except (OSError, ValueError):
            meta["delayline"] = None
    with open(samples) as f:
        rows = list(csv.DictReader(f))
    return rows, meta


def faithful_problems(meta, plan):
    """What makes a kernel run unfaithful: drops in the delay line or tun, a wrong RTT, a saturated CPU."""
    probs = []
    dl = meta.get("delayline") or {}
    if not dl:
        probs.append("no delay-line statistics")
    elif dl.get("drops_ring_full") or dl.get("write_errors"):
        probs.append(f"delay line dropped {dl.get('drops_ring_full')} (ring) + {dl.get('write_errors')} (write)")
    tun = meta.get("tun_stats") or {}
    for d in ("rx", "tx"):
        dropped = (tun.get(d) or {}).get("dropped", 0)
        if dropped:
            probs.append(f"tun {d} dropped {dropped}")
    p = meta.get("ping_rtt_ms")
    if p and abs(p["min"] - plan["rtt_s"] * 1000) > 0.5:
        probs.append(f"ping min RTT {p['min']} ms vs {plan['rtt_s'] * 1000:.2f} ms")
    if meta.get("cpu_busy_fraction", 0) > 0.6:
        probs.append(f"CPU {meta['cpu_busy_fraction'] * 100:.0f} % busy")
    if (meta.get("access_qdisc") or {}).get("drops"):
        probs.append(f"access links dropped {meta['access_qdisc']['drops']}")
    off = (meta.get("offloads") or {})
    snd, rcv = off.get("sender:kvs0") or {}, off.get("receiver:kvd0") or {}
    want = meta.get("sim_offloads")
    if want and snd and rcv:
        tso = snd.get("tcp-segmentation-offload", "").startswith("on")
        gro = rcv.get("generic-receive-offload", "").startswith("on")
        if (tso, gro) != (want["tso"], want["gro"]):
            probs.append(f"veth offloads tso {tso} gro {gro} but bpfsim ran tso {want['tso']} gro {want['gro']}")
    if meta.get("sampler", {}).get("missed_ticks", 0) > 0:
        probs.append(f"sampler missed {meta['sampler']['missed_ticks']} ticks")
    return probs


# ---------------------------------------------------------------------------------------------------------------------
# bpfsim

def bpfsim_cmd(path):
    if path:
        return [path] if not path.endswith(".dll") else ["dotnet", path]
    exe = os.path.join(REPO, "Cli", "bin", "Release", "net10.0", "bpfsim")
    if not os.path.exists(exe):
        print("kernel-validate: building bpfsim (dotnet build Cli -c Release)", file=sys.stderr)
        sh(["dotnet", "build", os.path.join(REPO, "Cli"), "-c", "Release", "-v", "q"], capture=True, timeout=900)
    return [exe]


def bpfsim_commit():
    try:
        head = sh(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"]).strip()
        code = ["Core", "Subsystems", "Cli", "Programs"]
        sim = sh(["git", "-C", REPO, "log", "-1", "--format=%h", "--"] + code).strip()
        dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--"] + code).strip()
        return head + ("+dirty" if dirty else "") + (f", simulator code as of {sim}" if sim else "")
    except (RuntimeError, OSError):
        return "unknown"


def sim_run(cmd, scenario_path, workdir, skip_s, offloads="default", split_s=2.0):
    """bpfsim on the scenario (tso/gro matching the veths), and again cut at split_s: bpfsim's outputs have no
    per-flow RTO or TLP time series, so the startup counts are those of the same seed's run ended at split_s (the run
    is deterministic and nothing before split_s depends on the duration)."""
    text = open(scenario_path).read()
    os.makedirs(workdir, exist_ok=True)
    first_start = min(parse_time(f.get("start", 0)) for f in (load_yaml(scenario_path).get("flows") or [{}]))
    for name, dur in (("out", None), ("out-startup", first_start + split_s)):
        tmp = os.path.join(workdir, "scenario.yaml" if dur is None else "scenario-startup.yaml")
        with open(tmp, "w") as f:
            f.write(sim_scenario_text(text, offloads=offloads, duration=dur))
        sh(cmd + ["run", tmp, "--out", os.path.join(workdir, name), "--quiet"], timeout=3600)
    return sim_reload(workdir, skip_s)


def sim_startup_counts(workdir):
    """Per flow id: (timeouts, loss_probes) of the run cut at the split, if there is one."""
    path = os.path.join(workdir, "out-startup", "flows.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {int(r["id"]): (int(r["timeouts"]), int(r.get("loss_probes") or 0)) for r in csv.DictReader(f)}


def sim_reload(workdir, skip_s):
    """A finished bpfsim run's outputs, summarised (also for --from-work)."""
    out = os.path.join(workdir, "out")
    with open(os.path.join(out, "flows.csv")) as f:
        flows = list(csv.DictReader(f))
    with open(os.path.join(out, "timeseries.csv")) as f:
        ts = list(csv.DictReader(f))
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    summary["startup_drops"] = max((float(r["value"]) for r in ts if r["flow"] == "bottleneck"
                                    and r["metric"] == "drops" and float(r["t_s"]) < skip_s), default=0)
    sim_flows = summarize_sim(flows, ts, skip_s)
    early = sim_startup_counts(workdir)
    for fl in sim_flows:
        if fl["id"] in early:
            fl["timeouts_startup"], fl["loss_probes_startup"] = early[fl["id"]]
    return sim_flows, summary


# ---------------------------------------------------------------------------------------------------------------------
# Driver

def load_yaml(path):
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        sys.exit("kernel-validate: PyYAML is missing: apt-get install -y python3-yaml (and use /usr/bin/python3)")
    with open(path) as f:
        return yaml.safe_load(f)


def matrix_scenarios(workdir, algos, counts, buffers, rate_mbps, duration_s):
    """The validation matrix as scenario files (same template as docs/validation.md describes)."""
    os.makedirs(workdir, exist_ok=True)
    rtt = 2 * (2 * 0.001 + 0.010)
    bdp = rate_mbps * 1e6 * rtt / (8 * MSS_WIRE)
    items = []
    for cc in algos:
        for n in counts:
            for b in buffers:
                limit = max(2, int(round(bdp * b)))
                name = f"{cc}-{n}f-{b:g}bdp"
                path = os.path.join(workdir, name + ".yaml")
                with open(path, "w") as f:
                    f.write(f"# kernel-validate matrix: {cc}, {n} flow(s), {b:g} BDP buffer ({limit} packets)\n"
                            f"seed: 1\nduration: {duration_s:g}s\nnetwork:\n  topology: dumbbell\n"
                            f"  bottleneck: {{ rate: {rate_mbps:g}Mbps, delay: 10ms, queue: {{ type: droptail, "
                            f"limit: {limit} }} }}\n  access: {{ rate: 1Gbps, delay: 1ms }}\nflows:\n"
                            f"  - {{ count: {n}, cc: {cc}, start: 0s }}\n")
                items.append((path, {"cc": cc, "flows": n, "buffer": f"{b:g} BDP ({limit} p)"}))
    return items


def label_for(path, plan):
    ccs = sorted({f["cc"] for f in plan["flows"]})
    q = plan["queue"]
    buf = f"{q['limit']} p" if q["kind"] == "pfifo" else f"{q['limit_bytes']} B"
    return {"cc": "+".join(ccs), "flows": len(plan["flows"]), "buffer": buf + f" ({os.path.basename(path)})"}


def available_cc():
    try:
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            return tuple(a for a in f.read().split() if a in BUILTINS)
    except OSError:
        return BUILTINS


def check_all(items, args):
    """Every scenario translated before anything touches the kernel; a refusal stops the whole run (exit 2)."""
    plans = []
    for path, label in items:
        raw = load_yaml(path)
        try:
            plan = translate(raw, available_cc())
        except Refused as e:
            print(f"kernel-validate: {path}: refused: {e}", file=sys.stderr)
            sys.exit(2)
        duration = (label or {}).get("duration", args.duration)
        if duration:
            plan["duration_s"] = duration
        plans.append((path, label or label_for(path, plan), plan))
    return plans


def require_root_and_tools():
    if os.geteuid() != 0:
        print("kernel-validate: needs root (network namespaces, veth, tc qdiscs, TUN); run it as root or with sudo",
              file=sys.stderr)
        sys.exit(2)
    for tool in ("ip", "tc", "gcc", "ethtool", "ping"):
        if not shutil.which(tool):
            print(f"kernel-validate: {tool} is missing (apt-get install -y iproute2 gcc ethtool iputils-ping)",
                  file=sys.stderr)
            sys.exit(2)


def run_all(items, args, results=None):
    plans = check_all(items, args)
    require_root_and_tools()
    work = args.work or tempfile.mkdtemp(prefix="kernel-validate-")
    os.makedirs(work, exist_ok=True)
    helpers = build_helpers(os.path.join(work, "build"))
    cmd = bpfsim_cmd(args.bpfsim)
    results = [] if results is None else results
    print(f"kernel-validate: work directory {work}; bpfsim {bpfsim_commit()}", file=sys.stderr)
    for path, label, plan in plans:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.splitext(os.path.basename(path))[0])
        cdir = os.path.join(work, name)
        scen = path
        duration = label.get("duration", args.duration)
        if duration:
            raw_text = open(path).read()
            raw_text = "\n".join(ln for ln in raw_text.splitlines() if not re.match(r"^duration\s*:", ln))
            scen = os.path.join(cdir, "scenario-duration.yaml")
            os.makedirs(cdir, exist_ok=True)
            with open(scen, "w") as f:
                f.write(f"duration: {duration:g}s\n" + raw_text + "\n")
        sim_flows, sim_summary = sim_run(cmd, scen, os.path.join(cdir, "bpfsim"), args.skip, args.offloads)
        kaggs, kruns = [], []
        for i in range(args.runs):
            rows, meta = kernel_run(plan, helpers, os.path.join(cdir, f"kernel-{i + 1}"), args.offloads,
                                    args.wait_idle, args.skip)
            flows = summarize_kernel_samples(rows, plan, args.skip)
            agg = aggregate(flows)
            probs = faithful_problems(meta, plan)
            kaggs.append(agg)
            kruns.append({"flows": flows, "aggregate": agg, "meta": meta, "problems": probs,
                          "dir": os.path.join(cdir, f"kernel-{i + 1}")})
            print(f"  {name} kernel run {i + 1}: {agg['goodput_mbps']:.1f} Mbit/s, {agg['retransmits']} retrans, "
                  f"{agg['timeouts']} RTOs, median cwnd {agg['cwnd_median']:.1f}"
                  + (f"  [{'; '.join(probs)}]" if probs else ""), file=sys.stderr)
        sagg = aggregate(sim_flows)
        print(f"  {name} bpfsim:       {sagg['goodput_mbps']:.1f} Mbit/s, {sagg['retransmits']} retrans, "
              f"{sagg['timeouts']} RTOs, median cwnd {sagg['cwnd_median']:.1f}", file=sys.stderr)
        row = compare(kaggs, sagg)
        results.append({"label": label, "scenario": path, "plan": plan, "row": row, "kernel_runs": kruns,
                        "sim_flows": sim_flows, "sim_startup_drops": sim_summary.get("startup_drops"),
                        "sim_links": sim_summary.get("links"), "dir": cdir})
        with open(os.path.join(work, "results.json"), "w") as f:
            json.dump({"bpfsim_commit": bpfsim_commit(), "kernel": os.uname().release, "runs": args.runs, "skip": args.skip,
                       "offloads": args.offloads, "results": results}, f,
                      indent=1, default=str)
    return work, results


def reload_work(work, args):
    """results.json of a previous run, with every summary recomputed from the raw files (samples.csv, bpfsim's out)."""
    with open(os.path.join(work, "results.json")) as f:
        saved = json.load(f)
    results = []
    for r in saved["results"]:
        plan = r["plan"]
        kaggs = []
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.splitext(os.path.basename(r["scenario"]))[0])
        r.setdefault("dir", os.path.join(work, name))
        for i, k in enumerate(r["kernel_runs"]):
            k.setdefault("dir", os.path.join(r["dir"], f"kernel-{i + 1}"))
            with open(os.path.join(k["dir"], "samples.csv")) as f:
                k["flows"] = summarize_kernel_samples(list(csv.DictReader(f)), plan, args.skip)
            k["aggregate"] = aggregate(k["flows"])
            k["problems"] = faithful_problems(k["meta"], plan)
            kaggs.append(k["aggregate"])
        if args.rerun_bpfsim:
            # The kernel's raw data stays; bpfsim (deterministic) runs again on the same scenario file.
            scen = os.path.join(r["dir"], "scenario-duration.yaml")
            sim_run(bpfsim_cmd(args.bpfsim), scen if os.path.exists(scen) else r["scenario"],
                    os.path.join(r["dir"], "bpfsim"), args.skip, saved.get("offloads", "default"))
        sim_flows, summary = sim_reload(os.path.join(r["dir"], "bpfsim"), args.skip)
        r.update(sim_flows=sim_flows, sim_startup_drops=summary.get("startup_drops"), sim_links=summary.get("links"),
                 row=compare(kaggs, aggregate(sim_flows)))
        results.append(r)
    if "runs" in saved:
        args.runs = saved["runs"]
    return results


def first_data_spread_ms(meta, plan):
    """Time from the first to the last first write of the flows that start first, in a kernel run (tcpflows' JSON)."""
    fs = (meta.get("sampler") or {}).get("first_send_us") or []
    first = min(f["start_s"] for f in plan["flows"])
    fs = [t for t, f in zip(fs, plan["flows"]) if f["start_s"] == first and t > 0]
    return f"{(max(fs) - min(fs)) / 1000:.2f}" if len(fs) > 1 else "–"


def render_report(work, results, args):
    commit = bpfsim_commit()
    with open("/proc/sys/net/ipv4/tcp_recovery") as f:
        recovery = f.read().strip()
    md = [f"<!-- generated by tools/kernel-validate/run; bpfsim {commit}; Linux {os.uname().release} -->",
          f"bpfsim commit `{commit}`, Linux {os.uname().release} (tcp_recovery={recovery}), "
          f"{args.runs} kernel run(s) per row (mean, with min–max), offloads {args.offloads}, "
          f"steady part from {args.skip:g} s. Δ = (bpfsim − kernel mean) / kernel mean; a metric agrees (✓) within "
          f"3 % (goodput) / 20 % (median cwnd) or inside the kernel's min–max.", "",
          markdown_table(results)]
    md.append("Kernel side, per row: RTOs counted by TcpExtTCPTimeouts, loss probes (TLP), spurious RTOs, DSACKs "
              "received, bottleneck drops, ping RTT and fidelity checks.\n")
    md.append("| row | TCPTimeouts | TLPs | spurious RTOs | DSACKs | drops kernel | drops bpfsim | "
              "retransmits in the first 2 s kernel / drops bpfsim | first ssthresh kernel / bpfsim | ping min RTT ms | "
              "delay line late p99 µs | CPU busy | problems |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        lab = r["label"]
        runs = r["kernel_runs"]
        mib = lambda k: "/".join(str(x["meta"]["mib_delta"].get(k, 0)) for x in runs)  # noqa: E731
        drops = "/".join(str(sum((q.get("drops") or 0) for q in x["meta"]["bottleneck_qdisc"]
                                 if q.get("kind") in ("pfifo", "bfifo"))) for x in runs)
        sim_drops = sum(link.get("drops", 0) for link in (r.get("sim_links") or []) if link.get("name") == "bottleneck")
        ping = "/".join(f"{x['meta']['ping_rtt_ms']['min']:.2f}" if x["meta"].get("ping_rtt_ms") else "?"
                        for x in runs)
        late = "/".join(str((x["meta"].get("delayline") or {}).get("late_us_p99", "?")) for x in runs)
        cpu = "/".join(f"{x['meta']['cpu_busy_fraction'] * 100:.0f}%" for x in runs)
        probs = "; ".join(sorted({p for x in runs for p in x["problems"]})) or "none"
        early = "/".join(str(sum(f.get("retransmits_startup", 0) for f in x["flows"])) for x in runs)
        ssk = "/".join(_fmt(mean([f.get("ssthresh_first") for f in x["flows"]]), 0) for x in runs)
        sss = _fmt(mean([f.get("ssthresh_first") for f in r["sim_flows"]]), 0)
        md.append(f"| {lab['cc']} {lab['flows']}f {lab['buffer']} | {mib('TcpExtTCPTimeouts')} | "
                  f"{mib('TcpExtTCPLossProbes')} | {mib('TcpExtTCPSpuriousRTOs')} | {mib('TcpExtTCPDSACKRecv')} | "
                  f"{drops} | {sim_drops} | {early} / {_fmt(r.get('sim_startup_drops'), 0)} | {ssk} / {sss} | "
                  f"{ping} | {late} | {cpu} | {probs} |")
    md.append("")
    md.append(f"RTOs and tail loss probes (TLPs), startup (the first {args.skip:g} s) + steady state (after), summed "
              "over the flows. Kernel, per run: RTOs from tcpi_total_rto, TLPs from the sender namespace's "
              f"TcpExtTCPLossProbes read at {args.skip:g} s and at the end; bpfsim: `timeouts` and `loss_probes` of "
              f"flows.csv, the startup part from the same seed's run cut at {args.skip:g} s.\n")
    md.append("| row | RTOs kernel (startup + steady) | RTOs bpfsim | TLPs kernel (startup + steady) | TLPs bpfsim | "
              "access-link drops kernel | kernel flows' first data, spread ms |")
    md.append("|---|---|---|---|---|---|---|")
    for r in results:
        lab = r["label"]
        runs = r["kernel_runs"]
        krto = ", ".join(f"{st} + {tot - st}" for st, tot in
                         ((sum(f.get("timeouts_startup", 0) for f in x["flows"]),
                           sum(f["timeouts"] for f in x["flows"])) for x in runs))
        ktlp = ", ".join(
            (f"{x['meta']['mib_startup'].get('TcpExtTCPLossProbes', 0)} + "
             f"{x['meta']['mib_delta'].get('TcpExtTCPLossProbes', 0) - x['meta']['mib_startup'].get('TcpExtTCPLossProbes', 0)}")
            if "mib_startup" in x["meta"] else f"{x['meta']['mib_delta'].get('TcpExtTCPLossProbes', 0)}"
            for x in runs)
        sf = r["sim_flows"]
        srto_t = sum(f["timeouts"] for f in sf)
        stlp_t = sum(f.get("loss_probes", 0) for f in sf)
        if all("timeouts_startup" in f for f in sf):
            srto_s = sum(f["timeouts_startup"] for f in sf)
            stlp_s = sum(f["loss_probes_startup"] for f in sf)
            srto, stlp = f"{srto_s} + {srto_t - srto_s}", f"{stlp_s} + {stlp_t - stlp_s}"
        else:
            srto, stlp = str(srto_t), str(stlp_t)
        adrop = "/".join(str((x["meta"].get("access_qdisc") or {}).get("drops", "–")) for x in runs)
        spread = "/".join(first_data_spread_ms(x["meta"], r["plan"]) for x in runs)
        md.append(f"| {lab['cc']} {lab['flows']}f {lab['buffer']} | {krto} | {srto} | {ktlp} | {stlp} | {adrop} | "
                  f"{spread} |")
    md.append("")
    md.append("Per-flow goodput (Mbit/s), kernel run 1 vs bpfsim:\n")
    for r in results:
        lab = r["label"]
        if lab["flows"] == 1:
            continue
        k1 = r["kernel_runs"][0]["flows"]
        md.append(f"- {lab['cc']} {lab['flows']}f {lab['buffer']}: kernel "
                  + " ".join(f"{f['goodput_mbps']:.1f}" for f in k1) + "; bpfsim "
                  + " ".join(f"{f['goodput_mbps']:.1f}" for f in r["sim_flows"]))
    text = "\n".join(md) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"kernel-validate: wrote {args.out}", file=sys.stderr)
    print(text)


# ---------------------------------------------------------------------------------------------------------------------
# Self-test: the pure parts, deterministic, no root, no network

def self_test():
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    check(parse_time("250us") == 250e-6 and parse_time("1.5s") == 1.5 and parse_time(0) == 0, "parse_time")
    check(parse_rate("100Mbps") == 1e8 and parse_rate("1Gbps") == 1e9, "parse_rate")
    check(parse_size("64KB") == 64000 and parse_size("10MB") == 10 ** 7, "parse_size")
    raw = {"seed": 3, "duration": "30s",
           "network": {"topology": "dumbbell",
                       "bottleneck": {"rate": "100Mbps", "delay": "10ms",
                                      "queue": {"type": "droptail", "limit": 42}},
                       "access": {"rate": "1Gbps", "delay": "1ms"}},
           "flows": [{"count": 32, "cc": "cubic", "start": "0s"}, {"cc": "bbr", "start": "2s", "size": "1MB"}]}
    p = translate(raw)
    check(len(p["flows"]) == 33, "count expands to flows")
    check(abs(p["rtt_s"] - 0.024) < 1e-12 and p["delay_us"] == 24000, f"rtt 24 ms, got {p['rtt_s']}")
    check(abs(p["bdp_packets"] - 200) < 1e-9, f"BDP 200 packets, got {p['bdp_packets']}")
    check(sender_specs(p)[0] == "cubic:0:0:10.201.10.1" and sender_specs(p)[-1] == "bbr:2000:1000000:10.201.42.1",
          f"sender specs (each flow bound to its own access link's address): {sender_specs(p)[-1]}")
    acc = access_tc(p, "kvs3")
    check(acc[acc.index("rate") + 1] == "1009333333bit" and "tbf" in acc and acc[acc.index("dev") + 1] == "kvs3",
          f"access link tbf at the access rate: {acc}")
    try:
        translate(dict(raw, flows=[{"count": MAX_FLOWS + 1, "cc": "cubic"}]))
        failures.append("more flows than access links not refused")
    except Refused as e:
        check("access link" in str(e), f"too many flows: {e}")
    txt = sim_scenario_text("seed: 1\ntso: false\nduration: 30s\n", offloads="default", duration=2.0)
    check("tso: true\ngro: false\n" in txt and txt.count("tso:") == 1 and "duration: 2s" in txt
          and txt.count("duration:") == 1, f"bpfsim copy: veth offloads and the startup cut:\n{txt}")
    txt = sim_scenario_text("seed: 1\n", offloads="off")
    check("tso: false\ngro: false\n" in txt and "duration" not in txt, f"--offloads off:\n{txt}")
    tc = bottleneck_tc(p, "kvr1")
    check(tc[0][tc[0].index("rate") + 1] == "100933333bit" and tc[0][tc[0].index("mtu") + 1] == "1514",
          "tbf rate and one-frame max_size")
    check(tc[1][-3:] == ["pfifo", "limit", "42"], f"pfifo limit 42: {tc[1]}")
    rawb = json.loads(json.dumps(raw))
    rawb["network"]["bottleneck"]["queue"] = {"type": "droptail", "limit_bytes": "150KB"}
    check(bottleneck_tc(translate(rawb), "x")[1][-2:] == ["limit", str(int(150000 * 1514 / 1500))], "bfifo bytes")
    for bad, word in (({"structops": [{"program": "bpf_cubic", "at": "0s"}],
                        "flows": [{"cc": "bpf_cubic"}]}, "struct_ops"),
                      ({"flows": [{"cc": "bpf_dctcp"}]}, "never attached"),
                      ({"network": {"topology": "parking_lot"}, "flows": [{}]}, "dumbbell"),
                      ({"network": {"bottleneck": {"loss": 0.01}}, "flows": [{}]}, "netem"),
                      ({"network": {"bottleneck": {"queue": {"type": "red", "min": 1, "max": 2}}}, "flows": [{}]},
                       "droptail"),
                      ({"flows": [{"burst": "10KB", "interval": "1s"}]}, "burst")):
        try:
            translate(bad)
            failures.append(f"not refused: {bad}")
        except Refused as e:
            check(word in str(e), f"refusal of {bad} says {word!r}: {e}")
    check(percentile([1, 2, 3, 4, 5], 50) == 3 and percentile([1, 2, 3, 4], 50) == 2.5, "median")
    check(abs(percentile(list(range(11)), 10) - 1.0) < 1e-12 and percentile(list(range(11)), 90) == 9, "p10/p90")
    check(math.isnan(percentile([], 50)), "empty percentile")
    text = "seed: 1\nsample_interval: 100ms\nduration: 2s\n"
    check(sim_scenario_text(text).count("sample_interval") == 1 and "sample_interval: 10ms" in sim_scenario_text(text),
          "sample_interval forced to 10ms")
    # kernel samples → per-flow summary: flow 1 bulk, 3 s; cwnd samples before 2 s are skipped
    plan = {"duration_s": 3.0, "flows": [{"cc": "cubic", "start_s": 0.0, "size": 0}]}
    rows = [{"t_s": f"{t / 100:.2f}", "flow": "1", "state": "1", "cwnd": str(10 if t < 200 else 50 + (t % 3)),
             "bytes_acked": str(t * 12500), "total_retrans": "5" if t < 250 else "7", "total_rto": "2",
             "min_rtt_us": "24100", "ssthresh": "2147483647" if t < 100 else "40"}
            for t in range(1, 301)]
    s = summarize_kernel_samples(rows, plan, 2.0)[0]
    check(abs(s["goodput_mbps"] - 300 * 12500 * 8 / 3.0 / 1e6) < 1e-9, f"kernel goodput {s['goodput_mbps']}")
    check(s["cwnd"]["median"] == 51 and s["cwnd"]["p10"] == 50 and s["timeouts"] == 2 and s["retransmits"] == 7,
          f"kernel cwnd stats {s}")
    check(s["retransmits_startup"] == 5 and s["ssthresh_first"] == 40 and s["timeouts_startup"] == 2,
          f"startup retransmits (5 before 2 s) and the first ssthresh (40): {s}")
    sim = summarize_sim([{"id": "1", "cc": "cubic", "start_s": "0", "bytes_acked": "100", "goodput_mbps": "9.5",
                          "retransmits": "3", "timeouts": "1", "rtt_ms_min": "24"}],
                        [{"t_s": "1", "flow": "1", "metric": "cwnd", "value": "5"},
                         {"t_s": "2.5", "flow": "1", "metric": "cwnd", "value": "40"},
                         {"t_s": "2.6", "flow": "1", "metric": "srtt", "value": "99"},
                         {"t_s": "0.2", "flow": "1", "metric": "ssthresh", "value": "77"},
                         {"t_s": "0.3", "flow": "1", "metric": "ssthresh", "value": "50"},
                         {"t_s": "0.3", "flow": "bottleneck", "metric": "drops", "value": "12"}], 2.0)[0]
    check(sim["cwnd"]["median"] == 40 and sim["goodput_mbps"] == 9.5 and sim["ssthresh_first"] == 77,
          f"sim summary {sim}")
    k = [{"goodput_mbps": 90.0, "retransmits": 10, "timeouts": 0, "cwnd_median": 100.0, "cwnd_p10": 80.0,
          "cwnd_p90": 120.0, "flow_goodput_min": 90.0, "flow_goodput_max": 90.0},
         {"goodput_mbps": 94.0, "retransmits": 14, "timeouts": 2, "cwnd_median": 110.0, "cwnd_p10": 80.0,
          "cwnd_p90": 120.0, "flow_goodput_min": 94.0, "flow_goodput_max": 94.0}]
    good = dict(k[0], goodput_mbps=93.0, cwnd_median=130.0)
    row = compare(k, good)
    check(row["ok"]["goodput_mbps"] and not row["ok"]["cwnd_median"], f"compare verdicts {row['ok']}")
    check(abs(row["delta"]["cwnd_median"] - (130 - 105) / 105) < 1e-12, "relative delta")
    check(compare(k, dict(k[0], goodput_mbps=97.0))["ok"]["goodput_mbps"] is False, "97 vs 92±2 is a gap (5.4 %)")
    check(compare(k, dict(k[0], goodput_mbps=94.5))["ok"]["goodput_mbps"], "2.7 % is within 3 %")
    table = markdown_table([{"label": {"cc": "cubic", "flows": 1, "buffer": "0.5 BDP"}, "row": row}])
    check("| cubic | 1 | 0.5 BDP | 92.0 (90.0–94.0) | 93.0 | +1.1 % |" in table, f"table row:\n{table}")
    check(rel(0, 0) == 0.0 and math.isinf(rel(3, 0)), "rel with a zero kernel value")
    check(first_data_spread_ms({"sampler": {"first_send_us": [25000.0, 28500.0, 26000.0, 40000.0]}},
                               {"flows": [{"start_s": 0.0}, {"start_s": 0.0}, {"start_s": 0.0}, {"start_s": 1.0}]})
          == "3.50", "first-data spread of the flows starting first")
    if failures:
        for f_ in failures:
            print(f"self-test FAILED: {f_}", file=sys.stderr)
        return 1
    print("kernel-validate self-test: ok")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tools/kernel-validate/run",
                                 description="Compare bpfsim with this machine's Linux TCP on a dumbbell (needs root).")
    ap.add_argument("scenarios", nargs="*", help="dumbbell scenario files (built-in algorithms only)")
    ap.add_argument("--matrix", action="store_true",
                    help="run the validation matrix (algorithms x flows x buffers, plus the 32-flow acceptance run)")
    ap.add_argument("--algos", default="cubic,reno,bbr")
    ap.add_argument("--flows", default="1,2,4")
    ap.add_argument("--buffers", default="0.5,2", help="bottleneck buffers in BDPs")
    ap.add_argument("--rate", type=float, default=100, help="matrix bottleneck rate, Mbit/s")
    ap.add_argument("--no-acceptance", action="store_true", help="matrix without the 32-flow acceptance run")
    ap.add_argument("--duration", type=float, help="override every scenario's duration (seconds); the matrix "
                                                   "defaults to 20")
    ap.add_argument("--runs", type=int, default=3, help="kernel runs per scenario (default 3)")
    ap.add_argument("--skip", type=float, default=2.0, help="seconds of each flow skipped for cwnd statistics")
    ap.add_argument("--offloads", choices=("default", "off"), default="default",
                    help="veth TSO/GSO/GRO: leave the defaults, or turn them all off")
    ap.add_argument("--wait-idle", type=float, default=15, metavar="S",
                    help="before each kernel run wait up to S seconds for the CPUs to be under 30 %% busy (default "
                         "15; 0 = don't wait)")
    ap.add_argument("--bpfsim", help="bpfsim executable or .dll (default: Cli/bin/Release/net10.0/bpfsim)")
    ap.add_argument("--work", help="keep raw data here (default: a new temp directory)")
    ap.add_argument("--out", help="write the markdown table here as well as to stdout")
    ap.add_argument("--self-test", action="store_true", help="test the pure parts (no root, no network)")
    ap.add_argument("--from-work", metavar="DIR",
                    help="no runs: summarise the raw data a previous run kept in DIR again and print the table")
    ap.add_argument("--rerun-bpfsim", action="store_true",
                    help="with --from-work: run bpfsim again (the current build) on every saved scenario, keep the "
                         "kernel's raw data, and print the table")
    ap.add_argument("--check", action="store_true",
                    help="only translate the scenarios and print what would be built (no root, no kernel)")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.rerun_bpfsim and not args.from_work:
        ap.error("--rerun-bpfsim needs --from-work DIR")
    if args.from_work:
        render_report(args.from_work, reload_work(args.from_work, args), args)
        return 0
    if args.check:
        if not args.scenarios:
            ap.error("--check needs scenario files")
        for path, label, plan in check_all([(p, None) for p in args.scenarios], args):
            print(json.dumps({"scenario": path, "plan": plan, "bottleneck_tc": bottleneck_tc(plan, "kvr1"),
                              "access_tc": access_tc(plan, "kvs<i>"),
                              "sender": sender_specs(plan)}))
        return 0
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    atexit.register(_cleanup_all)
    if args.matrix:
        if args.duration is None:
            args.duration = 20.0
        mdir = os.path.join(args.work or tempfile.mkdtemp(prefix="kernel-validate-"), "matrix")
        args.work = os.path.dirname(mdir)
        items = matrix_scenarios(mdir, args.algos.split(","), [int(x) for x in args.flows.split(",")],
                                 [float(x) for x in args.buffers.split(",")], args.rate, args.duration)
        if not args.no_acceptance:   # the acceptance run keeps its own 30 s
            items.append((os.path.join(HERE, "scenarios", "shallow_buffer_32.yaml"),
                          {"cc": "cubic", "flows": 32, "buffer": "42 p (acceptance, 30 s)", "duration": 30.0}))
        work, results = run_all(items, args)
    elif args.scenarios:
        work, results = run_all([(p, None) for p in args.scenarios], args)
    else:
        ap.error("give scenario files, --matrix or --self-test")
    render_report(work, results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
