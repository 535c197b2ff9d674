#!/usr/bin/env bash
# A real single-node Slurm (munged, slurmctld, slurmd on 127.0.0.1) in a state folder, for
# testing `gauntlet` against Slurm on a machine without a cluster (CI, a laptop). As root.
#
#   eval "$(scripts/slurm-local.sh start DIR)"   # installs slurm-wlm and munge if missing, starts,
#                                                # waits for the node, checks that a batch job runs;
#                                                # prints `export SLURM_CONF=…`
#   scripts/slurm-local.sh stop DIR              # cancels every job, stops what start started
#
# SLURM_LOCAL_KILL_INVALID_DEPEND=0 leaves out kill_invalid_depend, so that a job whose
# dependency can never be satisfied stays pending, as on clusters without that setting.
#
# DIR must be short (Unix socket paths live under it; at most about 70 characters). Nothing
# outside DIR is written except the Debian packages. Facts this relies on (measured on Debian 12,
# Slurm 22.05): no usable cgroups, so process tracking is linuxproc and tasks are not contained;
# a batch job whose launch failed can still end COMPLETED, so start checks a job's output file;
# killing slurmd does not kill running steps, so stop cancels jobs and kills leftover steps.
set -euo pipefail

log() { echo "slurm-local: $*" >&2; }
die() { log "$*"; exit 1; }

# Whether PID is alive (a zombie is not) and its command line mentions the state folder.
ours() {
    local pid=$1 dir=$2 state
    [[ -r /proc/$pid/stat ]] || return 1
    state=$( { awk '{print $3}' "/proc/$pid/stat"; } 2>/dev/null ) || return 1
    [[ $state != Z ]] || return 1
    { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$dir"
}

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null; }
}

write_config() {
    local dir=$1 node cpus memory
    node=$(slurmd -C | head -n 1)
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<< "$node")
    memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<< "$node")
    # The hardware line of `slurmd -C`, renamed to localhost on 127.0.0.1.
    node=$(sed -e 's/^NodeName=[^ ]*/NodeName=localhost NodeAddr=127.0.0.1/' -e 's/ UpTime=.*//' <<< "$node")
    # Cancel jobs whose dependency can never be satisfied, unless SLURM_LOCAL_KILL_INVALID_DEPEND=0
    # (like many real clusters: such a job then stays pending forever).
    local dependency_parameters="DependencyParameters=kill_invalid_depend"$'\n'
    [[ ${SLURM_LOCAL_KILL_INVALID_DEPEND:-1} == 0 ]] && dependency_parameters=""
    cat > "$dir/etc/slurm.conf" <<EOF
ClusterName=gauntletlocal
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${SLURM_LOCAL_CTLD_PORT:-6817}
SlurmdPort=${SLURM_LOCAL_SLURMD_PORT:-6818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$((memory / cpus))
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
${dependency_parameters}AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=300
$node State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    local dir=$1 waited=0
    [[ ${#dir} -le 70 ]] || die "state folder path too long for Unix sockets (${#dir} > 70): $dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    export SLURM_CONF=$dir/etc/slurm.conf
    if [[ -f $dir/run/slurmctld.pid ]] && ours "$(cat "$dir/run/slurmctld.pid")" "$dir" 2>/dev/null; then
        echo "export SLURM_CONF=$SLURM_CONF"
        return 0
    fi
    install_packages
    stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir/ctld" "$dir/spool"
    mkdir -p "$dir"/{etc,munge,ctld,spool,run,log}
    chmod 0755 "$dir" "$dir/munge"   # munged needs every folder on its socket's path searchable
    write_config "$dir"
    [[ -f $dir/munge/key ]] || mungekey --create --keyfile="$dir/munge/key"
    chmod 0400 "$dir/munge/key"
    munged --force --socket="$dir/munge/socket" --key-file="$dir/munge/key" --log-file="$dir/munge/log" \
        --pid-file="$dir/run/munged.pid" --seed-file="$dir/munge/seed"
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF" -N localhost
    until sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; do
        sleep 0.2
        waited=$((waited + 1))
        [[ $waited -lt 300 ]] || { stop "$dir" >/dev/null 2>&1; die "the node did not become idle in 60 s; logs in $dir/log"; }
    done
    # A launch that fails can still end COMPLETED: only a written file proves a job ran.
    rm -f "$dir/run/smoke"
    sbatch -Q -o /dev/null --wrap "echo ran > '$dir/run/smoke'" >/dev/null
    waited=0
    until [[ -s $dir/run/smoke ]]; do
        sleep 0.2
        waited=$((waited + 1))
        [[ $waited -lt 300 ]] || { stop "$dir" >/dev/null 2>&1; die "a test batch job did not run in 60 s; logs in $dir/log"; }
    done
    log "Slurm is up in $dir"
    echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
    local dir=$1 name pid fd waited=0
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd)
    export SLURM_CONF=$dir/etc/slurm.conf
    if [[ -f $dir/run/slurmctld.pid ]] && ours "$(cat "$dir/run/slurmctld.pid")" "$dir"; then
        scancel --full --quiet --user=root 2>/dev/null || true
        while squeue -h 2>/dev/null | grep -q . && [[ $waited -lt 50 ]]; do sleep 0.2; waited=$((waited + 1)); done
    fi
    # Steps outlive slurmd without cgroups: kill those whose log descriptor points into DIR.
    for fd in /proc/[0-9]*/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == "$dir"/* ]] || continue
        pid=${fd#/proc/}; pid=${pid%%/*}
        [[ $pid != "$$" ]] || continue
        if { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q slurmstepd; then
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for name in slurmd slurmctld munged; do
        [[ -f $dir/run/$name.pid ]] || continue
        pid=$(cat "$dir/run/$name.pid")
        if ours "$pid" "$dir"; then
            kill "$pid" 2>/dev/null || true
            waited=0
            while ours "$pid" "$dir" && [[ $waited -lt 25 ]]; do sleep 0.2; waited=$((waited + 1)); done
            ! ours "$pid" "$dir" || kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/run/$name.pid"
    done
    log "stopped the Slurm of $dir"
}

case ${1:-} in
    start) start "${2:?usage: slurm-local.sh start DIR}" ;;
    stop) stop "${2:?usage: slurm-local.sh stop DIR}" ;;
    *) die "usage: slurm-local.sh start DIR | stop DIR" ;;
esac
