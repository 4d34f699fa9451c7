#!/bin/sh
# nlvm job: record kernel uevents and systemd-udevd's libudev-framed copies of them with
# tools/record_local.py --udev inside the nlvm VM (udevd must not run on the host).
# Usage: nlvm run tools/nlvm_udev.sh OUT /path/to/nlscope
cd "$1" || exit 1
/usr/bin/python3 tools/record_local.py --udev "$NLVM_OUT/udev.pcapng"
