# Starts coturn with the secret the app signs its time-limited TURN credentials with
# (TURN_SECRET) and the public address browsers reach it at (TURN_HOST, an IP or a DNS name),
# mapped onto this container's own address.
set -eu
: "${TURN_SECRET:?set TURN_SECRET}"
: "${TURN_HOST:?set TURN_HOST}"
public=$(getent ahostsv4 "$TURN_HOST" | awk 'NR == 1 { print $1 }')
private=$(hostname -i | awk '{ print $1 }')
if [ -z "$public" ]; then
  echo "TURN_HOST $TURN_HOST does not resolve to an IPv4 address" >&2
  exit 2
fi
exec turnserver -c /etc/champion-clone/turnserver.conf \
  --static-auth-secret "$TURN_SECRET" --external-ip "$public/$private" "$@"
