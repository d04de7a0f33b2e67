#!/bin/sh
# PID 1 of the field-test VM (busybox). Mounts the kernel's file systems,
# loads configfs and gpio-sim, lets mdev give GPIO chips to group gpio as
# udev/60-lanekiosk-gpio.rules does, makes the lane's GPIO chip, then serves
# the host's field-test runner on /dev/ttyS2 until it says "poweroff".
# The runner (scripts/field-test.py) drives everything else.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
# The initramfs has no /dev/console node, so PID 1 started without one.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /tmp /run
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
echo "field: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"

# The udev rule, in mdev's words: /etc/mdev.conf says gpiochip* root:gpio
# 0660. mdev -s for what exists, mdev -d (netlink) for chips that come and go.
mdev -s
mdev -d

insmod /lib/field-modules/configfs.ko
insmod /lib/field-modules/gpio-sim.ko
mount -t configfs configfs /sys/kernel/config

# The lane's chip: lines named as a cabinet's device tree would name them.
chip=/sys/kernel/config/gpio-sim/lane
mkdir $chip $chip/bank0
echo lane-buttons >$chip/bank0/label
echo 8 >$chip/bank0/num_lines
n=0
for name in UNLADEN HELP EXIT_LOOP LAMP_UNLADEN LAMP_HELP; do
    mkdir $chip/bank0/line$n
    echo $name >$chip/bank0/line$n/name
    n=$((n + 1))
done
echo 1 >$chip/live
echo "field: gpio-sim chip $(cat $chip/dev_name) is $(cat $chip/bank0/chip_name), up $(cut -d' ' -f1 /proc/uptime) s"

# The agent: one command per line from the host, its output, then an end
# line with the exit status. The line is raw both ways (binary-safe enough for
# JSON and base64).
stty -F /dev/ttyS2 raw -echo 115200
exec 3<>/dev/ttyS2
echo "@@READY" >&3
while IFS= read -r line <&3; do
    id=${line%% *}
    cmd=${line#* }
    [ "$cmd" = poweroff ] && break
    sh -c "$cmd" </dev/null >&3 2>&1
    echo "@@END $id $?" >&3
done
echo "@@END $id 0" >&3
sync
poweroff -f
