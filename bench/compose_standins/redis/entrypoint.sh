# Like the official image: no config file means listen everywhere without protected mode.
if [ "$1" = "redis-server" ]; then shift; set -- redis-server --protected-mode no "$@"; fi
chown -R redis /data
exec setpriv --reuid=redis --regid=redis --init-groups "$@"
