/*
 * LuCI stand-in for the pppossh browser tests: LuCI.rpc.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/rpc.js (its contract,
 * written anew): rpc.declare({ object, method, params, expect, filter, reject, nobatch })
 * returns a function whose positional arguments become the named ubus arguments (extra
 * ones go to the filter) and that returns a promise.  It builds the JSON-RPC 2.0 frame
 * { jsonrpc, id, method: call, params: [ session id, object, method, args ] } and POSTs it
 * to the base URL (set from L.env.ubuspath, /ubus/, as luci.js does once it probed it)
 * through LuCI.Request, which queues concurrent calls into one JSON array (see luci.js).
 * The reply handling is as in LuCI:
 * - a failed request (timeout after L.env.rpctimeout seconds, 20 by default, or a network
 *   error) rejects with that Error, an HTTP status other than 2xx with an RPCError;
 * - a reply that is not a JSON-RPC 2.0 frame rejects with an RPCError, and so does a frame
 *   with an error member (RPC call to OBJ/METHOD failed with error CODE: MESSAGE), such as
 *   -32002 Access denied (golden 23) or -32000 Object not found (golden 22);
 * - a result [ 0, data ] resolves with data, a bare status [ 5 ], [ 2 ], [ 3 ] (golden 31 to
 *   34, 36, 21) resolves with the number itself, unless reject is set (then an RPCError);
 * - expect picks and type-checks one key of the reply, filter transforms it.
 * rpc.list(), getStatusText(), add and removeInterceptor, get and setBaseURL, getSessionID.
 *
 * Not here: the interceptor luci.js registers for -32002 (it asks session access and shows
 * LuCI own Session expired dialog when that fails; for a live session nothing changes).
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require baseclass';
'require request';

var nextId = 1,
    baseURL = null,
    interceptors = [];

var STATUS = [ 'Command OK', 'Invalid command', 'Invalid argument', 'Method not found',
               'Resource not found', 'No data received', 'Permission denied', 'Request timeout',
               'Not supported', 'Unspecified error', 'Connection lost' ];

function statusText(code) {
	return _(STATUS[code] || 'Unknown error code');
}

function rpcError(call, fmt) {
	var err = new Error(String.prototype.format.apply(fmt, Array.prototype.slice.call(arguments, 2)));
	err.name = 'RPCError';
	return err;
}

/* the value a call resolves with, or the Error it rejects with (thrown) */
function valueOf(call, frame) {
	if (!L.isObject(frame) || frame.jsonrpc != '2.0')
		throw rpcError(call, 'RPC call to %s/%s returned invalid message frame', call.object, call.method);

	if (L.isObject(frame.error) && frame.error.code && frame.error.message)
		throw rpcError(call, 'RPC call to %s/%s failed with error %d: %s',
			call.object, call.method, frame.error.code, frame.error.message);

	var value = null;

	if (call.object == null && call.method == null)
		value = frame.result;
	else if (Array.isArray(frame.result)) {
		if (call.reject && frame.result[0] !== 0)
			throw rpcError(call, 'RPC call to %s/%s failed with ubus code %d: %s',
				call.object, call.method, frame.result[0], statusText(frame.result[0]));
		value = frame.result.length > 1 ? frame.result[1] : frame.result[0];
	}

	var keys = call.expect ? Object.keys(call.expect) : [];
	if (keys.length) {
		var key = keys[0], fallback = call.expect[key];
		if (value != null && key !== '')
			value = value[key];
		if (value == null || Object.prototype.toString.call(value) != Object.prototype.toString.call(fallback))
			value = fallback;
	}

	if (typeof(call.filter) == 'function')
		value = call.filter.apply(null, [ value, call.params ].concat(call.extra));

	return value;
}

function send(frame, call, nobatch) {
	return request.post(baseURL || L.env.ubuspath || '/ubus/', frame, {
		timeout: (L.env.rpctimeout || 20) * 1000,
		nobatch: nobatch,
		credentials: true
	}).then(function(res) {
		if (!res.ok)
			throw rpcError(call, 'RPC call to %s/%s failed with HTTP error %d: %s',
				call.object, call.method, res.status, res.statusText || '?');
		var reply = res.json();
		return Promise.all(interceptors.map(function(fn) { return fn(reply, call); })).then(function() {
			return valueOf(call, reply);
		});
	});
}

return baseclass.extend({
	declare: function(options) {
		return function() {
			var args = Array.prototype.slice.call(arguments),
			    names = Array.isArray(options.params) ? options.params : [],
			    params = {};

			names.forEach(function(name, i) { params[name] = args[i]; });

			return send({
				jsonrpc: '2.0',
				id: nextId++,
				method: 'call',
				params: [ L.env.sessionid || '00000000000000000000000000000000', options.object, options.method, params ]
			}, {
				object: options.object, method: options.method, expect: options.expect,
				filter: options.filter, reject: options.reject, params: params,
				extra: args.slice(names.length)
			}, options.nobatch);
		};
	},

	list: function() {
		var names = Array.prototype.slice.call(arguments);
		return send({ jsonrpc: '2.0', id: nextId++, method: 'list', params: names.length ? names : undefined }, {});
	},

	getSessionID: function() {
		return L.env.sessionid || '00000000000000000000000000000000';
	},

	getBaseURL: function() {
		return baseURL || L.env.ubuspath || '/ubus/';
	},

	setBaseURL: function(url) {
		baseURL = url;
	},

	getStatusText: statusText,

	addInterceptor: function(fn) {
		if (typeof(fn) == 'function')
			interceptors.push(fn);
		return fn;
	},

	removeInterceptor: function(fn) {
		var before = interceptors.length;
		interceptors = interceptors.filter(function(f) { return f !== fn; });
		return interceptors.length < before;
	}
});
