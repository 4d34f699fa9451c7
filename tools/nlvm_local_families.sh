#!/bin/sh
# nlvm job: record the families nlmon never sees (CRYPTO, RDMA, AUDIT records, CONNECTOR, uevents) with
# tools/record_local.py inside the nlvm VM, where loading crypto_user and acting as the audit
# daemon harms nothing. Usage: nlvm run tools/nlvm_local_families.sh OUT /path/to/nlscope
modprobe crypto_user
# An RDMA device to describe: soft RoCE over one end of a veth pair.
modprobe rdma_rxe
ip link add nlsr0 type veth peer name nlsr1 && ip link set nlsr0 up && ip link set nlsr1 up
rdma link add rxe0 type rxe netdev nlsr0
cd "$1" || exit 1
/usr/bin/python3 tools/record_local.py --vm "$NLVM_OUT/local_families_vm.pcapng"
