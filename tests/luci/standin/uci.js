/*
 * LuCI stand-in for the pppossh browser tests: LuCI.uci.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/uci.js: a local copy
 * of each loaded config (sections keyed by name, with .name .type .anonymous .index and
 * options as strings or arrays of strings) plus staged changes and deletions; get() reads
 * through the staged state (an unknown option gives undefined, a deleted one null), set()
 * with null or an empty string deletes, set() only touches existing sections, unset() is
 * set(null), sections() returns copies in .index order.  save() sends the staged changes
 * and reloads the configs it saved, as uci.save() does.
 *
 * Transport differs from LuCI (which calls the rpcd uci object): load() is GET
 * /uci?config=NAME and save() POSTs {config, set: {section: {option: value}}, unset:
 * {section: [option]}} to /uci, served by tests/luci/server.py, which commits at once.
 * Not here: add(), remove(), move(), reorder, apply/confirm/rollback.
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require baseclass';
'require request';

return baseclass.extend({
	__init__: function() {
		this.state = {
			values: {},
			changes: {},
			deletes: {}
		};
		this.loaded = {};
	},

	loadPackage: function(name) {
		if (this.loaded[name] == null)
			this.loaded[name] = request.get('/uci', { query: { config: name } }).then(function(res) {
				if (!res.ok)
					L.raise('RPCError', 'Loading config %s failed with HTTP error %d', name, res.status);
				var reply = res.json();
				return L.isObject(reply.values) ? reply.values : {};
			});

		return this.loaded[name];
	},

	load: function(packages) {
		var self = this, pending = [], tasks = [];

		if (!Array.isArray(packages))
			packages = [ packages ];

		packages.forEach(function(name) {
			if (!self.state.values[name]) {
				pending.push(name);
				tasks.push(self.loadPackage(name));
			}
		});

		return Promise.all(tasks).then(function(replies) {
			for (var i = 0; i < replies.length; i++)
				self.state.values[pending[i]] = replies[i];

			if (replies.length)
				document.dispatchEvent(new CustomEvent('uci-loaded'));

			return pending;
		});
	},

	unload: function(packages) {
		if (!Array.isArray(packages))
			packages = [ packages ];

		for (var i = 0; i < packages.length; i++) {
			delete this.state.values[packages[i]];
			delete this.state.changes[packages[i]];
			delete this.state.deletes[packages[i]];
			delete this.loaded[packages[i]];
		}
	},

	resolveSID: function(conf, sid) {
		if (typeof(sid) != 'string')
			return sid;

		var m = /^@([a-zA-Z0-9_-]+)\[(-?[0-9]+)\]$/.exec(sid);
		if (!m)
			return sid;

		var list = this.sections(conf, m[1]),
		    pos = +m[2],
		    hit = list[pos >= 0 ? pos : list.length + pos];

		return hit ? hit['.name'] : null;
	},

	sections: function(conf, type, cb) {
		var values = this.state.values[conf],
		    changes = this.state.changes[conf],
		    deletes = this.state.deletes[conf],
		    list = [];

		if (!values)
			return list;

		Object.keys(values).forEach(function(sid) {
			if (deletes && deletes[sid] === true)
				return;
			if (type && values[sid]['.type'] != type)
				return;

			var copy = Object.assign({}, values[sid], changes ? changes[sid] : null);

			if (deletes && L.isObject(deletes[sid]))
				Object.keys(deletes[sid]).forEach(function(opt) { delete copy[opt]; });

			list.push(copy);
		});

		list.sort(function(a, b) { return a['.index'] - b['.index']; });

		for (var i = 0; i < list.length; i++)
			list[i]['.index'] = i;

		if (typeof(cb) == 'function')
			list.forEach(function(s) { cb.call(this, s, s['.name']); }, this);

		return list;
	},

	get: function(conf, sid, opt) {
		var v = this.state.values, c = this.state.changes, d = this.state.deletes;

		sid = this.resolveSID(conf, sid);

		if (sid == null)
			return null;

		if (opt != null) {
			if (d[conf] && d[conf][sid] && (d[conf][sid] === true || d[conf][sid][opt]))
				return null;

			if (c[conf] && c[conf][sid] && c[conf][sid][opt] != null)
				return c[conf][sid][opt];

			if (v[conf] && v[conf][sid])
				return v[conf][sid][opt];

			return null;
		}

		if (!v[conf] || (d[conf] && d[conf][sid] === true))
			return null;

		var s = v[conf][sid] || null;

		if (s) {
			if (c[conf] && c[conf][sid])
				for (var o in c[conf][sid])
					if (c[conf][sid][o] != null)
						s[o] = c[conf][sid][o];

			if (d[conf] && L.isObject(d[conf][sid]))
				for (var x in d[conf][sid])
					delete s[x];
		}

		return s;
	},

	set: function(conf, sid, opt, val) {
		var v = this.state.values, c = this.state.changes, d = this.state.deletes;

		sid = this.resolveSID(conf, sid);

		if (sid == null || opt == null || opt.charAt(0) == '.')
			return;

		if (val != null && val !== '') {
			if (d[conf] && d[conf][sid] === true)
				return;

			if (!v[conf] || !v[conf][sid])
				return;

			c[conf] = c[conf] || {};
			c[conf][sid] = c[conf][sid] || {};

			if (d[conf] && L.isObject(d[conf][sid])) {
				delete d[conf][sid][opt];
				if (!Object.keys(d[conf][sid]).length)
					delete d[conf][sid];
			}

			c[conf][sid][opt] = val;
		}
		else {
			if (c[conf] && c[conf][sid])
				delete c[conf][sid][opt];

			if (v[conf] && v[conf][sid] && Object.prototype.hasOwnProperty.call(v[conf][sid], opt)) {
				d[conf] = d[conf] || {};
				d[conf][sid] = d[conf][sid] || {};

				if (d[conf][sid] !== true)
					d[conf][sid][opt] = true;
			}
		}
	},

	unset: function(conf, sid, opt) {
		return this.set(conf, sid, opt, null);
	},

	changes: function() {
		var out = {}, c = this.state.changes, d = this.state.deletes;

		Object.keys(c).concat(Object.keys(d)).forEach(function(conf) {
			out[conf] = out[conf] || [];
			Object.keys(c[conf] || {}).forEach(function(sid) {
				Object.keys(c[conf][sid]).forEach(function(opt) {
					out[conf].push([ 'set', sid, opt, c[conf][sid][opt] ]);
				});
			});
			Object.keys(d[conf] || {}).forEach(function(sid) {
				Object.keys(d[conf][sid]).forEach(function(opt) {
					out[conf].push([ 'remove', sid, opt ]);
				});
			});
		});

		return Promise.resolve(out);
	},

	save: function() {
		var self = this,
		    c = this.state.changes,
		    d = this.state.deletes,
		    configs = {},
		    tasks = [];

		Object.keys(c).forEach(function(conf) { configs[conf] = true; });
		Object.keys(d).forEach(function(conf) { configs[conf] = true; });

		Object.keys(configs).forEach(function(conf) {
			var body = { config: conf, set: {}, unset: {} };

			Object.keys(c[conf] || {}).forEach(function(sid) {
				if (Object.keys(c[conf][sid]).length)
					body.set[sid] = c[conf][sid];
			});

			Object.keys(d[conf] || {}).forEach(function(sid) {
				if (d[conf][sid] === true)
					L.raise('Error', 'the stand-in cannot delete whole sections (%s.%s)', conf, sid);
				body.unset[sid] = Object.keys(d[conf][sid]);
			});

			tasks.push(request.post('/uci', body).then(function(res) {
				if (!res.ok)
					L.raise('RPCError', 'Saving %s failed: %s', conf, res.text());
			}));
		});

		return Promise.all(tasks).then(function() {
			var names = Object.keys(configs);
			self.unload(names);
			return self.load(names);
		});
	}
});
