/*
 * LuCI stand-in for the pppossh browser tests: LuCI.form.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/form.js:
 * - form.Map(config, title, description): load() loads the config through uci and every
 *   option value (option.load then option.cfgvalue(section_id, value)), render() draws
 *   div.cbi-map#cbi-CONFIG bound to the map, save() parses every option (write or remove
 *   according to formvalue, cfgvalue, rmempty), calls uci.save(), reloads and redraws,
 *   lookupOption(name, section_id) finds [ option, section_id ] by its data-field;
 * - form.NamedSection(map, section_id, type) and TypedSection with tab(name, title),
 *   taboption(tab, Class, option, title, description), option(Class, ...) and
 *   getOption(name): each tab is a container div with data-tab and data-tab-title, turned
 *   into tabs by ui.tabs;
 * - form.Value, DynamicList, ListValue (value(key, label)), Flag (enabled 1, disabled 0,
 *   default 0), DummyValue, TextValue, HiddenValue with datatype, placeholder, default,
 *   rmempty, optional, password, and with cfgvalue, formvalue, write, remove and render
 *   (option_index, section_id) overridable per option, as LuCI allows;
 * - each option row is div.cbi-value with id cbi-CONFIG-SECTION-OPTION, data-field
 *   cbid.CONFIG.SECTION.OPTION, data-name OPTION and data-widget (class name), holding
 *   label.cbi-value-title, div.cbi-value-field with the widget and the
 *   div.cbi-value-description.
 *
 * Test hook, not in LuCI: option rows also carry data-tab (the tab of the option).
 * Not here: depends() evaluation beyond storing it, GridSection/TableSection, JSONMap.
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require ui';
'require uci';
'require dom';

function isEqual(x, y) {
	if (x != null && y != null && typeof(x) != typeof(y))
		return false;

	if ((x == null) != (y == null))
		return false;

	if (Array.isArray(x)) {
		if (!Array.isArray(y) || x.length != y.length)
			return false;
		for (var i = 0; i < x.length; i++)
			if (!isEqual(x[i], y[i]))
				return false;
		return true;
	}

	if (x != null && typeof(x) == 'object') {
		var kx = Object.keys(x), ky = Object.keys(y);
		if (kx.length != ky.length)
			return false;
		return kx.every(function(k) { return isEqual(x[k], y[k]); });
	}

	return x == y;
}

var CBINode = L.Class.extend({
	__name__: 'CBI.Node',

	__init__: function(title, description) {
		this.title = title || '';
		this.description = description || '';
		this.children = [];
	},

	append: function(obj) {
		this.children.push(obj);
	},

	loadChildren: function() {
		var args = arguments;
		return Promise.all(this.children.map(function(child) {
			return child.disable ? null : child.load.apply(child, args);
		}));
	},

	renderChildren: function(tabName) {
		var rest = Array.prototype.slice.call(arguments, 1), index = 0;

		return Promise.all(this.children.filter(function(child) {
			return (tabName === null || child.tab === tabName) && !child.disable;
		}).map(function(child) {
			return child.render.apply(child, [ index++ ].concat(rest));
		}));
	},

	stripTags: function(s) {
		if (typeof(s) == 'string' && !/[<>]/.test(s))
			return s;

		var x = E('div', {}, s);
		return x.textContent || '';
	}
});

var CBIMap = CBINode.extend({
	__name__: 'CBI.Map',

	__init__: function(config, title, description) {
		CBINode.prototype.__init__.call(this, title, description);
		this.config = config;
		this.parsechain = [ config ];
		this.data = uci;
	},

	findElements: function() {
		var q = (arguments.length == 1) ? arguments[0] : '[%s="%s"]'.format(arguments[0], arguments[1]);
		return this.root ? this.root.querySelectorAll(q) : [];
	},

	findElement: function() {
		var res = this.findElements.apply(this, arguments);
		return res.length ? res[0] : null;
	},

	section: function(cbiClass) {
		if (!CBIAbstractSection.isSubclass(cbiClass))
			L.error('TypeError', 'Class must be a descendent of CBIAbstractSection');

		var obj = cbiClass.instantiate([ this ].concat(Array.prototype.slice.call(arguments, 1)));
		this.append(obj);
		return obj;
	},

	load: function() {
		return this.data.load(this.parsechain).then(this.loadChildren.bind(this));
	},

	parse: function() {
		return Promise.all(this.children.map(function(s) { return s.parse(); }));
	},

	save: function(cb, silent) {
		this.checkDepends();

		return this.parse()
			.then(cb)
			.then(this.data.save.bind(this.data))
			.then(this.load.bind(this))
			.catch(function(e) {
				if (!silent)
					ui.showModal(_('Save error'), [
						E('p', {}, [ _('An error occurred while saving the form:') ]),
						E('p', {}, [ E('em', { 'style': 'white-space:pre-wrap' }, [ e ? e.message : _('invalid values') ]) ]),
						E('div', { 'class': 'right' }, [
							E('button', { 'class': 'cbi-button', 'click': ui.hideModal }, [ _('Dismiss') ])
						])
					]);

				return Promise.reject(e);
			})
			.then(this.renderContents.bind(this));
	},

	reset: function() {
		return this.renderContents();
	},

	render: function() {
		return this.load().then(this.renderContents.bind(this));
	},

	renderContents: function() {
		var mapEl = this.root || (this.root = E('div', { 'id': 'cbi-%s'.format(this.config), 'class': 'cbi-map' }));

		dom.bindClassInstance(mapEl, this);

		return this.renderChildren(null).then(L.bind(function(nodes) {
			dom.content(mapEl, null);

			if (this.title)
				mapEl.appendChild(E('h2', { 'name': 'content' }, [ this.title ]));

			if (this.description)
				mapEl.appendChild(E('div', { 'class': 'cbi-map-descr' }, [ this.description ]));

			dom.append(mapEl, nodes);

			this.checkDepends();

			mapEl.querySelectorAll('.cbi-section-node-tabbed').forEach(function(group) {
				ui.tabs.initTabGroup(group.childNodes);
			});

			return mapEl;
		}, this));
	},

	lookupOption: function(name, section_id, config_name) {
		var id = (name.indexOf('.') > -1)
			? 'cbid.%s'.format(name)
			: 'cbid.%s.%s.%s'.format(config_name || this.config, section_id, name);

		var elem = this.findElement('data-field', id),
		    sid = elem ? id.split(/\./)[2] : null,
		    inst = elem ? dom.findClassInstance(elem) : null;

		return (inst instanceof CBIAbstractValue) ? [ inst, sid ] : null;
	},

	checkDepends: function() {
		this.children.forEach(function(s) { s.checkDepends(); });
		ui.tabs.updateTabs(null, this.root);
	}
});

var CBIAbstractSection = CBINode.extend({
	__name__: 'CBI.AbstractSection',

	__init__: function(map, sectionType, title, description) {
		CBINode.prototype.__init__.call(this, title, description);
		this.sectiontype = sectionType;
		this.map = map;
		this.config = map.config;
		this.optional = true;
		this.addremove = false;
		this.dynamic = false;
	},

	cfgsections: function() {
		L.error('InternalError', 'Not implemented');
	},

	filter: function() {
		return true;
	},

	load: function() {
		var self = this;

		return Promise.all(this.cfgsections().map(function(sid) {
			return self.loadChildren(sid).then(function(values) {
				for (var i = 0; i < values.length; i++)
					self.children[i].cfgvalue(sid, values[i]);
			});
		}));
	},

	parse: function() {
		var tasks = [];

		this.cfgsections().forEach(function(sid) {
			this.children.forEach(function(o) { tasks.push(o.parse(sid)); });
		}, this);

		return Promise.all(tasks);
	},

	tab: function(name, title, description) {
		if (this.tabs && this.tabs[name])
			throw 'Tab already declared';

		var entry = { name: name, title: title, description: description, children: [] };

		this.tabs = this.tabs || [];
		this.tabs.push(entry);
		this.tabs[name] = entry;

		this.tab_names = this.tab_names || [];
		this.tab_names.push(name);
	},

	option: function(cbiClass) {
		if (!CBIAbstractValue.isSubclass(cbiClass))
			throw L.error('TypeError', 'Class must be a descendent of CBIAbstractValue');

		var obj = cbiClass.instantiate([ this.map, this ].concat(Array.prototype.slice.call(arguments, 1)));
		this.append(obj);
		return obj;
	},

	getOption: function(option) {
		var found = this.children.filter(function(o) { return o.option == option; });
		return (option != null) ? (found[0] || null) : this.children;
	},

	taboption: function(tabName) {
		if (!this.tabs || !this.tabs[tabName])
			throw L.error('ReferenceError', 'Associated tab not declared');

		var obj = this.option.apply(this, Array.prototype.slice.call(arguments, 1));
		obj.tab = tabName;
		this.tabs[tabName].children.push(obj);
		return obj;
	},

	renderUCISection: function(section_id) {
		if (!this.tabs)
			return this.renderOptions(null, section_id);

		return Promise.all(this.tab_names.map(function(name) {
			return this.renderOptions(name, section_id);
		}, this)).then(this.renderTabContainers.bind(this, section_id));
	},

	renderTabContainers: function(section_id, nodes) {
		var config = this.uciconfig || this.map.config,
		    out = E([]);

		for (var i = 0; i < nodes.length; i++) {
			var name = this.tab_names[i], tab = this.tabs[name],
			    container = E('div', {
				'id': 'container.%s.%s.%s'.format(config, section_id, name),
				'data-tab': name,
				'data-tab-title': tab.title,
				'data-tab-active': name === this.selected_tab
			    });

			if (tab.description)
				container.appendChild(E('div', { 'class': 'cbi-tab-descr' }, [ tab.description ]));

			container.appendChild(nodes[i]);
			out.appendChild(container);
		}

		return out;
	},

	renderOptions: function(tabName, section_id) {
		return this.renderChildren(tabName, section_id, false).then(function(nodes) {
			var out = E([]);
			nodes.forEach(function(n) { if (n) out.appendChild(n); });
			return out;
		});
	},

	checkDepends: function() {
		this.cfgsections().forEach(function(sid) {
			this.children.forEach(function(o) {
				if (o.isActive(sid))
					o.triggerValidation(sid);
			});
		}, this);
	}
});

var CBITypedSection = CBIAbstractSection.extend({
	__name__: 'CBI.TypedSection',

	cfgsections: function() {
		return this.map.data.sections(this.uciconfig || this.map.config, this.sectiontype)
			.map(function(s) { return s['.name']; })
			.filter(L.bind(this.filter, this));
	},

	render: function() {
		var sids = this.cfgsections();

		return Promise.all(sids.map(this.renderUCISection, this)).then(L.bind(function(nodes) {
			var config = this.uciconfig || this.map.config,
			    el = E('div', { 'id': 'cbi-%s-%s'.format(config, this.sectiontype), 'class': 'cbi-section' });

			if (this.title)
				el.appendChild(E('legend', {}, [ this.title ]));

			for (var i = 0; i < nodes.length; i++)
				el.appendChild(E('div', {
					'id': 'cbi-%s-%s'.format(config, sids[i]),
					'class': this.tabs ? 'cbi-section-node cbi-section-node-tabbed' : 'cbi-section-node',
					'data-section-id': sids[i]
				}, nodes[i]));

			dom.bindClassInstance(el, this);
			return el;
		}, this));
	}
});

var CBINamedSection = CBIAbstractSection.extend({
	__name__: 'CBI.NamedSection',

	__init__: function(map, section_id, sectionType, title, description) {
		CBIAbstractSection.prototype.__init__.call(this, map, sectionType, title, description);
		this.section = section_id;
	},

	cfgsections: function() {
		return [ this.section ];
	},

	render: function() {
		var config = this.uciconfig || this.map.config,
		    sid = this.section;

		return Promise.all([
			this.map.data.get(config, sid),
			this.renderUCISection(sid)
		]).then(L.bind(function(data) {
			var el = E('div', { 'id': data[0] ? null : 'cbi-%s-%s'.format(config, sid), 'class': 'cbi-section' });

			if (this.title)
				el.appendChild(E('legend', {}, [ this.title ]));

			if (this.description)
				el.appendChild(E('div', { 'class': 'cbi-section-descr' }, [ this.description ]));

			if (data[0])
				el.appendChild(E('div', {
					'id': 'cbi-%s-%s'.format(config, sid),
					'class': this.tabs ? 'cbi-section-node cbi-section-node-tabbed' : 'cbi-section-node',
					'data-section-id': sid
				}, data[1]));

			dom.bindClassInstance(el, this);
			return el;
		}, this));
	}
});

var CBIAbstractValue = CBINode.extend({
	__name__: 'CBI.AbstractValue',

	__init__: function(map, section, option, title, description) {
		CBINode.prototype.__init__.call(this, title, description);
		this.section = section;
		this.option = option;
		this.map = map;
		this.config = map.config;
		this.deps = [];
		this.rmempty = true;
		this.default = null;
		this.size = null;
		this.optional = false;
	},

	depends: function(field, value) {
		var dep = {};
		if (typeof(field) == 'string')
			dep[field] = value;
		else
			dep = field;
		this.deps.push(dep);
	},

	configName: function() {
		return this.uciconfig || this.section.uciconfig || this.map.config;
	},

	cbid: function(section_id) {
		if (section_id == null)
			L.error('TypeError', 'Section ID required');

		return 'cbid.%s.%s.%s'.format(this.configName(), section_id, this.option);
	},

	load: function(section_id) {
		if (section_id == null)
			L.error('TypeError', 'Section ID required');

		return this.map.data.get(this.configName(), this.ucisection || section_id, this.ucioption || this.option);
	},

	getUIElement: function(section_id) {
		var node = this.map.findElement('id', this.cbid(section_id)),
		    inst = node ? dom.findClassInstance(node) : null;

		return (inst instanceof ui.AbstractElement) ? inst : null;
	},

	cfgvalue: function(section_id, set_value) {
		if (section_id == null)
			L.error('TypeError', 'Section ID required');

		if (arguments.length == 2) {
			this.data = this.data || {};
			this.data[section_id] = set_value;
		}

		return this.data ? this.data[section_id] : null;
	},

	formvalue: function(section_id) {
		var elem = this.getUIElement(section_id);
		return elem ? elem.getValue() : null;
	},

	textvalue: function(section_id) {
		var cval = this.cfgvalue(section_id);
		if (cval == null)
			cval = this.default;
		return (cval != null) ? '%h'.format(cval) : null;
	},

	validate: function(section_id, value) {
		return true;
	},

	isValid: function(section_id) {
		var elem = this.getUIElement(section_id);
		return elem ? elem.isValid() : true;
	},

	isActive: function(section_id) {
		var field = this.map.findElement('data-field', this.cbid(section_id));
		return (field != null && !field.classList.contains('hidden'));
	},

	triggerValidation: function(section_id) {
		var elem = this.getUIElement(section_id);
		return elem ? elem.triggerValidation() : true;
	},

	parse: function(section_id) {
		var active = this.isActive(section_id);

		if (active && !this.isValid(section_id)) {
			var title = this.stripTags(this.title).trim();
			return Promise.reject(new TypeError(_('Option "%s" contains an invalid input value.').format(title || this.option)));
		}

		if (active) {
			var cval = this.cfgvalue(section_id),
			    fval = this.formvalue(section_id);

			if (fval == null || fval == '') {
				if (this.rmempty || this.optional)
					return Promise.resolve(this.remove(section_id));

				var name = this.stripTags(this.title).trim();
				return Promise.reject(new TypeError(_('Option "%s" must not be empty.').format(name || this.option)));
			}

			if (this.forcewrite || !isEqual(cval, fval))
				return Promise.resolve(this.write(section_id, fval));
		}
		else if (!this.retain) {
			return Promise.resolve(this.remove(section_id));
		}

		return Promise.resolve();
	},

	write: function(section_id, formvalue) {
		return this.map.data.set(this.configName(), this.ucisection || section_id, this.ucioption || this.option, formvalue);
	},

	remove: function(section_id) {
		return this.map.data.unset(this.configName(), this.ucisection || section_id, this.ucioption || this.option);
	}
});

var CBIValue = CBIAbstractValue.extend({
	__name__: 'CBI.Value',

	value: function(key, val) {
		this.keylist = this.keylist || [];
		this.keylist.push(String(key));
		this.vallist = this.vallist || [];
		this.vallist.push(dom.elem(val) ? val : String(val != null ? val : key));
	},

	transformChoices: function() {
		if (!Array.isArray(this.keylist) || !this.keylist.length)
			return null;

		var choices = {};
		for (var i = 0; i < this.keylist.length; i++)
			choices[this.keylist[i]] = this.vallist[i];
		return choices;
	},

	render: function(option_index, section_id, in_table) {
		return Promise.resolve(this.cfgvalue(section_id))
			.then(this.renderWidget.bind(this, section_id, option_index))
			.then(this.renderFrame.bind(this, section_id, in_table, option_index));
	},

	renderFrame: function(section_id, in_table, option_index, nodes) {
		var config = this.configName(),
		    row = E('div', {
			'class': 'cbi-value',
			'id': 'cbi-%s-%s-%s'.format(config, section_id, this.option),
			'data-index': option_index,
			'data-depends': this.deps.length ? this.deps : null,
			'data-field': this.cbid(section_id),
			'data-name': this.option,
			'data-tab': this.tab,
			'data-widget': this.typename || this.__name__
		    });

		if (typeof(this.title) == 'string' && this.title !== '') {
			row.appendChild(E('label', {
				'class': 'cbi-value-title',
				'for': 'widget.cbid.%s.%s.%s'.format(config, section_id, this.option)
			}, this.title));   /* a string child: innerHTML, as in LuCI */
			row.appendChild(E('div', { 'class': 'cbi-value-field' }));
		}

		if (nodes)
			(row.lastChild || row).appendChild(nodes);

		if (typeof(this.description) == 'string' && this.description !== '')
			/* the description too is HTML in LuCI */
			dom.append(row.lastChild || row, E('div', { 'class': 'cbi-value-description' }, this.description));

		row.addEventListener('widget-change', L.bind(this.map.checkDepends, this.map));

		dom.bindClassInstance(row, this);

		return row;
	},

	renderWidget: function(section_id, option_index, cfgvalue) {
		var value = (cfgvalue != null) ? cfgvalue : this.default,
		    choices = this.transformChoices(),
		    widget;

		if (choices)
			widget = new ui.Combobox(Array.isArray(value) ? value.join(' ') : value, choices, {
				id: this.cbid(section_id),
				sort: this.keylist,
				optional: this.optional || this.rmempty,
				datatype: this.datatype,
				select_placeholder: this.placeholder,
				validate: L.bind(this.validate, this, section_id)
			});
		else
			widget = new ui.Textfield(Array.isArray(value) ? value.join(' ') : value, {
				id: this.cbid(section_id),
				password: this.password,
				optional: this.optional || this.rmempty,
				datatype: this.datatype,
				placeholder: this.placeholder,
				validate: L.bind(this.validate, this, section_id)
			});

		return widget.render();
	}
});

var CBIDynamicList = CBIValue.extend({
	__name__: 'CBI.DynamicList',

	renderWidget: function(section_id, option_index, cfgvalue) {
		var value = (cfgvalue != null) ? cfgvalue : this.default;

		return new ui.DynamicList(L.toArray(value), this.transformChoices(), {
			id: this.cbid(section_id),
			sort: this.keylist,
			optional: this.optional || this.rmempty,
			datatype: this.datatype,
			placeholder: this.placeholder,
			validate: L.bind(this.validate, this, section_id)
		}).render();
	}
});

var CBIListValue = CBIValue.extend({
	__name__: 'CBI.ListValue',

	__init__: function() {
		CBIValue.prototype.__init__.apply(this, arguments);
		this.widget = 'select';
	},

	renderWidget: function(section_id, option_index, cfgvalue) {
		return new ui.Select((cfgvalue != null) ? cfgvalue : this.default, this.transformChoices(), {
			id: this.cbid(section_id),
			size: this.size,
			sort: this.keylist,
			optional: this.optional,
			placeholder: this.placeholder,
			validate: L.bind(this.validate, this, section_id)
		}).render();
	}
});

var CBIFlagValue = CBIValue.extend({
	__name__: 'CBI.FlagValue',

	__init__: function() {
		CBIValue.prototype.__init__.apply(this, arguments);
		this.enabled = '1';
		this.disabled = '0';
		this.default = this.disabled;
	},

	renderWidget: function(section_id, option_index, cfgvalue) {
		return new ui.Checkbox((cfgvalue != null) ? cfgvalue : this.default, {
			id: this.cbid(section_id),
			value_enabled: this.enabled,
			value_disabled: this.disabled,
			validate: L.bind(this.validate, this, section_id)
		}).render();
	},

	formvalue: function(section_id) {
		var elem = this.getUIElement(section_id);
		return (elem && elem.isChecked()) ? this.enabled : this.disabled;
	},

	textvalue: function(section_id) {
		var cval = this.cfgvalue(section_id);
		return ((cval == null ? this.default : cval) == this.enabled) ? _('Yes') : _('No');
	},

	parse: function(section_id) {
		if (!this.isActive(section_id))
			return Promise.resolve(this.remove(section_id));

		if (!this.isValid(section_id))
			return Promise.reject(new TypeError(_('Option "%s" contains an invalid input value.').format(this.option)));

		var fval = this.formvalue(section_id);

		if (fval == this.default && (this.optional || this.rmempty))
			return Promise.resolve(this.remove(section_id));

		return Promise.resolve(this.write(section_id, fval));
	}
});

var CBITextValue = CBIValue.extend({
	__name__: 'CBI.TextValue',

	value: null,

	renderWidget: function(section_id, option_index, cfgvalue) {
		return new ui.Textarea((cfgvalue != null) ? cfgvalue : this.default, {
			id: this.cbid(section_id),
			optional: this.optional || this.rmempty,
			placeholder: this.placeholder,
			monospace: this.monospace,
			cols: this.cols,
			rows: this.rows,
			wrap: this.wrap,
			validate: L.bind(this.validate, this, section_id)
		}).render();
	}
});

var CBIDummyValue = CBIValue.extend({
	__name__: 'CBI.DummyValue',

	renderWidget: function(section_id, option_index, cfgvalue) {
		var value = (cfgvalue != null) ? cfgvalue : this.default,
		    hidden = new ui.Hiddenfield(value, { id: this.cbid(section_id) }),
		    out = E('div');

		if (this.href)
			out.appendChild(E('a', { 'href': this.href }));

		dom.append(out.lastChild || out, this.rawhtml ? value : [ value ]);

		return E([ out, hidden.render() ]);
	},

	remove: function() {},
	write: function() {}
});

var CBIHiddenValue = CBIValue.extend({
	__name__: 'CBI.HiddenValue',

	renderWidget: function(section_id, option_index, cfgvalue) {
		return new ui.Hiddenfield((cfgvalue != null) ? cfgvalue : this.default, { id: this.cbid(section_id) }).render();
	}
});

return L.Class.extend({
	Map: CBIMap,
	AbstractSection: CBIAbstractSection,
	AbstractValue: CBIAbstractValue,
	TypedSection: CBITypedSection,
	NamedSection: CBINamedSection,
	Value: CBIValue,
	DynamicList: CBIDynamicList,
	ListValue: CBIListValue,
	Flag: CBIFlagValue,
	TextValue: CBITextValue,
	DummyValue: CBIDummyValue,
	HiddenValue: CBIHiddenValue
});
