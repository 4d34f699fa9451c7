#!/bin/sh
# nlscope's live nlmon capture, end to end, in the nlvm VM (a real 6.1 kernel with nlmon):
# `nlscope -i auto -w` creates its own nlmon device (the VM's nlmon0 is removed first, so that
# auto has to), tcpdump records the same device, `ip` makes traffic, SIGTERM stops nlscope, and
# the device must be gone afterwards. Then a dump of 100,000 routes with both recording, for
# throughput and drops. Run by tests/nlvm_e2e.rs:  nlvm run tests/nlvm/nlmon_capture.sh OUT PROJECT
set -u
P=$1
B="$P/target/release/nlscope"
O=$NLVM_OUT
modprobe veth 2>/dev/null
ip link del nlmon0
echo "== sources"; "$B" -D
"$B" -i auto -w "$O/nlscope.pcapng" 2>"$O/nlscope.log" &
NP=$!
# Once nlscope says it is capturing, its own nlctrl dump is done: tcpdump, started after, has none.
started() { for i in $(seq 50); do grep -q "capturing on" "$1" && break; sleep 0.1; done; }
started "$O/nlscope.log"
ip -d link show nlscope0 | grep -q nlmon || { echo "nlscope0 is no nlmon device"; exit 1; }
tcpdump -i nlscope0 -U -B 32768 -w "$O/tcpdump.pcap" 2>"$O/tcpdump.log" &
TP=$!
sleep 1
ip link add v0 type veth peer name v1
ip link set v0 up
ip addr add 192.0.2.1/24 dev v0
ip route add 198.51.100.0/24 via 192.0.2.2 dev v0
ip route add 203.0.113.0/24 via 192.0.2.3 dev v0 2>/dev/null
ip route add 203.0.113.0/24 via 192.0.2.3 dev v0
ip -s link show v0 >/dev/null
ip route show >/dev/null
ip link del v0
sleep 1
kill $TP; wait $TP
kill -TERM $NP; wait $NP; echo "nlscope exit status $?"
cat "$O/nlscope.log"; cat "$O/tcpdump.log"
if ip link show nlscope0 >/dev/null 2>&1; then echo "FAIL: nlscope0 is still there"; exit 1; fi
echo "nlscope0 removed"

echo "== big dump"
ip link add nlmon0 type nlmon; ip link set nlmon0 up
echo "== as nobody"
setpriv --reuid=65534 --regid=65534 --clear-groups "$B" -i nlmon0 -c 1 2>&1
ip link add v2 type veth peer name v3; ip link set v2 up; ip addr add 192.0.2.1/24 dev v2
i=0; : > "$O/routes"
while [ $i -lt 100000 ]; do echo "route add 10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))/32 via 192.0.2.2 dev v2"; i=$((i + 1)); done > "$O/routes"
ip -batch "$O/routes"
"$B" -i nlmon0 -w "$O/dump_nlscope.pcap" 2>"$O/dump_nlscope.log" &
NP=$!
started "$O/dump_nlscope.log"
tcpdump -i nlmon0 -U -B 32768 -w "$O/dump_tcpdump.pcap" 2>"$O/dump_tcpdump.log" &
TP=$!
sleep 1
start=$(date +%s.%N)
ip route show > /dev/null
end=$(date +%s.%N)
echo "dump of 100,000 routes took $(echo "$end - $start" | bc) s"
sleep 2
kill $TP; wait $TP
kill -TERM $NP; wait $NP
cat "$O/dump_nlscope.log" "$O/dump_tcpdump.log"
rm -f "$O/routes"
