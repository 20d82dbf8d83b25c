/*
 * LuCI stand-in for the pppossh browser tests: LuCI.network.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/network.js:
 * network.registerProtocol(name, methods) extends Network.Protocol with defaults
 * (getI18n gives the name, isFloating false, isVirtual false, an empty renderFormOptions),
 * then the given methods, then __init__(sid) and getProtocol(); it records the class and
 * returns it.  network.getProtocol(name, sid) and getProtocols() instantiate registered
 * classes, network.getIfnameOf(obj) gives a protocol its getIfname() and strips an alias
 * suffix from a device name.  Protocol offers sid, get/set (uci network), _get and _ubus
 * (here over an empty interface dump: netifd is not running), getIfname, getProtocol.
 *
 * Not here: the interface, device and wireless state netifd and rpcd would report.
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require uci';
'require rpc';
'require baseclass';

var protocols = {},
    ifaceDump = [];   /* what network.interface dump would give: nothing runs here */

var Protocol = baseclass.extend({
	__name__: 'LuCI.network.Protocol',

	__init__: function(name) {
		this.sid = name;
	},

	_get: function(opt) {
		var val = uci.get('network', this.sid, opt);
		return Array.isArray(val) ? val.join(' ') : (val || '');
	},

	_ubus: function(field) {
		for (var i = 0; i < ifaceDump.length; i++)
			if (ifaceDump[i].interface == this.sid)
				return (field != null) ? ifaceDump[i][field] : ifaceDump[i];
	},

	get: function(opt) {
		return uci.get('network', this.sid, opt);
	},

	set: function(opt, val) {
		return uci.set('network', this.sid, opt, val);
	},

	getName: function() {
		return this.sid;
	},

	getIfname: function() {
		return this.isFloating() ? this._ubus('l3_device') : (this._ubus('device') || this._ubus('l3_device'));
	},

	getProtocol: function() {
		return null;
	},

	getI18n: function() {
		return this.getProtocol();
	},

	isFloating: function() {
		return false;
	},

	isVirtual: function() {
		return false;
	},

	getDevices: function() {
		return null;
	},

	containsDevice: function(ifname) {
		return false;
	},

	renderFormOptions: function(section) {
	}
});

function ifnameOf(obj) {
	if (obj instanceof Protocol)
		return obj.getIfname();

	if (typeof(obj) == 'string')
		return obj.replace(/:.+$/, '');

	return null;
}

return baseclass.extend({
	Protocol: Protocol,

	registerProtocol: function(protoname, methods) {
		var proto = Protocol.extend(Object.assign({
			getI18n: function() { return protoname; },
			isFloating: function() { return false; },
			isVirtual: function() { return false; },
			renderFormOptions: function(section) {}
		}, methods, {
			__init__: function(name) {
				this.sid = name;
			},
			getProtocol: function() {
				return protoname;
			}
		}));

		protocols[protoname] = proto;

		return proto;
	},

	getProtocol: function(protoname, netname) {
		var cls = protocols[protoname];
		return cls ? new cls(netname || '__dummy__') : null;
	},

	getProtocols: function() {
		return Object.keys(protocols).map(function(name) { return new protocols[name]('__dummy__'); });
	},

	getIfnameOf: function(obj) {
		return ifnameOf(obj);
	}
});
