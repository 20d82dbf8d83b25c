#!/bin/sh
# netifd protocol handler for proto 'pppossh': VPN over SSH.
# Generated from pppossh/config/options.py by 'make generate'; edit the table, not this file.
# The pppossh helper does the work and talks to netifd itself; this file declares the options
# and hands over, repeats a setup the helper saved for it, and reports an error itself only
# when the helper could not run at all.

[ -n "$INCLUDE_ONLY" ] || {
	. ../netifd-proto.sh
	init_proto "$@"
}

proto_pppossh_init_config() {
	proto_config_add_string server
	proto_config_add_int port
	proto_config_add_string sshuser
	proto_config_add_array 'identity:list(string)'
	proto_config_add_array 'hostkey:list(string)'
	proto_config_add_array 'jump:list(string)'
	proto_config_add_array 'jump_hostkey:list(string)'
	proto_config_add_string ipaddr
	proto_config_add_string peeraddr
	proto_config_add_string ssh_client
	proto_config_add_string ssh_options
	proto_config_add_int ssh_keepalive
	proto_config_add_int connect_timeout
	proto_config_add_string remote_pppd
	proto_config_add_boolean remote_pty
	proto_config_add_string peer_pppd_options
	proto_config_add_int use_hostdep
	proto_config_add_string keepalive
	proto_config_add_int mtu
	proto_config_add_string ipv6
	proto_config_add_string pppd_options
	proto_config_add_boolean persist
	proto_config_add_int maxfail
	proto_config_add_int holdoff
	proto_config_add_string username
	proto_config_add_string password
	proto_config_add_boolean defaultroute
	proto_config_add_boolean peerdns
	proto_config_add_array 'dns:list(string)'
	proto_config_add_boolean system_dns
	proto_config_add_int metric
	proto_config_add_array 'route:list(string)'
	available=1
	no_device=1
}

# A setup that repeats the last one is relayed from the plan the helper saved for it
# (pppossh/run/relay.py says what each line means): the same configuration JSON, no file the
# plan was made from newer than the plan, the server name resolving to the same addresses.
# Values are only ever passed as arguments, never run.  Fails (1) when the helper must decide.
pppossh_relay() {
	local config="$1" dir="${PPPOSSH_RUNDIR:-/var/run/pppossh}/$1" line word hosts= empty=
	local file="$dir/relay"

	[ -f "$file" ] || return 1
	set --
	{
		IFS= read -r line && [ "$line" = "$data" ] || return 1
		while IFS= read -r line; do
			word="${line#* }"
			case "$line" in
			"need "*) [ -e "$word" ] && [ "$file" -nt "$word" ] || return 1 ;;
			"resolve "*)
				[ -x "$(command -v resolveip)" ] || return 1
				[ "$(resolveip -t 5 "${word%% *}" 2>/dev/null | LC_ALL=C sort -u | tr '\n' ' ')" \
					= "${word#* } " ] || return 1
				;;
			"host "*) hosts="$hosts $word" ;;
			"empty "*) empty="$empty $word" ;;
			"word "*) set -- "$@" "$word" ;;
			*) return 1 ;;
			esac
		done
	} <"$file"
	[ "$#" -gt 0 ] || return 1
	for word in $empty; do : >"$word"; done
	for word in $hosts; do proto_add_host_dependency "$config" "$word"; done
	proto_run_command "$config" "$@"
	printf 'setup time=%s\n' "$(date +%s)" >>"$dir/link-events"
	logger -t pppossh -p daemon.info "$config: connecting, as the last time" 2>/dev/null
	return 0
}

proto_pppossh_setup() {
	local config="$1" helper started="${PPPOSSH_RUNDIR:-/var/run/pppossh}/$1/task-started"

	pppossh_relay "$config" && return
	rm -f "$started"
	# netifd aborts a setup by killing this shell: take the helper (which may be resolving
	# the server name) along, or it would talk to netifd after the setup is gone
	pppossh netifd setup "$config" "$data" &
	helper=$!
	trap 'kill "$helper" 2>/dev/null; exit 0' TERM
	# a helper that died after netifd took the task (the file it leaves then) blocks nothing:
	# the task runs, and netifd must restart it when it ends
	wait "$helper" || [ -e "$started" ] || {
		proto_notify_error "$config" HELPER_FAILED
		proto_block_restart "$config"
	}
	trap - TERM
}

proto_pppossh_teardown() {
	local config="$1"

	pppossh netifd teardown "$config" "$data" || proto_kill_command "$config"
}

[ -n "$INCLUDE_ONLY" ] || add_protocol pppossh
