#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, from Debian's slurm-wlm and munge packages, for trying `bpfsim sweep
# --emit slurm` and for the Slurm test (Tests/Studies/Sweeps/SlurmClusterTests.cs). Runs as root, needs no systemd:
# munged, slurmctld and slurmd are started directly as daemons.
#
#   tools/slurm/localhost-cluster.sh start    install the packages if missing, write the config, start the daemons
#                                             (or reuse them when they already run) and wait until the node is idle
#   tools/slurm/localhost-cluster.sh status   what runs, and sinfo; exit 0 when the node is up
#   tools/slurm/localhost-cluster.sh stop     stop the daemons this script started
#   tools/slurm/localhost-cluster.sh env      print `export SLURM_CONF=...`, which sbatch/sinfo/squeue need
#
# Everything lives in $BPFSIM_SLURM_DIR (default /var/lib/bpfsim-slurm): slurm.conf, state, spool, logs, pid files.
# /etc/slurm is left alone, so a machine's own Slurm configuration is untouched; the daemons listen on
# $BPFSIM_SLURM_PORT and the next port (default 6827, 6828) rather than Slurm's usual 6817/6818. Clients find this
# cluster through SLURM_CONF (see `env`). An already running munged is reused; one this script starts it also stops.
#
# Plugins are the ones that work in a container without systemd or a delegated cgroup tree: proctrack/linuxproc,
# task/none, select/cons_tres with CR_Core, no accounting, no job accounting gather.
#
# Exit codes: 0 done, 1 failed (the log lines that say why are printed), 2 usage, 3 this machine cannot host the
# cluster (not root, or the packages are missing and cannot be installed).
set -euo pipefail

dir="${BPFSIM_SLURM_DIR:-/var/lib/bpfsim-slurm}"
port="${BPFSIM_SLURM_PORT:-6827}"
timeout="${BPFSIM_SLURM_TIMEOUT:-60}"
conf="$dir/slurm.conf"
host="$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)" # what slurmd takes as its node name
export SLURM_CONF="$conf"
export PATH="$PATH:/usr/sbin:/sbin" # munged, slurmctld and slurmd live there, off some users' PATH

say() { echo "localhost-cluster: $*" >&2; }
cannot() { say "$*"; exit 3; }
fail() { say "$*"; exit 1; }

# Whether process PID is alive: it exists and is not a zombie waiting for its parent (pid 1 here) to reap it.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat:0:1}" != Z ]
}

# The pid in FILE when that process is alive and is COMMAND (not a recycled pid); empty otherwise.
live_pid() {
  local file="$1" command="$2" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file" 2>/dev/null || true)"
  if [ -n "$pid" ] && alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$command" ]; then
    echo "$pid"
  fi
}

munge_works() { command -v munge >/dev/null 2>&1 && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

node_state() { sinfo -h -N -n "$host" -o %t 2>/dev/null | head -n1 || true; }

show_logs() {
  local f
  for f in "$dir/slurmctld.log" "$dir/slurmd.log" /var/log/munge/munged.log; do
    [ -f "$f" ] && { say "last lines of $f:"; tail -n 15 "$f" >&2; }
  done
  return 0
}

install_packages() {
  local missing=()
  command -v munged >/dev/null 2>&1 || missing+=(munge)
  command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1 ||
    missing+=(slurm-wlm)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || cannot "${missing[*]} not installed and there is no apt-get to install them"
  say "installing ${missing[*]} (apt-get)"
  # Another apt-get (a test run, another session) may hold dpkg's lock: wait for it rather than fail.
  apt-cache show "${missing[@]}" >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null ||
    cannot "apt-get install ${missing[*]} failed"
}

start_munge() {
  if munge_works; then return 0; fi
  local key=/etc/munge/munge.key pid
  mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
  if [ ! -s "$key" ]; then
    say "creating the munge key $key"
    mungekey --create --keyfile="$key" 2>/dev/null || dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge "$key" /run/munge /var/log/munge /var/lib/munge
  chmod 700 /etc/munge; chmod 400 "$key"; chmod 755 /run/munge
  # A munged that died leaves its socket and pid file behind; munged refuses to start over them.
  pid="$(live_pid /run/munge/munged.pid munged)"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 1
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
  # As the munge user, as Debian's service does; setpriv where runuser's PAM stack is missing (minimal containers).
  runuser -u munge -- /usr/sbin/munged 2>/dev/null ||
    setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged || { show_logs; fail "munged did not start"; }
  touch "$dir/munged.ours"
  for _ in $(seq 1 50); do munge_works && return 0; sleep 0.2; done
  show_logs; fail "munged started but munge -n | unmunge does not work"
}

write_conf() {
  local spec hw
  # slurmd -C: "NodeName=HOST CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105".
  spec="$(slurmd -C | head -n1)"
  hw="${spec#NodeName=* }"
  [[ "$spec" == NodeName=* && "$hw" == *CPUs=* && "$hw" == *RealMemory=* ]] ||
    fail "cannot read CPUs and RealMemory from slurmd -C: $spec"
  mkdir -p "$dir/state" "$dir/spool"
  cat >"$conf.new" <<EOF
# Written by tools/slurm/localhost-cluster.sh: a one-node cluster on $host. Rewritten on every cold start.
ClusterName=bpfsim-localhost
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
MaxArraySize=10001
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$conf.new" "$conf"
}

start() {
  [ "$(id -u)" -eq 0 ] || cannot "must run as root (it starts munged, slurmctld and slurmd)"
  install_packages
  mkdir -p "$dir"
  start_munge
  local ctld slurmd state
  ctld="$(live_pid "$dir/slurmctld.pid" slurmctld)"
  slurmd="$(live_pid "$dir/slurmd.pid" slurmd)"
  if [ -n "$ctld" ] && [ -n "$slurmd" ]; then
    say "already running (slurmctld $ctld, slurmd $slurmd): reusing it"
  else
    # Half a cluster, or stale pid files: stop what is left and start cold (-c: forget the old jobs and node state).
    stop_slurm
    write_conf
    rm -rf "${dir:?}/state"/* "${dir:?}/spool"/*
    slurmctld -c -f "$conf" || { show_logs; fail "slurmctld did not start"; }
    slurmd -c -f "$conf" || { show_logs; fail "slurmd did not start"; }
  fi
  for _ in $(seq 1 "$((timeout * 2))"); do
    state="$(node_state)"
    case "$state" in
      idle|mix|alloc|comp) say "node $host is $state (export SLURM_CONF=$conf)"; return 0 ;;
      down*|drain*|fail*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  show_logs
  fail "node $host did not become idle within ${timeout}s (sinfo says '${state:-nothing}')"
}

stop_pid() {
  local pid="$1" name="$2"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do alive "$pid" || return 0; sleep 0.2; done
  say "$name ($pid) did not stop on SIGTERM: killing it"
  kill -9 "$pid" 2>/dev/null || true
}

stop_slurm() {
  stop_pid "$(live_pid "$dir/slurmd.pid" slurmd)" slurmd
  stop_pid "$(live_pid "$dir/slurmctld.pid" slurmctld)" slurmctld
  rm -f "$dir/slurmd.pid" "$dir/slurmctld.pid"
}

stop() {
  [ "$(id -u)" -eq 0 ] || cannot "must run as root"
  stop_slurm
  if [ -f "$dir/munged.ours" ]; then
    stop_pid "$(live_pid /run/munge/munged.pid munged)" munged
    rm -f "$dir/munged.ours"
  fi
  say "stopped"
}

status() {
  local ctld slurmd state
  ctld="$(live_pid "$dir/slurmctld.pid" slurmctld)"
  slurmd="$(live_pid "$dir/slurmd.pid" slurmd)"
  echo "slurmctld: ${ctld:-not running}"
  echo "slurmd: ${slurmd:-not running}"
  if munge_works; then echo "munge: works"; else echo "munge: not working"; fi
  echo "SLURM_CONF=$conf"
  [ -n "$ctld" ] && [ -n "$slurmd" ] || return 1
  sinfo -N -l 2>&1 || true
  state="$(node_state)"
  case "$state" in idle|mix|alloc|comp) return 0 ;; *) return 1 ;; esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 start|status|stop|env" >&2; exit 2 ;;
esac
