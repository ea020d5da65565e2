#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the Rust constants of a YNL genetlink spec (the tools' side).

Numbering follows the kernel's ynl_gen_c.py (uapi mode): attributes from 1
in spec order, commands from 1 in spec order (unified enum model), enums
from 0, multicast groups by name.
"""
import sys
import yaml


def up(name):
    return name.upper().replace('-', '_')


def main(spec_path, out_path):
    with open(spec_path, encoding='utf-8') as f:
        spec = yaml.safe_load(f)
    o = []
    p = o.append
    p('// SPDX-License-Identifier: GPL-2.0')
    p('// Do not edit: generated from netlink/%s by netlink/gen_rust.py (make spec).' %
      spec_path.rsplit('/', 1)[-1])
    p('')
    p('//! Numbers of the `%s` generic netlink family.' % spec['name'])
    p('')
    p('/// Family name (resolved to an id through nlctrl).')
    p('pub const FAMILY_NAME: &str = "%s";' % spec['name'])
    p('/// Family version.')
    p('pub const FAMILY_VERSION: u8 = %d;' % spec.get('version', 1))
    consts = {}
    for d in spec.get('definitions', []):
        if d['type'] == 'const':
            consts[d['name']] = d['value']
            p('/// %s' % d.get('doc', d['name']).strip())
            p('pub const %s: u32 = %d;' % (up(d['name']), d['value']))
        elif d['type'] == 'enum':
            p('')
            p('/// %s' % d.get('doc', d['name']).strip())
            p('pub mod %s {' % d['name'].replace('-', '_'))
            start = d.get('value-start', 0)
            for i, e in enumerate(d['entries']):
                name = e['name'] if isinstance(e, dict) else e
                if isinstance(e, dict) and 'doc' in e:
                    p('    /// %s' % e['doc'].strip())
                p('    pub const %s: u32 = %d;' % (up(name), start + i))
            p('}')
    for s in spec['attribute-sets']:
        p('')
        p('/// Attributes of set `%s`: %s' % (s['name'], s.get('doc', '').strip()))
        p('pub mod attr_%s {' % s['name'].replace('-', '_'))
        for i, a in enumerate(s['attributes']):
            if 'doc' in a:
                p('    /// %s' % ' '.join(a['doc'].split()).replace('<', '\\<'))
            p('    pub const %s: u16 = %d;' % (up(a['name']), i + 1))
        p('}')
    p('')
    p('/// Commands.')
    p('pub mod cmd {')
    for i, op in enumerate(spec['operations']['list']):
        p('    /// %s' % ' '.join(op.get('doc', '').split()).replace('<', '\\<'))
        p('    pub const %s: u8 = %d;' % (up(op['name']), i + 1))
    p('}')
    p('')
    p('/// Multicast group names.')
    p('pub mod mcgrp {')
    for g in spec.get('mcast-groups', {}).get('list', []):
        p('    pub const %s: &str = "%s";' % (up(g['name']), g['name']))
    p('}')
    with open(out_path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(o) + '\n')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
