#!/bin/sh
# nlvm job: INET_DIAG_INFO of each protocol that sends one, on a real 6.1 kernel with nlmon: an
# established MPTCP connection (struct mptcp_info), an SCTP association (struct sctp_info) and a TCP
# connection (struct tcp_info), dumped by ss with -i. Usage: nlvm run tools/nlvm_sock_diag_info.sh OUT
# (writes OUT/sock_diag_info.pcap; captures/sock_diag_info.pcap was recorded so).
N=sock_diag_info
for m in inet_diag tcp_diag mptcp_diag sctp sctp_diag; do modprobe $m 2>/dev/null; done
sysctl -qw net.mptcp.enabled=1
cat > /tmp/conns.py <<'P'
import socket, time
keep = []
def pair(proto, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', port)); srv.listen(1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto); c.connect(('127.0.0.1', port))
    a, _ = srv.accept(); c.send(b'x' * 3000); a.recv(100)
    keep.extend([srv, c, a])
for proto, port in ((262, 8101), (132, 8102), (6, 8103)):
    try:
        pair(proto, port)
    except Exception as e:
        print('protocol', proto, e)
open('/tmp/conns.ready', 'w').close()
time.sleep(60)
P
/usr/bin/python3 /tmp/conns.py & SP=$!
while [ ! -f /tmp/conns.ready ]; do sleep 0.2; done
tcpdump -i nlmon0 -U -Z root -B 32768 -w "$NLVM_OUT/$N.pcap" 2>"$NLVM_OUT/$N.tcpdump.log" &
TP=$!; sleep 1; set -x
ss -M -i -n
ss --sctp -i -n -a
ss -t -i -n state established '( sport = :8103 )'
set +x; sleep 1; kill $TP; wait $TP
cat "$NLVM_OUT/$N.tcpdump.log" >&2; rm -f "$NLVM_OUT/$N.tcpdump.log"
kill $SP
