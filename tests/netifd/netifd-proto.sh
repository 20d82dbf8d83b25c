# Test double of OpenWrt's /lib/netifd/netifd-proto.sh (netifd e97e36f9b5b5), for busybox ash.
#
# It implements the part of the handler contract pppossh's hook uses, and replays exactly what
# the real library does as recorded in the golden transcripts:
#   - dump output: golden/netifd/11-manual-dump/dump-output.json (same keys, order, spacing);
#   - setup/teardown argv and the $data variable: golden/netifd/*/call-*-setup-*.txt;
#   - notify_proto calls: golden/ubus-calls.log (ubus [-S] call network.interface
#     notify_proto '<json_dump text>', the JSON spelled as libubox's json_dump spells it).
# JSON here is built by string concatenation; values the hook passes are plain words.

_j_str() {
	# JSON string with json-c's escapes for the characters our callers can pass
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\//\\\//g')"
}

_j_bool() {
	[ "${1:-0}" = 1 ] && printf true || printf false
}

_J_CONFIG=

_config_add_generic() {
	local item
	item="[ $(_j_str "$1"), $2 ]"
	_J_CONFIG="${_J_CONFIG:+$_J_CONFIG, }$item"
}

proto_config_add_int() { for o in "$@"; do _config_add_generic "$o" 5; done; }
proto_config_add_string() { for o in "$@"; do _config_add_generic "$o" 3; done; }
proto_config_add_boolean() { for o in "$@"; do _config_add_generic "$o" 7; done; }
proto_config_add_array() { for o in "$@"; do _config_add_generic "$o" 1; done; }

_proto_notify() {
	# $1 interface, $2 ubus options (-S for host dependencies), $3 JSON body without interface
	ubus $2 call network.interface notify_proto "{ $3, \"interface\": $(_j_str "$1") }"
}

proto_run_command() {
	local interface="$1" cmd=""
	shift
	while [ $# -gt 0 ]; do
		cmd="${cmd:+$cmd, }$(_j_str "$1")"
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
		err="${err:+$err, }$(_j_str "$1")"
		shift
	done
	_proto_notify "$interface" "" "\"action\": 3, \"error\": [ $err ]"
}

proto_block_restart() {
	_proto_notify "$1" "" "\"action\": 4"
}

proto_add_host_dependency() {
	_proto_notify "$1" -S "\"action\": 6, \"host\": $(_j_str "$2")${3:+, \"ifname\": $(_j_str "$3")}"
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
