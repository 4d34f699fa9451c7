#!/bin/sh
# nlvm job: record the families nlmon never sees (CRYPTO, AUDIT records, CONNECTOR, uevents) with
# tools/record_local.py inside the nlvm VM, where loading crypto_user and acting as the audit
# daemon harms nothing. Usage: nlvm run tools/nlvm_local_families.sh OUT /path/to/nlscope
modprobe crypto_user
cd "$1" || exit 1
/usr/bin/python3 tools/record_local.py --vm "$NLVM_OUT/local_families_vm.pcapng"
