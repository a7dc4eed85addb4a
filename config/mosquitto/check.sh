#!/usr/bin/env bash
# Check config/mosquitto/ with a real broker: the configuration loads, and the ACL lets
# devices, sentrad and sentra-sim do exactly what README.md says.
#
#   config/mosquitto/check.sh
#
# Needs mosquitto and mosquitto-clients (apt-get install mosquitto mosquitto-clients). It
# starts its own mosquitto from a copy of mosquitto.conf with every path moved into a
# temporary directory and both listeners moved to free ports on 127.0.0.1 (nothing listens
# beyond loopback), creates users with mosquitto_passwd, publishes and subscribes with
# mosquitto_pub/mosquitto_sub, and stops the broker again. It does not touch /etc/mosquitto
# or a running system broker. Prints one line per check and "N passed, N failed".
set -uo pipefail

here=$(cd -- "$(dirname -- "$0")" && pwd)
for tool in mosquitto mosquitto_passwd mosquitto_pub mosquitto_sub python3; do
    command -v "$tool" >/dev/null || { echo "check.sh: $tool not found (apt-get install mosquitto mosquitto-clients)" >&2; exit 2; }
done
[[ -x /usr/sbin/mosquitto ]] || PATH=$PATH:/usr/sbin

tmp=$(mktemp -d)
broker_pid=
cleanup() {
    if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
        kill "$broker_pid"; wait "$broker_pid" 2>/dev/null
    fi
    rm -rf -- "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
local_port=$(free_port)   # stands for 1883 (sentrad, sentra-sim)
device_port=$(free_port)  # stands for 1884 (devices)
while [[ $device_port == "$local_port" ]]; do device_port=$(free_port); done

# --- The configuration, moved into $tmp -----------------------------------------------------
mkdir -p "$tmp/data"
sed -e "s#^pid_file .*#pid_file $tmp/data/mosquitto.pid#" \
    -e "s#^log_dest file .*#log_dest file $tmp/mosquitto.log#" \
    -e "s#^persistence_location .*#persistence_location $tmp/data/#" \
    -e "s#^password_file .*#password_file $tmp/passwd#" \
    -e "s#^acl_file .*#acl_file $tmp/acl#" \
    -e "s#^listener 1883 127.0.0.1\$#listener $local_port 127.0.0.1#" \
    -e "s#^listener 1884\$#listener $device_port 127.0.0.1#" \
    "$here/mosquitto.conf" >"$tmp/mosquitto.conf"
cp "$here/acl" "$tmp/acl"
# Every listener must now be on 127.0.0.1.
if grep -E '^listener' "$tmp/mosquitto.conf" | grep -vq ' 127\.0\.0\.1$'; then
    echo "check.sh: a listener of mosquitto.conf was not moved to loopback:" >&2
    grep -E '^listener' "$tmp/mosquitto.conf" >&2
    exit 2
fi

pw_sentrad=s3-$RANDOM$RANDOM pw_sim=s4-$RANDOM$RANDOM pw_m1=d1-$RANDOM$RANDOM pw_m2=d2-$RANDOM$RANDOM
mosquitto_passwd -c -b "$tmp/passwd" sentrad "$pw_sentrad"
mosquitto_passwd -b "$tmp/passwd" sentra-sim "$pw_sim"
mosquitto_passwd -b "$tmp/passwd" meter-bandar-01 "$pw_m1"
mosquitto_passwd -b "$tmp/passwd" loom-bandar-01-07 "$pw_m2"
# Off-the-shelf devices: the username is the device-side name (Tasmota Topic, Shelly prefix or
# id, ESPHome node name).
pw_t1=t1-$RANDOM$RANDOM pw_t2=t2-$RANDOM$RANDOM pw_g2=g2-$RANDOM$RANDOM pw_g1=g1-$RANDOM$RANDOM pw_e1=e1-$RANDOM$RANDOM
mosquitto_passwd -b "$tmp/passwd" tasmota-pm4 "$pw_t1"
mosquitto_passwd -b "$tmp/passwd" tasmota-wm4 "$pw_t2"
mosquitto_passwd -b "$tmp/passwd" shellyplus1pm-ws4 "$pw_g2"
mosquitto_passwd -b "$tmp/passwd" shelly1pm-4C7525 "$pw_g1"
mosquitto_passwd -b "$tmp/passwd" loom-41 "$pw_e1"

# As root, mosquitto drops to user mosquitto before it reads the password and ACL files and
# writes its database: give them the ownership README.md recommends.
if [[ $(id -u) -eq 0 ]] && id mosquitto >/dev/null 2>&1; then
    chmod 0755 "$tmp"
    chown mosquitto "$tmp/data"
    touch "$tmp/mosquitto.log" && chown mosquitto "$tmp/mosquitto.log"
    chown root:mosquitto "$tmp/passwd" "$tmp/acl" && chmod 0640 "$tmp/passwd" "$tmp/acl"
fi

start_broker() {
    local before
    before=$(grep -c " running" "$tmp/mosquitto.log" 2>/dev/null)
    mosquitto -c "$tmp/mosquitto.conf" >>"$tmp/stdout" 2>&1 &
    broker_pid=$!
    for _ in $(seq 50); do
        [[ $(grep -c " running" "$tmp/mosquitto.log" 2>/dev/null) -gt ${before:-0} ]] && return 0
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "check.sh: mosquitto did not start:" >&2
    cat "$tmp/stdout" "$tmp/mosquitto.log" >&2 2>/dev/null
    return 1
}
stop_broker() { kill "$broker_pid"; wait "$broker_pid" 2>/dev/null; broker_pid=; }

passed=0 failed=0
ok()   { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

L=(-h 127.0.0.1 -p "$local_port")
D=(-h 127.0.0.1 -p "$device_port")
sentrad_session() { mosquitto_sub "${L[@]}" -u sentrad -P "$pw_sentrad" -i sentrad -c -q 1 "$@"; }
# What sentrad subscribes to: its own prefix and the filters of every built-in profile.
SUBS=(-t 'sentra/#' -t 'tele/+/SENSOR' -t 'tele/+/LWT' -t '+/events/rpc' -t '+/online' -t '+/status/+'
      -t 'shellies/#' -t '+/sensor/+/state' -t '+/binary_sensor/+/state' -t '+/status' -t 'homeassistant/#')
# drain: everything queued for (or arriving at) sentrad's persistent session, one "topic payload" a line.
drain() { sentrad_session "${SUBS[@]}" -v -W "${1:-2}" 2>/dev/null; true; }
pub() { mosquitto_pub -q 1 "$@" 2>&1; }

start_broker || exit 1
if grep -q "mosquitto version 2" "$tmp/mosquitto.log"; then
    ok "broker runs with this configuration: $(grep -o 'mosquitto version [0-9.]* running' "$tmp/mosquitto.log")"
else
    fail "broker start message missing"
fi

# sentrad's persistent session, subscribed at QoS 1, then disconnected: from here on the broker
# queues for it whatever it may read.
if sentrad_session "${SUBS[@]}" -E >/dev/null 2>&1; then ok "sentrad subscribes to sentra/# and the profiles' filters (persistent session)"; else fail "sentrad cannot subscribe"; fi

M1=sentra/ws-bandar-01/power/meter-bandar-01
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -i anything -t "$M1" -m '{"v":221.5}' >/dev/null
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "$M1/status" -m online >/dev/null
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "sentra/ws-kauman-02/power/meter-bandar-01" -m '{"v":1}' >/dev/null
# Forbidden: another device's topic, a deeper topic, outside sentra/.
out_other=$(pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t sentra/ws-bandar-01/loom/loom-bandar-01-07 -m '{"picks":999999}')
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "$M1/extra" -m '{"v":2}' >/dev/null
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t other/topic -m x >/dev/null
out_v5=$(pub "${D[@]}" -V 5 -u meter-bandar-01 -P "$pw_m1" -t sentra/ws-bandar-01/loom/loom-bandar-01-07 -m '{"picks":5}')
# The second device, its own topic.
pub "${D[@]}" -u loom-bandar-01-07 -P "$pw_m2" -t sentra/ws-bandar-01/loom/loom-bandar-01-07 -m '{"picks":10}' >/dev/null
# The simulator may write any device's topic; sentrad may write none.
pub "${L[@]}" -u sentra-sim -P "$pw_sim" -t sentra/ws-sim/water/water-sim-01 -m '{"l":1}' >/dev/null
pub "${L[@]}" -u sentrad -P "$pw_sentrad" -t sentra/ws-bandar-01/power/fake -m '{"v":0}' >/dev/null

got=$(drain)
expect_in()  { if grep -qxF -- "$1" <<<"$got"; then ok "$2"; else fail "$2 (not received: $1)"; fi; }
expect_out() { if grep -qF -- "$1" <<<"$got"; then fail "$2 (received: $1)"; else ok "$2"; fi; }
expect_in  "$M1 {\"v\":221.5}" "device publishes to sentra/+/+/<its id>; sentrad receives it"
expect_in  "$M1/status online" "device publishes its status (Last Will topic)"
expect_in  "sentra/ws-kauman-02/power/meter-bandar-01 {\"v\":1}" "device may use another workshop level (pattern + + : the daemon's registry rejects it)"
expect_out '{"picks":999999}' "device cannot publish to another device's topic (dropped)"
if [[ -z $out_other ]]; then ok "...and the MQTT 3.1.1 publisher is not told (mosquitto_pub exits quietly)"; else fail "unexpected publisher output: $out_other"; fi
expect_out '{"picks":5}' "...nor over MQTT 5"
if [[ $out_v5 == *"Not authorized"* ]]; then ok "...where the MQTT 5 publisher is told: $out_v5"; else ok "...(MQTT 5 publisher output: ${out_v5:-none})"; fi
expect_out "$M1/extra" "device cannot publish below its topic"
expect_out "other/topic" "device cannot publish outside sentra/"
expect_in  'sentra/ws-bandar-01/loom/loom-bandar-01-07 {"picks":10}' "second device publishes to its own topic"
expect_in  'sentra/ws-sim/water/water-sim-01 {"l":1}' "sentra-sim publishes to any sentra/ topic"
expect_out 'sentra/ws-bandar-01/power/fake' "sentrad cannot publish"

# A device reads nothing, even when its subscription is accepted.
dev_sub=$(mosquitto_sub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t 'sentra/#' -v -W 2 2>/dev/null &
          sleep 1; pub "${L[@]}" -u sentra-sim -P "$pw_sim" -t sentra/ws-sim/water/water-sim-02 -m '{"l":2}' >/dev/null; wait)
if [[ -z $dev_sub ]]; then ok "device receives nothing from sentra/#"; else fail "device received: $dev_sub"; fi
drain 1 >/dev/null

# --- Off-the-shelf devices: each publishes under its own device-side name only. ---------------
# sentrad reads tele/+/SENSOR: a live subscriber with only that filter gets the Tasmota reading.
live=$(mosquitto_sub "${L[@]}" -u sentrad -P "$pw_sentrad" -i sentrad-live -t 'tele/+/SENSOR' -v -C 1 -W 3 2>/dev/null &
       sleep 1; pub "${D[@]}" -q 0 -u tasmota-pm4 -P "$pw_t1" -t tele/tasmota-pm4/SENSOR \
           -m '{"Time":"2026-12-04T08:00:00","ENERGY":{"Total":12.5,"Power":40,"Voltage":221,"Current":0.2}}' >/dev/null; wait)
if [[ $live == 'tele/tasmota-pm4/SENSOR {"Time":"2026-12-04T08:00:00",'* ]]; then ok "sentrad reads tele/+/SENSOR (a Tasmota reading, QoS 0, delivered live)"; else fail "sentrad did not read tele/+/SENSOR: ${live:-nothing}"; fi
T=(-u tasmota-pm4 -P "$pw_t1")
pub "${D[@]}" "${T[@]}" -t tele/tasmota-pm4/LWT -m Online >/dev/null
pub "${D[@]}" "${T[@]}" -t tele/tasmota-wm4/SENSOR -m '{"COUNTER":{"C1":666001}}' >/dev/null
pub "${D[@]}" "${T[@]}" -t sentra/ws-tenun-04/power/pm-4 -m '{"kwh":666002}' >/dev/null
G=(-u shellyplus1pm-ws4 -P "$pw_g2")
pub "${D[@]}" "${G[@]}" -t shellyplus1pm-ws4/events/rpc \
    -m '{"src":"shellyplus1pm-ws4","dst":"shellyplus1pm-ws4/events","method":"NotifyStatus","params":{"ts":1764835200.12,"switch:0":{"id":0,"aenergy":{"total":5021.3}}}}' >/dev/null
pub "${D[@]}" "${G[@]}" -t shellyplus1pm-ws4/online -m true >/dev/null
pub "${D[@]}" "${G[@]}" -t tasmota-pm4/events/rpc -m '{"method":"NotifyStatus","params":{"x":666003}}' >/dev/null
E=(-u loom-41 -P "$pw_e1")
pub "${D[@]}" "${E[@]}" -t loom-41/sensor/picks/state -m 18230 >/dev/null
pub "${D[@]}" "${E[@]}" -t loom-41/binary_sensor/running/state -m ON >/dev/null
pub "${D[@]}" "${E[@]}" -t loom-41/status -m online >/dev/null
pub "${D[@]}" "${E[@]}" -t homeassistant/sensor/loom-41/picks/config -m '{"name":"picks","stat_t":"loom-41/sensor/picks/state"}' >/dev/null
pub "${D[@]}" "${E[@]}" -t loom-42/sensor/picks/state -m 666004 >/dev/null
pub "${D[@]}" "${E[@]}" -t homeassistant/sensor/loom-42/picks/config -m '{"x":666005}' >/dev/null
S=(-u shelly1pm-4C7525 -P "$pw_g1")
pub "${D[@]}" "${S[@]}" -t shellies/shelly1pm-4C7525/relay/0/energy -m 301000 >/dev/null
pub "${D[@]}" "${S[@]}" -t shellies/shelly1pm-OTHER1/relay/0/energy -m 666006 >/dev/null
pub "${D[@]}" "${S[@]}" -t shellies/announce -m '{"id":"shelly1pm-4C7525","x":666007}' >/dev/null
pub "${L[@]}" -u sentra-sim -P "$pw_sim" -t tele/tasmota-sim1/SENSOR -m '{"COUNTER":{"C1":450}}' >/dev/null
pub "${L[@]}" -u sentra-sim -P "$pw_sim" -t shellyplus1pm-sim1/events/rpc -m '{"method":"NotifyStatus","params":{"ts":1}}' >/dev/null
pub "${L[@]}" -u sentra-sim -P "$pw_sim" -t loom-sim1/sensor/picks/state -m 7 >/dev/null
pub "${L[@]}" -u sentra-sim -P "$pw_sim" -t shellies/shelly1pm-SIM001/relay/0/power -m 12.5 >/dev/null
got=$(drain)
expect_in  'tele/tasmota-pm4/LWT Online' "Tasmota device publishes tele/<its topic>/LWT"
expect_out '666001' "Tasmota device cannot publish tele/<another topic>/SENSOR (dropped)"
expect_out '666002' "Tasmota device cannot publish under sentra/ (its username is not a device id)"
stat=$(mosquitto_sub "${L[@]}" -u sentrad -P "$pw_sentrad" -i sentrad-live -t 'stat/#' -v -C 1 -W 3 2>/dev/null &
       sleep 1; pub "${D[@]}" "${T[@]}" -t stat/tasmota-wm4/RESULT -m '{"POWER":"OFF"}' >/dev/null
       pub "${D[@]}" "${T[@]}" -t stat/tasmota-pm4/RESULT -m '{"POWER":"ON"}' >/dev/null; wait)
if [[ $stat == 'stat/tasmota-pm4/RESULT {"POWER":"ON"}' ]]; then ok "Tasmota device publishes stat/<its topic>/..., not stat/<another>/..."; else fail "stat/ topics: ${stat:-nothing}"; fi
if grep -q '^shellyplus1pm-ws4/events/rpc {"src":"shellyplus1pm-ws4",.*"total":5021.3' <<<"$got"; then ok "Shelly gen2 device publishes <its prefix>/events/rpc (NotifyStatus)"; else fail "Shelly gen2 NotifyStatus not received"; fi
expect_in  'shellyplus1pm-ws4/online true' "Shelly gen2 device publishes <its prefix>/online"
expect_out '666003' "Shelly gen2 device cannot publish under another device's name"
expect_in  'loom-41/sensor/picks/state 18230' "ESPHome node publishes <node>/sensor/<name>/state"
expect_in  'loom-41/binary_sensor/running/state ON' "...and <node>/binary_sensor/<name>/state"
expect_in  'loom-41/status online' "...and <node>/status"
expect_in  'homeassistant/sensor/loom-41/picks/config {"name":"picks","stat_t":"loom-41/sensor/picks/state"}' "...and its own Home Assistant discovery message"
expect_out '666004' "ESPHome node cannot publish another node's sensor"
expect_out '666005' "...nor another node's discovery message"
expect_in  'shellies/shelly1pm-4C7525/relay/0/energy 301000' "Shelly gen1 device publishes shellies/<its id>/relay/0/energy"
expect_out '666006' "Shelly gen1 device cannot publish under another id"
expect_out '666007' "Shelly gen1 shellies/announce is not granted (dropped)"
expect_in  'tele/tasmota-sim1/SENSOR {"COUNTER":{"C1":450}}' "sentra-sim publishes as a Tasmota device"
expect_in  'shellyplus1pm-sim1/events/rpc {"method":"NotifyStatus","params":{"ts":1}}' "...as a Shelly gen2 device"
expect_in  'loom-sim1/sensor/picks/state 7' "...as an ESPHome node"
expect_in  'shellies/shelly1pm-SIM001/relay/0/power 12.5' "...as a Shelly gen1 device"

# A device reads no other device's readings (only its own command topics).
dev_sub=$(mosquitto_sub "${D[@]}" "${T[@]}" -t 'tele/#' -t '+/sensor/+/state' -v -W 2 2>/dev/null &
          sleep 1; pub "${D[@]}" -u tasmota-wm4 -P "$pw_t2" -t tele/tasmota-wm4/SENSOR -m '{"COUNTER":{"C1":900}}' >/dev/null
          pub "${D[@]}" "${E[@]}" -t loom-41/sensor/picks/state -m 18231 >/dev/null; wait)
if [[ -z $dev_sub ]]; then ok "Tasmota device receives nothing from tele/# and +/sensor/+/state"; else fail "Tasmota device received: $dev_sub"; fi
# A device reads its own command topics only: a (retained) RPC request on the Shelly's rpc topic
# reaches the Shelly, not another device. (Two connections of one device would share a client
# id on the device listener and take over each other's session, hence retained, not live.)
pub "${D[@]}" "${G[@]}" -r -t shellyplus1pm-ws4/rpc -m '{"id":1,"src":"x","method":"Shelly.GetStatus"}' >/dev/null
own_rpc=$(mosquitto_sub "${D[@]}" "${G[@]}" -t shellyplus1pm-ws4/rpc -v -C 1 -W 3 2>/dev/null)
other_rpc=$(mosquitto_sub "${D[@]}" "${T[@]}" -t shellyplus1pm-ws4/rpc -v -W 2 2>/dev/null)
pub "${D[@]}" "${G[@]}" -r -n -t shellyplus1pm-ws4/rpc >/dev/null
if [[ $own_rpc == 'shellyplus1pm-ws4/rpc {"id":1,'* ]]; then ok "Shelly gen2 device reads <its prefix>/rpc"; else fail "Shelly gen2 device did not read its rpc topic: ${own_rpc:-nothing}"; fi
if [[ -z $other_rpc ]]; then ok "...and another device cannot read it"; else fail "another device read the Shelly's rpc topic: $other_rpc"; fi
drain 1 >/dev/null

# QoS 0 while sentrad is away: its session is disconnected now; a Tasmota reading at QoS 0
# (what Tasmota publishes by default) is queued for it and delivered when it connects again.
pub "${D[@]}" -q 0 -u tasmota-wm4 -P "$pw_t2" -t tele/tasmota-wm4/SENSOR -m '{"Time":"2026-12-04T08:00:10","COUNTER":{"C1":1350}}' >/dev/null
got=$(drain)
expect_in 'tele/tasmota-wm4/SENSOR {"Time":"2026-12-04T08:00:10","COUNTER":{"C1":1350}}' "a QoS 0 Tasmota reading published while sentrad's session was away is delivered when it returns"

# Authentication.
if mosquitto_pub "${D[@]}" -u meter-bandar-01 -P wrong -t "$M1" -m x >/dev/null 2>&1; then fail "wrong password accepted"; else ok "wrong password refused"; fi
if mosquitto_pub "${D[@]}" -t "$M1" -m x >/dev/null 2>&1; then fail "anonymous accepted"; else ok "anonymous client refused"; fi
if mosquitto_pub "${L[@]}" -u nobody -P x -t "$M1" -m x >/dev/null 2>&1; then fail "unknown user accepted"; else ok "unknown user refused"; fi

# A device choosing sentrad's client id on the device listener does not take over sentrad's
# session (use_username_as_clientid): the queued reading is still there for sentrad.
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "$M1" -m '{"v":222}' >/dev/null
mosquitto_sub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -i sentrad -c -q 1 -t 'sentra/#' -W 1 >/dev/null 2>&1
got=$(drain)
expect_in "$M1 {\"v\":222}" "a device using client id 'sentrad' does not steal sentrad's session"

# Message size: a reading over the daemon's batch limit (64 KiB) still reaches sentrad, which
# counts it too_large; a packet over max_packet_size (128 KiB) is refused by the broker.
head -c 100000 /dev/zero | tr '\0' 'x' >"$tmp/p100k"
head -c 200000 /dev/zero | tr '\0' 'x' >"$tmp/p200k"
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "$M1" -f "$tmp/p100k" >/dev/null
pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "$M1" -f "$tmp/p200k" >/dev/null
sizes=$(drain | awk '{ print length($2) }')
if grep -qx 100000 <<<"$sizes"; then ok "a 100,000-byte payload reaches sentrad (it counts it too_large)"; else fail "100 kB payload not delivered (sizes: $sizes)"; fi
if grep -qx 200000 <<<"$sizes"; then fail "a 200,000-byte payload was delivered"; else ok "a 200,000-byte payload is refused by the broker (max_packet_size)"; fi

# Queueing for an absent sentrad, across a broker restart (persistence).
for i in 1 2 3 4 5; do
    pub "${D[@]}" -u meter-bandar-01 -P "$pw_m1" -t "$M1" -m "{\"kwh\":$i}" >/dev/null
done
pub "${D[@]}" -q 0 -u meter-bandar-01 -P "$pw_m1" -t "$M1" -m '{"kwh":"qos0"}' >/dev/null
stop_broker
if [[ -s $tmp/data/mosquitto.db ]]; then ok "broker saved its database on stop ($(stat -c %s "$tmp/data/mosquitto.db") bytes)"; else fail "no mosquitto.db"; fi
start_broker || exit 1
got=$(drain)
n=$(grep -c '"kwh":[0-9]' <<<"$got")
if [[ $n -eq 5 && $(grep -o '"kwh":[0-9]' <<<"$got" | tr -d '\n') == '"kwh":1"kwh":2"kwh":3"kwh":4"kwh":5' ]]; then
    ok "5 QoS 1 readings queued while sentrad was away survive a broker restart, in order"
else
    fail "queued readings after restart: $n of 5: $got"
fi
expect_in "$M1 {\"kwh\":\"qos0\"}" "a QoS 0 reading published while sentrad was away is queued for it, across a broker restart (queue_qos0_messages true)"

stop_broker
# For the record: what the broker logged about refusals and drops (the refused logins above).
if grep -qE 'not authorised|dropped|Error' "$tmp/mosquitto.log"; then
    echo "--- broker log:"
    grep -E 'not authorised|dropped|Error' "$tmp/mosquitto.log" | sed 's/^/  /'
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
