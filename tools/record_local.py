#!/usr/bin/env python3
"""Records real netlink traffic of the families nlmon never sees (CRYPTO, RDMA, AUDIT,
KOBJECT_UEVENT, CONNECTOR) by talking to this machine's kernel over netlink sockets, and writes every message sent
and every buffer received as one frame of a pcapng file with link type NETLINK (the cooked header
carries the protocol; epb_flags say the direction: outbound = sent to the kernel, inbound =
received). Run as root; the uevent part runs itself in a
network namespace of its own (`unshare -n`), where it creates and deletes a veth pair:

    python3 tools/record_local.py OUT.pcapng

With `--vm` (only in a throwaway machine such as ../shared/tools/nlvm's VM: it changes the audit
configuration for a moment) it also becomes the audit daemon to record the kernel's text records:

    nlvm run tools/nlvm_local_families.sh OUT $PWD     # writes OUT/local_families_vm.pcapng (captures/nlvm_uncaptured_families.pcapng was recorded so)

With `--scsi-selinux` (only in the VM booted with SELinux on: tools/nlvm_scsi_selinux.sh) it records
SELINUX, ISCSI and SCSITRANSPORT instead, and reports what opening NFLOG, DNRTMSG, ECRYPTFS and SMC
sockets answers.

With `--udev` (only in the VM: it starts systemd-udevd) it records kernel uevents and udevd's
libudev-framed rebroadcasts of them (tools/nlvm_udev.sh).
"""
import os, socket, struct, subprocess, sys, time

NETLINK_AUDIT, NETLINK_CONNECTOR, NETLINK_KOBJECT_UEVENT, NETLINK_RDMA, NETLINK_CRYPTO = 9, 11, 15, 20, 21
NETLINK_SELINUX, NETLINK_ISCSI, NETLINK_SCSITRANSPORT = 7, 8, 18
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
frames = []


def record(protocol, data, sent):
    hdr = struct.pack(">HHH8sH", 4 if sent else 0, 824, 0, b"", protocol)
    frames.append((time.time_ns(), sent, hdr + data))


def nlmsg(ty, flags, seq, payload, pid=0):
    return struct.pack("=IHHII", 16 + len(payload), ty, flags, seq, pid) + payload


def talk(protocol, msg, max_buffers=3, groups=0):
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
    except OSError as e:  # e.g. NETLINK_CRYPTO without crypto_user, or outside the initial netns
        print(f"protocol {protocol}: {e}; skipped", file=sys.stderr)
        return
    s.bind((0, groups))
    s.settimeout(1.0)
    s.send(msg)
    record(protocol, msg, True)
    for _ in range(max_buffers):
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        record(protocol, data, False)
        # Read until the socket goes quiet: audit sends its replies from a kernel thread, after the
        # ACK.
    s.close()


def crypto():
    # CRYPTO_MSG_GETALG (0x13) for one algorithm by name: struct crypto_user_alg.
    alg = struct.pack("=64s64s64sIIII", b"sha256", b"", b"", 0, 0, 0, 0)
    talk(NETLINK_CRYPTO, nlmsg(0x13, NLM_F_REQUEST, 1, alg))
    alg = struct.pack("=64s64s64sIIII", b"cbc(aes)", b"", b"", 0, 0, 0, 0)
    talk(NETLINK_CRYPTO, nlmsg(0x13, NLM_F_REQUEST, 2, alg))


def rdma():
    # RDMA_NL_NLDEV (5) << 10 | command: GET (1), PORT_GET (5), SYS_GET (6), RES_GET (9), dumps.
    for seq, cmd in enumerate((1, 5, 6, 9), 1):
        flags = NLM_F_REQUEST | (0 if cmd == 6 else NLM_F_DUMP)
        talk(NETLINK_RDMA, nlmsg((5 << 10) | cmd, flags, seq, b""))


def audit():
    talk(NETLINK_AUDIT, nlmsg(1000, NLM_F_REQUEST | NLM_F_ACK, 1, b""))  # AUDIT_GET
    talk(NETLINK_AUDIT, nlmsg(1019, NLM_F_REQUEST | NLM_F_ACK, 2, b""))  # AUDIT_GET_FEATURE
    talk(NETLINK_AUDIT, nlmsg(1013, NLM_F_REQUEST | NLM_F_ACK, 3, b""))  # AUDIT_LIST_RULES


def audit_daemon():
    """Only in a throwaway VM: become the audit daemon, log a user message, stop again. The kernel
    then sends its text records (AUDIT_USER, AUDIT_CONFIG_CHANGE...) to our socket."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
    s.bind((0, 0))
    s.settimeout(0.5)
    pid = s.getsockname()[0]

    def send(ty, flags, seq, payload):
        m = nlmsg(ty, flags, seq, payload)
        s.send(m)
        record(NETLINK_AUDIT, m, True)

    # AUDIT_SET (1001): struct audit_status with mask ENABLED|PID, enabled 1, pid = us.
    status = struct.pack("=IIIIIIIIIII", 1 | 4, 1, 1, pid, 0, 0, 0, 0, 0, 0, 0)
    send(1001, NLM_F_REQUEST | NLM_F_ACK, 10, status)
    drain(NETLINK_AUDIT, s)
    send(1005, NLM_F_REQUEST | NLM_F_ACK, 11, b"op=nlscope-test msg='hello from nlscope' res=success\0")
    drain(NETLINK_AUDIT, s)
    status = struct.pack("=IIIIIIIIIII", 1 | 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    send(1001, NLM_F_REQUEST | NLM_F_ACK, 12, status)
    drain(NETLINK_AUDIT, s)
    s.close()


def uevent():
    # In a network namespace of our own: a veth pair's add/remove uevents.
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
    s.bind((0, 1))
    s.settimeout(1.0)
    subprocess.run(["ip", "link", "add", "nlsv0", "type", "veth", "peer", "name", "nlsv1"], check=True)
    subprocess.run(["ip", "link", "del", "nlsv0"], check=True)
    for _ in range(6):
        try:
            record(NETLINK_KOBJECT_UEVENT, s.recv(65536), False)
        except socket.timeout:
            break
    s.close()


def connector():
    # The proc connector: subscribe (PROC_CN_MCAST_LISTEN), run a child, unsubscribe.
    CN_IDX_PROC, CN_VAL_PROC = 1, 1
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    s.bind((os.getpid(), CN_IDX_PROC))
    s.settimeout(0.5)

    def op(seq, what):
        cn = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, seq, 0, 4, 0) + struct.pack("=I", what)
        m = nlmsg(3, 0, seq, cn, os.getpid())  # NLMSG_DONE carries connector messages
        s.send(m)
        record(NETLINK_CONNECTOR, m, True)

    op(1, 1)
    subprocess.run(["/bin/true"])
    for _ in range(8):
        try:
            record(NETLINK_CONNECTOR, s.recv(65536), False)
        except socket.timeout:
            break
    op(2, 2)
    s.close()


def drain(protocol, s):
    """Records every buffer the socket receives until it goes quiet, and returns them."""
    got = []
    while True:
        try:
            got.append(s.recv(65536))
        except socket.timeout:
            return got
        record(protocol, got[-1], False)


def selinux():
    """SELinux notifications (needs a kernel booted with SELinux on, selinuxfs mounted): the
    enforcing mode switched on and off while no policy is loaded, then a policy load."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SELINUX)
    s.bind((0, 1))  # SELNLGRP_AVC
    s.settimeout(0.5)
    for mode in (b"1", b"0"):
        with open("/sys/fs/selinux/enforce", "wb") as f:
            f.write(mode)
        drain(NETLINK_SELINUX, s)
    subprocess.run(["load_policy"], check=True)
    drain(NETLINK_SELINUX, s)
    s.close()


def iscsi():
    """The iSCSI transport class with iscsi_tcp loaded, asked as iscsid asks (nlmsg_flags 0, the
    process id as port): a session and a connection made, a parameter set, statistics read, an
    endpoint connect iscsi_tcp does not offer (an error reply), and everything torn down again.
    Bound to ISCSI_NL_GRP_ISCSID, the socket also gets the kernel's session events and the
    statistics, which the kernel multicasts."""
    with open("/sys/class/iscsi_transport/tcp/handle") as f:
        handle = int(f.read())
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ISCSI)
    s.bind((os.getpid(), 1))
    s.settimeout(0.5)

    def ask(ty, u, tail=b""):
        # struct iscsi_uevent: type, iferror, transport_handle, the 24-byte union u, the 16-byte r.
        ev = struct.pack("=IIQ24s16s", ty, 0, handle, u, b"") + tail
        m = nlmsg(ty, 0, 0, ev, os.getpid())
        s.send(m)
        record(NETLINK_ISCSI, m, True)
        return drain(NETLINK_ISCSI, s)

    # ISCSI_UEVENT_CREATE_SESSION: initial_cmdsn, cmds_max, queue_depth; the reply's r holds
    # c_session_ret (sid, host_no).
    replies = ask(11, struct.pack("=IHH", 1, 128, 32))
    reply = next(r for r in replies if struct.unpack_from("=H", r, 4)[0] == 11)
    sid = struct.unpack_from("=I", reply, 16 + 40)[0]
    ask(13, struct.pack("=II", sid, 0))  # CREATE_CONN: sid, cid
    value = b"262144\0"
    ask(16, struct.pack("=IIII", sid, 0, 0, len(value)), value)  # SET_PARAM MAX_RECV_DLENGTH
    ask(20, struct.pack("=II", sid, 0))  # GET_STATS
    # TRANSPORT_EP_CONNECT with a struct sockaddr_in (127.0.0.1:3260): iscsi_tcp has no
    # ep_connect, so the answer is ISCSI_KEVENT_IF_ERROR with iferror -EINVAL.
    ask(22, struct.pack("=I", 0), struct.pack("=HH4s8x", socket.AF_INET, socket.htons(3260), bytes([127, 0, 0, 1])))
    ask(14, struct.pack("=II", sid, 0))  # DESTROY_CONN
    ask(12, struct.pack("=I", sid))  # DESTROY_SESSION
    s.close()


def scsi_transport():
    """NETLINK_SCSITRANSPORT takes SCSI_TRANSPORT_MSG (17) messages that start with a struct
    scsi_nl_hdr and answers each failing one with an error: a vendor message no driver takes
    (-ESRCH), an unknown message type (-EBADR), the FC transport (-ENOENT), a wrong magic
    (-EPROTOTYPE)."""
    def vendor(transport, msgtype, magic=0xA1B2):
        # struct scsi_nl_hdr then struct scsi_nl_host_vendor_msg's vendor_id, host_no, datalen.
        return struct.pack("=BBHHHQHH4x", 1, transport, magic, msgtype, 24, 0x8086 | 1 << 56, 0, 0)

    for seq, body in enumerate((vendor(0, 1), vendor(0, 7), vendor(1, 1), vendor(0, 1, magic=0x1234)), 1):
        talk(NETLINK_SCSITRANSPORT, nlmsg(17, NLM_F_REQUEST | NLM_F_ACK, seq, body))


def udev():
    """Only in a throwaway VM: systemd-udevd started, a veth pair added and removed. Bound to both
    uevent groups, the socket gets each kernel uevent (group 1) and udevd's rebroadcast of it in
    libudev's framing (group 2)."""
    subprocess.run(["/lib/systemd/systemd-udevd", "--daemon"], check=True)
    subprocess.run(["udevadm", "settle"], check=True)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
    s.bind((0, 1 | 2))
    s.settimeout(2.0)
    subprocess.run(["ip", "link", "add", "nlud0", "type", "veth", "peer", "name", "nlud1"], check=True)
    subprocess.run(["udevadm", "settle"], check=True)
    subprocess.run(["ip", "link", "del", "nlud0"], check=True)
    subprocess.run(["udevadm", "settle"], check=True)
    drain(NETLINK_KOBJECT_UEVENT, s)
    s.close()
    subprocess.run(["udevadm", "control", "--exit"])


def unregistered_protocols():
    """Protocols the kernel has no socket for say so when opened: prints each one's answer."""
    for name, protocol in (("NFLOG", 5), ("DNRTMSG", 14), ("ECRYPTFS", 19), ("SMC", 22)):
        try:
            socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol).close()
            print(f"NETLINK_{name} ({protocol}): a socket opens")
        except OSError as e:
            print(f"NETLINK_{name} ({protocol}): {e}")


def block(ty, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("=II", ty, len(body) + 12) + body + struct.pack("=I", len(body) + 12)


def records(fs):
    """Enhanced packet blocks (interface 0, nanosecond timestamps) with their epb_flags."""
    out = b""
    for ns, sent, d in fs:
        flags = struct.pack("=HHI", 2, 4, 2 if sent else 1) + struct.pack("=HH", 0, 0)
        body = struct.pack("=IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(d), len(d)) + d
        body += b"\0" * (-len(body) % 4)
        out += block(6, body + flags)
    return out


def header():
    shb = block(0x0A0D0D0A, struct.pack("=IHHq", 0x1A2B3C4D, 1, 0, -1))
    # if_tsresol = 9 (nanoseconds), then opt_endofopt.
    idb = block(1, struct.pack("=HHI", 253, 0, 262144) + struct.pack("=HHB3x", 9, 1, 9) + struct.pack("=HH", 0, 0))
    return shb + idb


def main():
    if sys.argv[1] == "--uevent-part":
        uevent()
        with open(sys.argv[2], "wb") as f:
            f.write(records(frames))
        return
    out = sys.argv[-1]
    if sys.argv[1] == "--scsi-selinux":
        for part in (selinux, iscsi, scsi_transport):
            part()
        unregistered_protocols()
        with open(out, "wb") as f:
            f.write(header() + records(frames))
        print(f"{len(frames)} frames written to {out}")
        return
    if sys.argv[1] == "--udev":
        udev()
        with open(out, "wb") as f:
            f.write(header() + records(frames))
        print(f"{len(frames)} frames written to {out}")
        return
    vm = sys.argv[1] == "--vm"
    crypto()
    rdma()
    audit()
    if vm:
        audit_daemon()
    connector()
    part = out + ".uevent"
    subprocess.run(["unshare", "-n", sys.executable, __file__, "--uevent-part", part], check=True)
    with open(part, "rb") as f:
        uevents = f.read()
    os.unlink(part)
    with open(out, "wb") as f:
        f.write(header() + records(frames) + uevents)
    print(f"{len(frames)} frames and the uevents written to {out}")


if __name__ == "__main__":
    main()
