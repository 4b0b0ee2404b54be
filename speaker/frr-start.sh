#!/bin/sh
# The FRR container of BGP mode (deploy/bgp): zebra, bgpd and bfdd in the
# foreground, their vty sockets in the folder shared with the speaker, no
# configuration of their own (the speaker applies it with frr-reload.py, and
# applies it again when FRR comes back empty). When one daemon exits the
# others are stopped and the container exits, so the kubelet restarts it
# whole rather than leaving a half FRR.
set -eu
dir=${FRR_VTY_SOCKET:-/var/run/frr}
# frr owns the folder; group frrvty (the speaker's supplemental group) may
# write the configuration file there and reach the sockets.
chown frr:frrvty "$dir"
chmod 2775 "$dir"
common="--vty_socket $dir -z $dir/zserv.api -P 0 --log stdout"
/usr/lib/frr/zebra $common -i "$dir/zebra.pid" &
zebra=$!
# bgpd and bfdd connect to zebra's socket: wait for it.
i=0
while [ ! -S "$dir/zserv.api" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
/usr/lib/frr/bgpd $common -i "$dir/bgpd.pid" &
bgpd=$!
/usr/lib/frr/bfdd $common -i "$dir/bfdd.pid" --bfdctl "$dir/bfdd.sock" &
bfdd=$!
trap 'kill $zebra $bgpd $bfdd 2>/dev/null; exit 0' TERM INT
# POSIX sh has no `wait -n`: poll until one daemon is gone.
while kill -0 $zebra 2>/dev/null && kill -0 $bgpd 2>/dev/null && kill -0 $bfdd 2>/dev/null; do sleep 1; done
echo "an FRR daemon exited; stopping the others" >&2
kill $zebra $bgpd $bfdd 2>/dev/null || true
exit 1
