#!/bin/sh
# nlvm job: record SELINUX, ISCSI and SCSITRANSPORT traffic (nlmon never sees them) with
# tools/record_local.py --scsi-selinux, and report what opening NFLOG, DNRTMSG, ECRYPTFS and SMC
# sockets answers. SELinux must be on, which Debian's kernel only does when booted with
# security=selinux, so run it through a copy of nlvm with that on the kernel command line:
#
#   sed 's/random.trust_cpu=on/& security=selinux selinux=1/' ../shared/tools/nlvm/nlvm > /tmp/nlvm-selinux
#   bash /tmp/nlvm-selinux run tools/nlvm_scsi_selinux.sh OUT "$PWD"   # writes OUT/scsi_selinux.pcapng
#
# The host needs selinux-policy-default and policycoreutils installed (the VM's root is the
# host's) for the policy load; /etc/selinux/config keeps the VM permissive.
grep -qw selinux /sys/kernel/security/lsm 2>/dev/null || mount -t securityfs securityfs /sys/kernel/security
grep -qw selinux /sys/kernel/security/lsm || { echo "SELinux is not on: boot with security=selinux"; exit 1; }
mount -t selinuxfs selinuxfs /sys/fs/selinux
modprobe iscsi_tcp
modprobe smc
modprobe ecryptfs
cd "$1" || exit 1
/usr/bin/python3 tools/record_local.py --scsi-selinux "$NLVM_OUT/scsi_selinux.pcapng"
