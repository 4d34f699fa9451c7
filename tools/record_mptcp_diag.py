#!/usr/bin/env python3
"""Records a real SOCK_DIAG_BY_FAMILY dump of MPTCP sockets: in a network namespace of its own
(`unshare -n`) it opens an MPTCP connection over loopback (socket(AF_INET, SOCK_STREAM,
IPPROTO_MPTCP)), sends the request `ss -Mi` sends (struct inet_diag_req_v2 with sdiag_protocol
IPPROTO_TCP, which is IPPROTO_MPTCP cut to a byte, and INET_DIAG_REQ_PROTOCOL 262), and writes the
request and every buffer received as frames of a pcapng file (link type NETLINK, direction in
epb_flags), as tools/record_local.py does. Prints each frame in hex too. Run as root:

    unshare -n python3 tools/record_mptcp_diag.py OUT.pcapng
"""
import os, socket, struct, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import record_local as rl

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, IPPROTO_MPTCP = 4, 20, 262


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    server.bind(("127.0.0.1", 5555))
    server.listen()
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    client.connect(("127.0.0.1", 5555))
    peer, _ = server.accept()
    client.send(b"hello" * 100)
    peer.recv(1000)
    # struct inet_diag_req_v2: family, protocol, idiag_ext (INET_DIAG_INFO), pad, states (all
    # but LISTEN, as ss), then a zero inet_diag_sockid; then INET_DIAG_REQ_PROTOCOL (3).
    states = 0xFFF & ~(1 << 10)
    req = struct.pack("=BBBBI48s", socket.AF_INET, 6, 1 << 1, 0, states, b"")
    req += struct.pack("=HHI", 8, 3, IPPROTO_MPTCP)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    s.bind((0, 0))
    msg = rl.nlmsg(SOCK_DIAG_BY_FAMILY, rl.NLM_F_REQUEST | rl.NLM_F_DUMP, 1, req)
    s.send(msg)
    rl.record(NETLINK_SOCK_DIAG, msg, True)
    while True:
        data = s.recv(65536)
        rl.record(NETLINK_SOCK_DIAG, data, False)
        if struct.unpack_from("=H", data, 4)[0] in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
            break
    with open(sys.argv[1], "wb") as f:
        f.write(rl.header() + rl.records(rl.frames))
    for _, sent, d in rl.frames:
        print("sent" if sent else "received", d[16:].hex())


if __name__ == "__main__":
    main()
