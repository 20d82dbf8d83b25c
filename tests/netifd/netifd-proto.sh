# Test double of OpenWrt's /lib/netifd/netifd-proto.sh (netifd e97e36f9b5b5), for busybox ash.
#
# It implements the part of the handler contract pppossh's hook uses, and replays exactly what
# the real library does as recorded in the golden transcripts:
#   - dump output: golden/netifd/11-manual-dump/dump-output.json (same keys, order, spacing);
#   - setup/teardown argv and the $data variable: golden/netifd/*/call-*-setup-*.txt;
#   - notify_proto calls: golden/ubus-calls.log (ubus [-S] call network.interface
#     notify_proto '<json_dump text>', the JSON spelled as libubox's json_dump spells it).
# JSON here is built by string concatenation; values the hook passes are plain words.

_jq() {
	# $1 as a JSON string in _JQ, with json-c's escapes for the characters our callers can
	# pass (\ " /).  No command substitution: like jshn's shell functions it forks nothing,
	# so a message costs what the real library costs (the ubus call), also in the bench.
	local rest="$1" out= head char
	while :; do
		case "$rest" in
		*[\\\"/]*)
			head="${rest%%[\\\"/]*}"
			rest="${rest#"$head"}"
			char="${rest%"${rest#?}"}"
			rest="${rest#?}"
			out="$out$head\\$char"
			;;
		*) break ;;
		esac
	done
	_JQ="\"$out$rest\""
}

_j_str() {
	_jq "$1"
	printf '%s' "$_JQ"
}

_j_bool() {
	[ "${1:-0}" = 1 ] && printf true || printf false
}

_J_CONFIG=

_config_add_generic() {
	local item
	_jq "$1"
	item="[ $_JQ, $2 ]"
	_J_CONFIG="${_J_CONFIG:+$_J_CONFIG, }$item"
}

proto_config_add_int() { for o in "$@"; do _config_add_generic "$o" 5; done; }
proto_config_add_string() { for o in "$@"; do _config_add_generic "$o" 3; done; }
proto_config_add_boolean() { for o in "$@"; do _config_add_generic "$o" 7; done; }
proto_config_add_array() { for o in "$@"; do _config_add_generic "$o" 1; done; }

_proto_notify() {
	# $1 interface, $2 ubus options (-S for host dependencies), $3 JSON body without interface
	_jq "$1"
	ubus $2 call network.interface notify_proto "{ $3, \"interface\": $_JQ }"
}

proto_run_command() {
	local interface="$1" cmd=""
	shift
	while [ $# -gt 0 ]; do
		_jq "$1"
		cmd="${cmd:+$cmd, }$_JQ"
		shift
	done
	_proto_notify "$interface" "" "\"action\": 1, \"command\": [ $cmd ]"
}

proto_kill_command() {
	_proto_notify "$1" "" "\"action\": 2${2:+, \"signal\": $2}"
}

proto_notify_error() {
	local interface="$1" err=""
	shift
	while [ $# -gt 0 ]; do
		_jq "$1"
		err="${err:+$err, }$_JQ"
		shift
	done
	_proto_notify "$interface" "" "\"action\": 3, \"error\": [ $err ]"
}

# The link update (action 0), as OpenWrt's ppp-up and pppossh's shell ppp hooks send it: a
# small stand-in for libubox's jshn (json_init ... json_dump) that spells the JSON as json_dump
# does ("{ "k": v, ... }", "[ ... ]"), and the proto_* verbs that collect addresses, routes and
# DNS servers until proto_send_update writes them in netifd-proto.sh's order: keep, ipaddr,
# ip6addr, routes, routes6, dns.  It gives every action-0 message of golden/ubus-calls.log
# byte for byte (tests/test_ppp_hooks.py checks it).

json_init() { _J_OUT=; _J_FIRST=1; }

_j_put() {
	# $1 key ("" inside an array), $2 the value's JSON text
	[ "$_J_FIRST" = 1 ] || _J_OUT="$_J_OUT,"
	local key=
	[ -n "$1" ] && _jq "$1" && key="$_JQ: "
	_J_OUT="$_J_OUT $key$2"
	_J_FIRST=0
}

json_add_string() { _jq "$2"; _j_put "$1" "$_JQ"; }
json_add_int() { _j_put "$1" "$2"; }
json_add_boolean() {
	if [ "${2:-0}" = 1 ]; then _j_put "$1" true; else _j_put "$1" false; fi
}
json_add_object() { _j_put "$1" "{"; _J_FIRST=1; }
json_close_object() { _J_OUT="$_J_OUT }"; _J_FIRST=0; }
json_add_array() { _j_put "$1" "["; _J_FIRST=1; }
json_close_array() { _J_OUT="$_J_OUT ]"; _J_FIRST=0; }
json_dump() { printf '{%s }\n' "$_J_OUT"; }

proto_init_update() {
	_U_KEEP=0 _U_NESTED= _U_IPADDR= _U_IP6ADDR= _U_ROUTE= _U_ROUTE6= _U_DNS=
	json_init
	json_add_int action 0
	[ -n "$1" ] && [ "$1" != "*" ] && json_add_string ifname "$1"
	json_add_boolean link-up "$2"
	[ -n "$3" ] && json_add_boolean address-external "$3"
}

proto_set_keep() { _U_KEEP="$1"; }
proto_add_data() { _U_NESTED=1; json_add_object data; }
proto_close_data() { [ -n "$_U_NESTED" ] && json_close_object; _U_NESTED=; }
proto_add_dns_server() { _U_DNS="$_U_DNS $1"; }
# fields: address mask broadcast ptp
proto_add_ipv4_address() { _U_IPADDR="$_U_IPADDR $1/$2/$3/$4"; }
# fields: address mask (pppossh passes no lifetimes or class)
proto_add_ipv6_address() { _U_IP6ADDR="$_U_IP6ADDR $1/$2"; }
# fields: target mask gateway (pppossh passes no source or metric)
proto_add_ipv4_route() { _U_ROUTE="$_U_ROUTE $1/$2/$3"; }
proto_add_ipv6_route() { _U_ROUTE6="$_U_ROUTE6 $1/$2/$3"; }

_u_fields() {
	# $1 "a/b/c": sets _F1 _F2 _F3 _F4
	local rest="$1/"
	_F1="${rest%%/*}"; rest="${rest#*/}"
	_F2="${rest%%/*}"; rest="${rest#*/}"
	_F3="${rest%%/*}"; rest="${rest#*/}"
	_F4="${rest%%/*}"
}

_u_array() {
	# $1 key, $2 items, $3 kind: v4addr v6addr route dns
	[ -n "$2" ] || return 0
	json_add_array "$1"
	for item in $2; do
		_u_fields "$item"
		case "$3" in
		dns) json_add_string "" "$item" ;;
		route)
			json_add_object ""
			json_add_string target "$_F1"
			json_add_string netmask "$_F2"
			[ -n "$_F3" ] && json_add_string gateway "$_F3"
			json_close_object
			;;
		*)
			json_add_object ""
			json_add_string ipaddr "$_F1"
			[ -n "$_F2" ] && json_add_string mask "$_F2"
			[ "$3" = v4addr ] && [ -n "$_F3" ] && json_add_string broadcast "$_F3"
			[ "$3" = v4addr ] && [ -n "$_F4" ] && json_add_string ptp "$_F4"
			json_close_object
			;;
		esac
	done
	json_close_array
}

proto_send_update() {
	proto_close_data
	json_add_boolean keep "$_U_KEEP"
	_u_array ipaddr "$_U_IPADDR" v4addr
	_u_array ip6addr "$_U_IP6ADDR" v6addr
	_u_array routes "$_U_ROUTE" route
	_u_array routes6 "$_U_ROUTE6" route
	_u_array dns "$_U_DNS" dns
	json_add_string interface "$1"
	ubus call network.interface notify_proto "$(json_dump)"
}

proto_block_restart() {
	_proto_notify "$1" "" "\"action\": 4"
}

proto_add_host_dependency() {
	local host ifname=
	_jq "$2"
	host="$_JQ"
	[ -n "$3" ] && _jq "$3" && ifname=", \"ifname\": $_JQ"
	_proto_notify "$1" -S "\"action\": 6, \"host\": $host$ifname"
}

proto_setup_failed() {
	_proto_notify "$1" "" "\"action\": 7"
}

init_proto() {
	proto="$1"; shift
	cmd="$1"; shift

	case "$cmd" in
		dump)
			add_protocol() {
				no_device=0
				no_device_config=0
				no_proto_task=0
				available=0
				renew_handler=0
				restart_handler=0
				teardown_on_l3_link_down=0
				_J_CONFIG=
				eval "proto_$1_init_config"
				printf '{ "name": %s, "config": [ %s ], ' "$(_j_str "$1")" "$_J_CONFIG"
				printf '"no-device": %s, ' "$(_j_bool "$no_device")"
				printf '"no-device-config": %s, ' "$(_j_bool "$no_device_config")"
				printf '"no-proto-task": %s, ' "$(_j_bool "$no_proto_task")"
				printf '"available": %s, ' "$(_j_bool "$available")"
				printf '"renew-handler": %s, ' "$(_j_bool "$renew_handler")"
				printf '"restart-handler": %s, ' "$(_j_bool "$restart_handler")"
				printf '"lasterror": %s, ' "$(_j_bool "$lasterror")"
				printf '"teardown-on-l3-link-down": %s }\n' "$(_j_bool "$teardown_on_l3_link_down")"
			}
		;;
		setup|teardown|renew)
			# with no_device=1 netifd passes no device name: $# is 2 here, ifname stays empty
			interface="$1"; shift
			data="$1"; shift
			ifname="$1"; [ $# -gt 0 ] && shift

			add_protocol() {
				[ "$proto" = "$1" ] || return 0
				case "$cmd" in
					setup) eval "proto_$1_setup \"\$interface\" \"\$ifname\"" ;;
					teardown) eval "proto_$1_teardown \"\$interface\" \"\$ifname\"" ;;
					renew) eval "proto_$1_renew \"\$interface\" \"\$ifname\"" ;;
				esac
			}
		;;
	esac
}
